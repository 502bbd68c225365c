package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/pdq"
)

const benchHashUsage = `Usage: vigil bench hash [flags] PATH
       vigil bench hash --generate DIR [--count N] [--seed S]

Measures hashing speed on the image files at PATH (a file or a folder),
read into memory first so that disk speed does not count. Every figure is
per CPU-second of this process (user + system time from getrusage, so
garbage collection and any helper threads count), on one goroutine:

  images_per_cpu_second       whole pipeline: digests, header, decode, PDQ
  hash_stage_per_cpu_second   PDQ alone from already decoded pixels
  (hash_stage_per_second is the same figure; the wall-clock rates are
  printed too, as *_wall_per_second and images_per_second_all_cores)

With --generate, writes N benign synthetic photo-like 1024×768 JPEGs
(quality 90, 4:2:0; gradients, soft shapes, ripples and noise from a seeded
generator, so the files are the same on every run) into DIR and exits, so
that the figures can be reproduced without any corpus:

  vigil bench hash --generate /tmp/photos --count 50
  vigil bench hash /tmp/photos

Flags:`

// benchHashResult is what `vigil bench hash --json` prints.
type benchHashResult struct {
	Files                  int     `json:"files"`
	Bytes                  int64   `json:"bytes"`
	MeanPixels             float64 `json:"mean_pixels"`
	JPEGDecoder            string  `json:"jpeg_decoder"`
	Dihedral               bool    `json:"dihedral"`
	Images                 int     `json:"images"`
	CPUSeconds             float64 `json:"cpu_seconds"`
	ImagesPerCPUSecond     float64 `json:"images_per_cpu_second"`
	ImagesPerSecondOneCore float64 `json:"images_per_second_one_core"`
	HashStageImages        int     `json:"hash_stage_images"`
	HashStageCPUSeconds    float64 `json:"hash_stage_cpu_seconds"`
	// HashStagePerSecond is per CPU-second, like HashStagePerCPUSecond
	// (kept under both names); HashStageWallPerSecond is by wall time.
	HashStagePerSecond     float64 `json:"hash_stage_per_second"`
	HashStagePerCPUSecond  float64 `json:"hash_stage_per_cpu_second"`
	HashStageWallPerSecond float64 `json:"hash_stage_wall_per_second"`
	ImagesPerSecondAll     float64 `json:"images_per_second_all_cores"`
	Cores                  int     `json:"cores"`
	Failed                 int     `json:"failed"`
}

