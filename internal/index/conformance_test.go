package index

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/conformance"
	"github.com/vigil-hotline/vigil/internal/pdq"
)

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, strings.TrimSpace(sc.Text()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readHashes(t *testing.T, path string) []pdq.Hash {
	t.Helper()
	var hs []pdq.Hash
	for i, l := range readLines(t, path) {
		h, err := pdq.ParseHex(l)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		hs = append(hs, h)
	}
	return hs
}

// TestConformanceNeedlesHaystack reproduces the reference's mih-query output
// at distance 31 and its brute-force table at 64; haystack IDs are 1-based
// line numbers.
func TestConformanceNeedlesHaystack(t *testing.T) {
	dir := conformance.PDQDir(t)
	needles := readHashes(t, filepath.Join(dir, "hashlists", "needles.txt"))
	hay := readHashes(t, filepath.Join(dir, "hashlists", "haystack.txt"))

	// d=31: "needle=HEX" then "d=D,match=HEX,idx=N" lines.
	want31 := map[string]bool{}
	var needle string
	for _, l := range readLines(t, filepath.Join(dir, "expected", "mih-query-needles-haystack-d31.txt")) {
		switch {
		case strings.HasPrefix(l, "needle="):
			needle = strings.TrimPrefix(l, "needle=")
		case strings.HasPrefix(l, "d="):
			var d, idx int
			var match string
			parts := strings.Split(l, ",")
			if len(parts) != 3 {
				t.Fatalf("bad line %q", l)
			}
			d, _ = strconv.Atoi(strings.TrimPrefix(parts[0], "d="))
			match = strings.TrimPrefix(parts[1], "match=")
			idx, _ = strconv.Atoi(strings.TrimPrefix(parts[2], "idx="))
			if hay[idx-1].String() != match {
				t.Fatalf("line %q: haystack line %d is %s", l, idx, hay[idx-1])
			}
			want31[fmt.Sprintf("%s %d %d", needle, idx, d)] = true
		}
	}
	if len(want31) != 250 {
		t.Fatalf("parsed %d expected matches at 31, want 250", len(want31))
	}
	// d=64: needle_line, haystack_line, distance.
	want64 := map[string]bool{}
	for i, l := range readLines(t, filepath.Join(dir, "expected", "brute-needles-haystack-d64.tsv")) {
		if i == 0 || l == "" {
			continue
		}
		f := strings.Split(l, "\t")
		nl, _ := strconv.Atoi(f[0])
		want64[fmt.Sprintf("%s %s %s", needles[nl-1], f[1], f[2])] = true
	}
	if len(want64) != 352 {
		t.Fatalf("parsed %d rows at 64, want 352", len(want64))
	}

	ids := make([]int64, len(hay))
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	for _, opts := range []Options{{}, {blocks: 16, noScan: true}, {blocks: 24, noScan: true}} {
		x, _ := build(t, ids, hay, opts)
		for d, want := range map[int]map[string]bool{31: want31, 64: want64} {
			got := map[string]bool{}
			for _, n := range needles {
				for _, m := range x.Search(n, d) {
					got[fmt.Sprintf("%s %d %d", n, m.ID, m.Distance)] = true
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				for k := range want {
					if !got[k] {
						t.Errorf("blocks=%d d=%d: missing %s", opts.blocks, d, k)
					}
				}
				for k := range got {
					if !want[k] {
						t.Errorf("blocks=%d d=%d: extra %s", opts.blocks, d, k)
					}
				}
			}
		}
	}
}
