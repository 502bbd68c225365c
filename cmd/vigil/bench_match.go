package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/vigil-hotline/vigil/internal/index"
	"github.com/vigil-hotline/vigil/internal/pdq"
)

// benchMatchResult is what `vigil bench match --json` prints.
type benchMatchResult struct {
	N             int     `json:"n"`
	Data          string  `json:"data"`
	Threshold     int     `json:"threshold"`
	Queries       int     `json:"queries"`
	Seed          uint64  `json:"seed"`
	BuildSeconds  float64 `json:"build_seconds"`
	BytesPerEntry float64 `json:"bytes_per_entry"`
	QPSOneCore    float64 `json:"qps_one_core"`
	QPSAllCores   float64 `json:"qps_all_cores"`
	Cores         int     `json:"cores"`
	Recall        float64 `json:"recall"`
	// RecallQueries is how many queries were checked against brute force
	// (all of them up to 1M entries, a sample above); Neighbours is how many
	// true neighbours those had, Missed and Extra the differences found.
	RecallQueries   int     `json:"recall_queries"`
	RecallSampled   bool    `json:"recall_sampled"`
	Neighbours      int     `json:"neighbours"`
	Missed          int     `json:"missed"`
	Extra           int     `json:"extra"`
	MatchesPerQuery float64 `json:"matches_per_query"`
	// The index written with its tables (as the matcher's snapshot holds
	// it) and read back from the file: start-up without rebuilding.
	SnapshotWriteSeconds float64 `json:"snapshot_write_seconds"`
	SnapshotReadSeconds  float64 `json:"snapshot_read_seconds"`
	// SnapshotReadCPUSeconds is the CPU time (user and system) the read
	// took: on a busy machine the wall-clock time mostly measures the wait.
	SnapshotReadCPUSeconds float64 `json:"snapshot_read_cpu_seconds"`
	SnapshotBytes          int64   `json:"snapshot_bytes"`
}