func runBenchHash(ctx context.Context, env *Env, args []string) error {
	fset := flag.NewFlagSet("bench hash", flag.ContinueOnError)
	fset.SetOutput(env.Stderr)
	asJSON := fset.Bool("json", false, "print one JSON object")
	seconds := fset.Float64("seconds", 3, "minimum duration of each measurement")
	dihedral := fset.Bool("dihedral", false, "also compute the dihedral hashes")
	maxFiles := fset.Int("max-files", 500, "use at most this many files")
	generate := fset.String("generate", "", "write synthetic 1024×768 JPEG photos into this `folder` and exit")
	genCount := fset.Int("count", 50, "how many photos --generate writes")
	seed := fset.Uint64("seed", 1, "seed of the photos --generate writes")
	fset.Usage = func() {
		fmt.Fprintln(env.Stderr, benchHashUsage)
		fset.PrintDefaults()
	}
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if *generate != "" {
		if fset.NArg() != 0 || *genCount < 1 {
			fset.Usage()
			return &exitError{code: 2, err: errors.New("bench hash: --generate takes a folder and a --count of at least 1, and no PATH")}
		}
		if err := generateBenchPhotos(*generate, *genCount, 1024, 768, *seed); err != nil {
			return fmt.Errorf("bench hash: %w", err)
		}
		fmt.Fprintf(env.Stderr, "wrote %d photos of 1024×768 to %s\n", *genCount, *generate)
		return nil
	}
	if fset.NArg() != 1 {
		fset.Usage()
		return &exitError{code: 2, err: errors.New("bench hash: give one file or folder")}
	}
	files, err := loadBenchFiles(fset.Arg(0), *maxFiles)
	if err != nil {
		return fmt.Errorf("bench hash: %w", err)
	}
	opts := hashing.Options{Dihedral: *dihedral}
	dur := time.Duration(*seconds * float64(time.Second))
	res := benchHashResult{Files: len(files), JPEGDecoder: hashing.JPEGDecoder, Dihedral: *dihedral, Cores: runtime.GOMAXPROCS(0)}

	// Which files decode; their decoded pixels feed the hash-stage timing.
	var imgs []image.Image
	var pixels float64
	for _, f := range files {
		res.Bytes += int64(len(f))
		if r, err := hashing.HashBytes(f, opts); err != nil {
			res.Failed++
		} else {
			pixels += float64(r.Width) * float64(r.Height)
		}
	}
	if res.Failed == len(files) {
		return fmt.Errorf("bench hash: none of the %d files could be hashed", len(files))
	}
	res.MeanPixels = pixels / float64(len(files)-res.Failed)

	// 1. Whole pipeline, one goroutine, CPU time.
	runtime.GC()
	cpu0, wall0 := cpuTime(), time.Now()
	for res.Images == 0 || time.Since(wall0) < dur {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, f := range files {
			// Failures are counted above; the time of refusing a bad
			// file is part of the pipeline's cost.
			_, _ = hashing.HashBytes(f, opts)
			res.Images++
		}
	}
	wall := time.Since(wall0).Seconds()
	res.CPUSeconds = (cpuTime() - cpu0).Seconds()
	res.ImagesPerCPUSecond = float64(res.Images) / res.CPUSeconds
	res.ImagesPerSecondOneCore = float64(res.Images) / wall

	// 2. Hash stage alone, from decoded pixels (at most 64 kept in memory).
	for _, f := range files {
		if len(imgs) == 64 {
			break
		}
		if img, _, err := hashing.DecodeImage(f, opts); err == nil {
			imgs = append(imgs, img)
		}
	}
	runtime.GC()
	cpu0, wall0 = cpuTime(), time.Now()
	for res.HashStageImages == 0 || time.Since(wall0) < dur {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, img := range imgs {
			if *dihedral {
				pdq.FromImageDihedral(img)
			} else {
				pdq.FromImage(img)
			}
			res.HashStageImages++
		}
	}
	wall = time.Since(wall0).Seconds()
	res.HashStageCPUSeconds = (cpuTime() - cpu0).Seconds()
	res.HashStagePerCPUSecond = float64(res.HashStageImages) / res.HashStageCPUSeconds
	res.HashStagePerSecond = res.HashStagePerCPUSecond
	res.HashStageWallPerSecond = float64(res.HashStageImages) / wall
	imgs = nil

	// 3. Whole pipeline on every core.
	runtime.GC()
	var count atomic.Int64
	wall0 = time.Now()
	var wg sync.WaitGroup
	for w := 0; w < res.Cores; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; time.Since(wall0) < dur && ctx.Err() == nil; i++ {
				_, _ = hashing.HashBytes(files[i%len(files)], opts) // as above
				count.Add(1)
			}
		}(w)
	}
	wg.Wait()
	res.ImagesPerSecondAll = float64(count.Load()) / time.Since(wall0).Seconds()

	if *asJSON {
		return writeJSONLine(env.Stdout, res)
	}
	fmt.Fprintf(env.Stdout, "files: %d (%d failed), %.1f MB, mean %.2f megapixels, JPEG decoder: %s\n",
		res.Files, res.Failed, float64(res.Bytes)/1e6, res.MeanPixels/1e6, res.JPEGDecoder)
	fmt.Fprintf(env.Stdout, "whole pipeline, 1 goroutine: %.1f images per CPU-second (%.1f/s wall)\n",
		res.ImagesPerCPUSecond, res.ImagesPerSecondOneCore)
	fmt.Fprintf(env.Stdout, "hash stage alone, 1 goroutine: %.1f images per CPU-second (%.1f/s wall)\n",
		res.HashStagePerCPUSecond, res.HashStageWallPerSecond)
	fmt.Fprintf(env.Stdout, "whole pipeline, %d cores: %.1f images/s\n", res.Cores, res.ImagesPerSecondAll)
	return nil
}

