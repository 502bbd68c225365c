package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"io/fs"
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

Measures hashing speed on the image files at PATH (a file or a folder),
read into memory first so that disk speed does not count:

  images_per_cpu_second   whole pipeline (digests, header, decode, PDQ) on
                          one goroutine, divided by the process's CPU time
                          (user + system, from getrusage, so garbage
                          collection counts)
  hash_stage_per_second   PDQ alone from already decoded pixels, on one
                          goroutine, by wall time
  images_per_second_all_cores  the whole pipeline on every core, wall time

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
	HashStagePerSecond     float64 `json:"hash_stage_per_second"`
	HashStagePerCPUSecond  float64 `json:"hash_stage_per_cpu_second"`
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
	fset.Usage = func() {
		fmt.Fprintln(env.Stderr, benchHashUsage)
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: 2, err: errors.New("")}
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
			hashing.HashBytes(f, opts)
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
	res.HashStagePerSecond = float64(res.HashStageImages) / wall
	res.HashStagePerCPUSecond = float64(res.HashStageImages) / (cpuTime() - cpu0).Seconds()
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
				hashing.HashBytes(files[i%len(files)], opts)
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
	fmt.Fprintf(env.Stdout, "hash stage alone, 1 goroutine: %.1f images/s (%.1f per CPU-second)\n",
		res.HashStagePerSecond, res.HashStagePerCPUSecond)
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
