package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/progress"
)

const hashUsage = `Usage: vigil hash [flags] PATH...

Hashes image files, and every file under each folder (recursively), with
PDQ, MD5, SHA-1 and SHA-256. Output is in the order of the walk: one JSON
object per line with path, pdq, quality, md5, sha1, sha256, format, width,
height (and dihedral: the eight hashes orig, rot90, rot180, rot270, flipx,
flipy, flip+1, flip-1). A file that cannot be hashed gets a line with path and
error, plus its digests when it could be read; the command goes on and exits
with status 1 at the end. --format reference prints the reference CLI's
"hash,quality,path" lines instead, and reports failures on stderr only.

Videos (found from their leading bytes) are hashed with vPDQ through
ffmpeg: one frame every --video-interval seconds (0: every frame), each
with its PDQ hash, quality and time. Their JSON line carries "vpdq":
[{"frame", "quality", "pdq", "timestamp"}, …] beside the digests, and
--format reference prints the reference's "frame,quality,pdq,timestamp"
lines. Without ffmpeg, videos get their digests and an error.

Flags:`

// hashLine is one line of `vigil hash` JSON output.
type hashLine struct {
	Path     string   `json:"path"`
	PDQ      string   `json:"pdq,omitempty"`
	Quality  *int     `json:"quality,omitempty"` // pointer: 0 is a valid quality
	Dihedral []string `json:"dihedral,omitempty"`
	MD5      string   `json:"md5,omitempty"`
	SHA1     string   `json:"sha1,omitempty"`
	SHA256   string   `json:"sha256,omitempty"`
	Format   string   `json:"format,omitempty"`
	Width    int      `json:"width,omitempty"`
	Height   int      `json:"height,omitempty"`
	// Videos: the vPDQ frames and the header's duration in seconds.
	VPDQ     []vigil.VideoFrame `json:"vpdq,omitempty"`
	Duration float64            `json:"duration,omitempty"`
	Error    string             `json:"error,omitempty"`
}

// hashJob is one file to hash, numbered in walk order.
type hashJob struct {
	seq  int
	path string
	err  error // a walk error: reported without hashing
}

type hashDone struct {
	hashJob
	res   hashing.Result
	video *videoResult
}

func runHash(ctx context.Context, env *Env, args []string) error {
	fset := flag.NewFlagSet("hash", flag.ContinueOnError)
	fset.SetOutput(env.Stderr)
	dihedral := fset.Bool("dihedral", false, "also print the eight dihedral hashes (rotations and flips)")
	format := fset.String("format", "json", "output: json (one object per line) or reference (hash,quality,path)")
	maxPixels := fset.Int64("max-pixels", hashing.DefaultMaxPixels, "refuse images whose header declares more pixels")
	maxBytes := fset.Int64("max-bytes", hashing.DefaultMaxBytes, "refuse files longer than this")
	workers := fset.Int("workers", runtime.GOMAXPROCS(0), "files hashed at once")
	var vf videoFlags
	fset.Float64Var(&vf.interval, "video-interval", 1, "seconds between the video frames hashed (0: every frame)")
	fset.StringVar(&vf.size, "video-size", "", "WIDTHxHEIGHT: scale video frames to this size before hashing (default: the video's own)")
	fset.Usage = func() {
		fmt.Fprintln(env.Stderr, hashUsage)
		fset.PrintDefaults()
	}
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if *format != "json" && *format != "reference" {
		return &exitError{code: 2, err: fmt.Errorf("hash: --format is json or reference, not %q", *format)}
	}
	if fset.NArg() == 0 {
		fset.Usage()
		return &exitError{code: 2, err: errors.New("hash: no files or folders given")}
	}
	if *workers < 1 {
		*workers = 1
	}
	opts := hashing.Options{MaxBytes: *maxBytes, MaxPixels: *maxPixels, Dihedral: *dihedral}
	if vf.interval < 0 {
		return &exitError{code: 2, err: errors.New("hash: --video-interval is 0 (every frame) or more seconds")}
	}
	if _, _, err := parseVideoSize(vf.size); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("hash: %w", err)}
	}
	vh, noVideo := vf.hasher()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bar := progress.New(env.Stderr, "hashing", 0, env.IsTerminal)

	jobs := make(chan hashJob, 4**workers)
	go func() {
		defer close(jobs)
		n := walkHashPaths(ctx, fset.Args(), jobs)
		bar.SetTotal(int64(n))
	}()

	done := make(chan hashDone, 4**workers)
	var wg sync.WaitGroup
	for i := 0; i < *workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					return
				}
				d := hashDone{hashJob: j}
				switch {
				case j.err != nil:
				case isVideoFile(j.path):
					d.video, d.err = hashVideoFile(ctx, vh, noVideo, j.path)
				default:
					d.res, d.err = hashing.HashFile(j.path, opts)
				}
				select {
				case done <- d:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(done)
	}()

	// Print in walk order: hold results that arrive early.
	pending := map[int]hashDone{}
	next, failed, n := 0, 0, 0
	var werr error
	for d := range done {
		pending[d.seq] = d
		for {
			d, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			n++
			if d.err != nil {
				failed++
			}
			if werr == nil {
				bar.Clear()
				werr = writeHashLine(env, *format, d)
				if werr != nil {
					cancel() // e.g. stdout closed: stop hashing
				}
			}
			bar.Add(1)
		}
	}
	bar.Done()
	if err := ctx.Err(); err != nil && werr == nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("hash: writing output: %w", werr)
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("hash: %d of %d files failed", failed, n)}
	}
	return nil
}