// loadBenchFiles reads up to max files from path (a file or a folder).
func loadBenchFiles(path string, max int) ([][]byte, error) {
	var files [][]byte
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || len(files) >= max {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, b)
		return nil
	})
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no files in %s", path)
	}
	return files, err
}

// cpuTime is the CPU time (user + system) this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// generateBenchPhotos writes count benign synthetic photo-like JPEGs of
// w×h pixels (quality 90, 4:2:0 as Go's encoder writes colour) into dir,
// named photo-0000.jpg …, deterministically from seed: a sky-to-ground
// gradient, soft-edged discs and rectangles, a few long-wavelength ripples
// for texture, and per-pixel sensor-like noise.
func generateBenchPhotos(dir string, count, w, h int, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	var buf bytes.Buffer
	for i := 0; i < count; i++ {
		syntheticPhoto(img, rand.New(rand.NewPCG(seed, uint64(i))))
		buf.Reset()
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("photo-%04d.jpg", i)), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// syntheticPhoto paints a photo-like scene into m.
func syntheticPhoto(m *image.RGBA, r *rand.Rand) {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	type shape struct {
		disc           bool
		cx, cy, rx, ry float64
		col            [3]float64
		soft, alpha    float64
	}
	rnd := func(lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }
	col := func() [3]float64 { return [3]float64{rnd(0, 255), rnd(0, 255), rnd(0, 255)} }
	top, horizon, ground := col(), col(), col()
	hy := rnd(0.3, 0.7) * float64(h)
	shapes := make([]shape, 3+r.IntN(8))
	for k := range shapes {
		shapes[k] = shape{
			disc: r.IntN(2) == 0,
			cx:   rnd(0, float64(w)), cy: rnd(0, float64(h)),
			rx: rnd(0.03, 0.25) * float64(w), ry: rnd(0.03, 0.25) * float64(h),
			col: col(), soft: rnd(1, 12), alpha: rnd(0.5, 1),
		}
	}
	var ripple [3]struct{ fx, fy, ph, amp float64 }
	for k := range ripple {
		ripple[k].fx, ripple[k].fy = rnd(-0.05, 0.05), rnd(-0.05, 0.05)
		ripple[k].ph, ripple[k].amp = rnd(0, 2*math.Pi), rnd(2, 12)
	}
	noise := rnd(2, 10)
	for y := 0; y < h; y++ {
		// Vertical gradient: sky towards the horizon, then ground.
		var base [3]float64
		if fy := float64(y); fy < hy {
			t := fy / hy
			for c := range base {
				base[c] = top[c] + (horizon[c]-top[c])*t
			}
		} else {
			t := (fy - hy) / (float64(h) - hy)
			for c := range base {
				base[c] = horizon[c] + (ground[c]-horizon[c])*t
			}
		}
		for x := 0; x < w; x++ {
			p := base
			fx, fy := float64(x), float64(y)
			for _, s := range shapes {
				dx, dy := (fx-s.cx)/s.rx, (fy-s.cy)/s.ry
				var d float64 // signed distance in pixels, roughly
				if s.disc {
					d = (math.Sqrt(dx*dx+dy*dy) - 1) * math.Min(s.rx, s.ry)
				} else {
					d = (math.Max(math.Abs(dx), math.Abs(dy)) - 1) * math.Min(s.rx, s.ry)
				}
				if d < s.soft {
					a := s.alpha
					if d > 0 {
						a *= 1 - d/s.soft
					}
					for c := range p {
						p[c] += (s.col[c] - p[c]) * a
					}
				}
			}
			var t float64
			for _, q := range ripple {
				t += q.amp * math.Sin(q.fx*fx+q.fy*fy+q.ph)
			}
			n := r.NormFloat64() * noise
			o := m.PixOffset(x+b.Min.X, y+b.Min.Y)
			for c := range p {
				m.Pix[o+c] = clamp8(p[c] + t + n + r.NormFloat64()*noise/3)
			}
			m.Pix[o+3] = 0xff
		}
	}
}

func clamp8(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}