func runBenchMatch(ctx context.Context, env *Env, args []string) error {
	fs := flag.NewFlagSet("bench match", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	n := fs.Int("n", 1_000_000, "number of indexed hashes")
	queries := fs.Int("queries", 10_000, "number of queries: half near-duplicates (0-24 bits), half unrelated")
	threshold := fs.Int("threshold", 31, "match distance, inclusive (0-256)")
	data := fs.String("data", "uniform", "indexed hashes: uniform (random) or clustered (families of near-duplicates)")
	seed := fs.Uint64("seed", 1, "random seed")
	asJSON := fs.Bool("json", false, "print one JSON object")
	bruteQ := fs.Int("brute-queries", 0, "queries checked against brute force (0: all up to 1M entries, else 500)")
	minSec := fs.Float64("min-seconds", 0.5, "repeat the query set until each timing lasts this long")
	fs.Usage = func() {
		fmt.Fprintln(env.Stderr, "Usage: vigil bench match [flags]\n\nQueries per second of the PDQ match index on synthetic hashes.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return &exitError{code: 2, err: fmt.Errorf("bench match: unexpected argument %q", fs.Arg(0))}
	case *n < 1:
		return &exitError{code: 2, err: errors.New("bench match: --n must be at least 1")}
	case *queries < 1:
		return &exitError{code: 2, err: errors.New("bench match: --queries must be at least 1")}
	case *threshold < 0 || *threshold > 256:
		return &exitError{code: 2, err: errors.New("bench match: --threshold must be 0-256")}
	case *data != "uniform" && *data != "clustered":
		return &exitError{code: 2, err: fmt.Errorf("bench match: --data must be uniform or clustered, not %q", *data)}
	}
	res := benchMatchResult{N: *n, Data: *data, Threshold: *threshold, Queries: *queries, Seed: *seed, Cores: runtime.NumCPU()}
	progress := func(format string, a ...any) {
		if !*asJSON {
			fmt.Fprintf(env.Stderr, format+"\n", a...)
		}
	}

	progress("generating %d %s hashes", *n, *data)
	hashes := genHashes(*n, *data, *seed)
	qs := genQueries(hashes, *queries, *seed)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bench match: %w", err)
	}

	progress("building the index")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	b := index.NewBuilder(len(hashes), index.Options{})
	for i := range hashes {
		b.Add(int64(i), hashes[i])
	}
	x, err := b.Build()
	if err != nil {
		return fmt.Errorf("bench match: %w", err)
	}
	res.BuildSeconds = time.Since(start).Seconds()
	runtime.GC()
	runtime.ReadMemStats(&after)
	res.BytesPerEntry = (float64(after.HeapInuse) - float64(before.HeapInuse)) / float64(*n)

	progress("querying on one core")
	got := make([][]index.Match, len(qs))
	matches := 0
	elapsed, rounds := timeRounds(*minSec, func() {
		for i := range qs {
			got[i] = x.Search(qs[i], *threshold)
		}
	})
	for i := range got {
		matches += len(got[i])
	}
	res.QPSOneCore = float64(len(qs)*rounds) / elapsed.Seconds()
	res.MatchesPerQuery = float64(matches) / float64(len(qs))
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bench match: %w", err)
	}

	progress("querying on %d cores", res.Cores)
	elapsed, rounds = timeRounds(*minSec, func() {
		var wg sync.WaitGroup
		for w := range res.Cores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(qs); i += res.Cores {
					x.Search(qs[i], *threshold)
				}
			}()
		}
		wg.Wait()
	})
	res.QPSAllCores = float64(len(qs)*rounds) / elapsed.Seconds()

	sample := *bruteQ
	if sample <= 0 {
		sample = len(qs)
		if *n > 1_000_000 {
			sample = 500
		}
	}
	sample = min(sample, len(qs))
	res.RecallQueries, res.RecallSampled = sample, sample < len(qs)
	progress("checking %d queries against brute force", sample)
	checkRecall(&res, hashes, qs, got, sample, *threshold)

	// Last, so that the index it reads back is the only one in memory, as
	// at a process's start.
	progress("writing the index with its tables, and reading it back")
	if err := benchIndexSnapshot(x, &res); err != nil {
		return fmt.Errorf("bench match: %w", err)
	}

	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		return enc.Encode(res)
	}
	w := env.Stdout
	fmt.Fprintf(w, "index of %d %s PDQ hashes, threshold %d, %d queries (half near-duplicates)\n", res.N, res.Data, res.Threshold, res.Queries)
	fmt.Fprintf(w, "build            %.2f s\n", res.BuildSeconds)
	fmt.Fprintf(w, "memory           %.1f bytes/entry\n", res.BytesPerEntry)
	fmt.Fprintf(w, "one core         %.0f queries/s\n", res.QPSOneCore)
	fmt.Fprintf(w, "%d cores          %.0f queries/s\n", res.Cores, res.QPSAllCores)
	fmt.Fprintf(w, "matches/query    %.2f\n", res.MatchesPerQuery)
	how := "all queries"
	if res.RecallSampled {
		how = fmt.Sprintf("a sample of %d queries", res.RecallQueries)
	}
	fmt.Fprintf(w, "recall           %.6f (brute force on %s: %d neighbours, %d missed, %d extra)\n", res.Recall, how, res.Neighbours, res.Missed, res.Extra)
	return nil
}

// timeRounds runs f until minSec have passed (at least once).
func timeRounds(minSec float64, f func()) (time.Duration, int) {
	start := time.Now()
	rounds := 0
	for {
		f()
		rounds++
		if el := time.Since(start); el.Seconds() >= minSec {
			return el, rounds
		}
	}
}