// walkHashPaths sends every file under paths, in lexical walk order, and
// returns how many it sent.
func walkHashPaths(ctx context.Context, paths []string, jobs chan<- hashJob) int {
	seq := 0
	send := func(p string, err error) bool {
		select {
		case jobs <- hashJob{seq: seq, path: p, err: err}:
			seq++
			return true
		case <-ctx.Done():
			return false
		}
	}
	for _, root := range paths {
		fi, err := os.Stat(root)
		if err != nil || !fi.IsDir() {
			// A file, or an error reported as this path's line.
			if !send(root, err) {
				return seq
			}
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if !send(p, err) {
					return ctx.Err()
				}
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				// Follow links to files, not to folders (no cycles).
				if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
					return nil
				}
			} else if !d.Type().IsRegular() {
				return nil // sockets, devices, pipes
			}
			if !send(p, nil) {
				return ctx.Err()
			}
			return nil
		})
		if err != nil {
			return seq
		}
	}
	return seq
}

func writeHashLine(env *Env, format string, d hashDone) error {
	if d.video != nil {
		return writeVideoLine(env, format, d)
	}
	if format == "reference" {
		if d.err != nil {
			fmt.Fprintf(env.Stderr, "vigil hash: %s: %v\n", d.path, d.err)
			return nil
		}
		_, err := fmt.Fprintf(env.Stdout, "%s,%d,%s\n", d.res.PDQ, d.res.Quality, d.path)
		return err
	}
	line := hashLine{Path: d.path}
	r := d.res
	if r.Digested {
		// The bytes were read: digests are valid even if decoding failed.
		line.MD5 = hex.EncodeToString(r.MD5[:])
		line.SHA1 = hex.EncodeToString(r.SHA1[:])
		line.SHA256 = hex.EncodeToString(r.SHA256[:])
	}
	line.Format, line.Width, line.Height = string(r.Format), r.Width, r.Height
	if d.err != nil {
		line.Error = d.err.Error()
	} else {
		q := r.Quality
		line.PDQ, line.Quality = r.PDQ.String(), &q
		if r.Dihedral != nil {
			line.Dihedral = make([]string, len(r.Dihedral))
			for i, h := range r.Dihedral {
				line.Dihedral[i] = h.String()
			}
		}
	}
	return writeJSONLine(env.Stdout, line)
}

func writeJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
