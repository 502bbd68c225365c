package index

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTablesRoundTrip: an index of several segments (one with deletions)
// and a tail, written with its tables and read back, answers as brute
// force does; a flipped, torn or empty file is refused.
func TestTablesRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	hs := dataset(rng, 6000, true)
	ids := make([]int64, len(hs))
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	x, ref := build(t, ids, hs, Options{TailSize: 64})
	var more []int64
	for i := range 3000 { // past the tail: compacted into more segments
		id := int64(100000 + i)
		h := randHash(rng)
		if err := x.Add(id, h); err != nil {
			t.Fatal(err)
		}
		_ = ref.Add(id, h)
		more = append(more, id)
	}
	for _, id := range append([]int64{1, 2, 3, 4000}, more[len(more)-3:]...) {
		if err := x.Remove(id); err != nil {
			t.Fatal(err)
		}
		_ = ref.Remove(id)
	}
	var buf bytes.Buffer
	n, err := x.WriteTablesTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTablesTo: %d %v (buffer %d)", n, err, buf.Len())
	}
	y, err := ReadPDQTables(bytes.NewReader(buf.Bytes()), Options{TailSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	if y.Len() != ref.Len() {
		t.Fatalf("Len %d, want %d", y.Len(), ref.Len())
	}
	if segs := y.cur.Load().segs; len(segs) < 2 || len(segs[0].blocks) == 0 {
		t.Errorf("read back %d segments: the test wants several", len(y.cur.Load().segs))
	}
	for _, q := range queries(rng, hs, 40) {
		sameMatches(t, "tables", y.Search(q, 31), ref.Search(q, 31))
	}
	// What was read back takes changes like any index.
	if err := y.Remove(5); err != nil {
		t.Fatal(err)
	}
	_ = ref.Remove(5)
	if err := y.Add(1, hs[0]); err != nil {
		t.Fatal(err)
	}
	_ = ref.Add(1, hs[0])
	sameMatches(t, "tables, changed", y.Search(hs[0], 31), ref.Search(hs[0], 31))

	bad := slices.Clone(buf.Bytes())
	bad[len(bad)/2] ^= 1
	for name, b := range map[string][]byte{"flipped": bad, "truncated": buf.Bytes()[:buf.Len()-50], "empty": nil} {
		if _, err := ReadPDQTables(bytes.NewReader(b), Options{}); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s snapshot: %v", name, err)
		}
	}
}