// checkRecall compares the index's answers for an evenly spread sample of
// queries with brute force over all the hashes (IDs are positions).
func checkRecall(res *benchMatchResult, hashes, qs []pdq.Hash, got [][]index.Match, sample, threshold int) {
	picked := make([]int, sample)
	sq := make([]pdq.Hash, sample)
	for i := range picked {
		picked[i] = i * len(qs) / sample
		sq[i] = qs[picked[i]]
	}
	truth := make([][]int, sample)
	workers := runtime.NumCPU()
	var wg sync.WaitGroup
	chunk := (sample + workers - 1) / workers
	for lo := 0; lo < sample; lo += chunk {
		hi := min(lo+chunk, sample)
		wg.Add(1)
		go func() {
			defer wg.Done()
			copy(truth[lo:hi], index.BruteSearchMany(hashes, sq[lo:hi], threshold))
		}()
	}
	wg.Wait()
	for i, q := range picked {
		want := make(map[int64]int, len(truth[i]))
		for _, p := range truth[i] {
			want[int64(p)] = pdq.Distance(hashes[p], qs[q])
		}
		res.Neighbours += len(want)
		found := 0
		for _, m := range got[q] {
			if d, ok := want[m.ID]; ok && d == m.Distance {
				found++
			} else {
				res.Extra++
			}
		}
		res.Missed += len(want) - found
	}
	res.Recall = 1
	if res.Neighbours > 0 {
		res.Recall = float64(res.Neighbours-res.Missed) / float64(res.Neighbours)
	}
}

// genHashes makes n synthetic hashes in parallel chunks, each with its own
// generator so that the output depends only on the seed.
func genHashes(n int, data string, seed uint64) []pdq.Hash {
	hs := make([]pdq.Hash, n)
	const chunk = 1 << 16
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			rng := rand.New(rand.NewPCG(seed, uint64(lo)))
			part := hs[lo:hi]
			if data == "uniform" {
				for i := range part {
					part[i] = randomHash(rng)
				}
				return
			}
			// Families of 1-20 near-duplicates within 0-30 bits of a root,
			// as real lists hold edits of one image.
			for i := 0; i < len(part); {
				root := randomHash(rng)
				for k := 1 + rng.IntN(20); k > 0 && i < len(part); k-- {
					part[i] = flipBits(rng, root, rng.IntN(31))
					i++
				}
			}
		}()
	}
	wg.Wait()
	return hs
}

// genQueries: even positions are near-duplicates (0-24 bits) of indexed
// hashes, odd ones unrelated random hashes.
func genQueries(hs []pdq.Hash, q int, seed uint64) []pdq.Hash {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	out := make([]pdq.Hash, q)
	for i := range out {
		if i%2 == 0 {
			out[i] = flipBits(rng, hs[rng.IntN(len(hs))], rng.IntN(25))
		} else {
			out[i] = randomHash(rng)
		}
	}
	return out
}

func randomHash(rng *rand.Rand) pdq.Hash {
	return pdq.Hash{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
}

// flipBits flips k distinct random bits of h.
func flipBits(rng *rand.Rand, h pdq.Hash, k int) pdq.Hash {
	var done pdq.Hash
	for k > 0 {
		b := rng.IntN(256)
		if done[b>>6]&(1<<(b&63)) != 0 {
			continue
		}
		done[b>>6] |= 1 << (b & 63)
		h[b>>6] ^= 1 << (b & 63)
		k--
	}
	return h
}

// benchIndexSnapshot times writing x with its tables to a file and reading
// it back (after dropping what it can of the first copy from the heap).
func benchIndexSnapshot(x *index.PDQ, res *benchMatchResult) (err error) {
	f, err := os.CreateTemp("", "vigil-bench-index-")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, os.Remove(f.Name())) }()
	start := time.Now()
	n, err := x.WriteTablesTo(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	res.SnapshotWriteSeconds, res.SnapshotBytes = time.Since(start).Seconds(), n
	want := x.Len()
	x = nil //nolint:ineffassign // the index written goes, as a new process has none
	runtime.GC()
	start, cpu0 := time.Now(), cpuSeconds()
	r, err := os.Open(f.Name())
	if err != nil {
		return err
	}
	defer r.Close()
	y, err := index.ReadPDQTables(bufio.NewReaderSize(r, 1<<20), index.Options{})
	if err != nil {
		return err
	}
	res.SnapshotReadSeconds, res.SnapshotReadCPUSeconds = time.Since(start).Seconds(), cpuSeconds()-cpu0
	if y.Len() != want {
		return fmt.Errorf("the index read back holds %d entries, not %d", y.Len(), want)
	}
	return nil
}
