package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/bankfile"
)

const bankVideoUsage = `       vigil bank import-video BANK FILE... [--classification C]
       vigil bank export-video BANK [--dir DIR]
       vigil bank video-threshold BANK P_Q P_C`

// maxVideoFile bounds one video hash file (reference text or TE JSON).
const maxVideoFile = 32 << 20

// runBankImportVideo imports videos' vPDQ hashes: a reference text file
// (.txt) or ThreatExchange JSON (.json) per video, or JSON lines (.jsonl)
// with many.
func runBankImportVideo(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bank import-video", `Usage: vigil bank import-video BANK FILE... [--classification C]
FILE is one video's vPDQ hash, in the reference's "frame,quality,pdq,timestamp"
lines (.txt) or ThreatExchange's JSON (.json), or JSON lines (.jsonl) of
{"vpdq": [{"frame","quality","pdq","timestamp"}, …], "classification", "note"}.`)
	cfg := storeFlags(fs, env)
	class := fs.String("classification", "", "classification for videos that have none")
	pos, err := interleave(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usageError("bank import-video: give BANK and at least one FILE")
	}
	vocab, err := vigil.ParseVocabulary(env.Getenv("VIGIL_CLASSIFICATIONS"))
	if err != nil {
		return usageError("VIGIL_CLASSIFICATIONS: %s", vigil.ErrorMessage(err))
	}
	db, b, err := openBank(ctx, env, cfg, pos[0])
	if err != nil {
		return err
	}
	defer db.Close()
	added, bad := 0, 0
	add := func(e *vigil.BankEntry, from string) error {
		if e.Classification == "" {
			e.Classification = *class
		}
		e.AddedFrom = from
		if err := e.Validate(vocab); err != nil {
			return err
		}
		n, err := db.AddBankEntries(ctx, b.ID, []*vigil.BankEntry{e})
		added += n
		return err
	}
	for _, path := range pos[1:] {
		from := "file:" + filepath.Base(path)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		if strings.EqualFold(filepath.Ext(path), ".jsonl") || strings.EqualFold(filepath.Ext(path), ".ndjson") {
			err = bankfile.VideoLines(f, func(e *vigil.BankEntry) error {
				if err := add(e, from); err != nil && vigil.ErrorCode(err) == vigil.EINVALID {
					fmt.Fprintf(env.Stderr, "vigil bank import-video: %s: %s\n", path, vigil.ErrorMessage(err))
					bad++
					return nil
				} else {
					return err
				}
			}, func(le *bankfile.LineError) {
				fmt.Fprintf(env.Stderr, "vigil bank import-video: %s: %v\n", path, le)
				bad++
			})
		} else {
			var frames []vigil.VideoFrame
			if frames, err = bankfile.ReadVideoFile(f, maxVideoFile); err == nil {
				err = add(&vigil.BankEntry{Signal: vigil.SignalVPDQ, Frames: frames}, from)
			}
			if err != nil && vigil.ErrorCode(err) == vigil.EINVALID {
				fmt.Fprintf(env.Stderr, "vigil bank import-video: %s: %s\n", path, vigil.ErrorMessage(err))
				bad, err = bad+1, nil
			}
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("bank import-video: %s: %w", path, err)
		}
	}
	fmt.Fprintf(env.Stdout, "bank %s: %d videos added, %d bad\n", b.Name, added, bad)
	if bad > 0 {
		return &exitError{code: 1, err: fmt.Errorf("bank import-video: %d bad files or lines", bad)}
	}
	return nil
}

// runBankExportVideo writes a bank's videos as JSON lines, or one
// reference text file per video into a folder.
func runBankExportVideo(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bank export-video", "Usage: vigil bank export-video BANK [--dir DIR]   (JSON lines to standard output, or DIR/DIGEST.txt per video)")
	cfg := storeFlags(fs, env)
	dir := fs.String("dir", "", "write one reference text file per video into this folder")
	pos, err := interleave(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("bank export-video: give one BANK")
	}
	db, b, err := openBank(ctx, env, cfg, pos[0])
	if err != nil {
		return err
	}
	defer db.Close()
	if b.Source == vigil.SourceVictim {
		return usageError("bank export-video: the bank %s cannot be exported: its entries are only ever matched", b.Name)
	}
	for after := int64(0); ; {
		page, err := db.BankEntries(ctx, b.ID, after, 1000)
		if err != nil {
			return err
		}
		for _, e := range page {
			if e.Signal != vigil.SignalVPDQ {
				continue
			}
			if *dir != "" {
				err = os.WriteFile(filepath.Join(*dir, e.Value+".txt"), []byte(vigil.FormatVideoFrames(e.Frames)), 0o600)
			} else {
				err = bankfile.WriteVideoLine(env.Stdout, e)
			}
			if err != nil {
				return fmt.Errorf("bank export-video: %w", err)
			}
		}
		if len(page) < 1000 {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// runBankVideoThreshold sets a bank's vPDQ thresholds P_q and P_c.
func runBankVideoThreshold(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bank video-threshold", `Usage: vigil bank video-threshold BANK P_Q P_C
A video matches a known video of BANK when at least P_Q percent of its
frames are found in the known video, and P_C percent of the known video's
frames in it (defaults 80 and 0: a clip of a known video is known).`)
	cfg := storeFlags(fs, env)
	pos, err := interleave(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 3 {
		return usageError("bank video-threshold: give BANK, P_Q and P_C")
	}
	q, err1 := strconv.ParseFloat(pos[1], 64)
	c, err2 := strconv.ParseFloat(pos[2], 64)
	if err1 != nil || err2 != nil {
		return usageError("bank video-threshold: P_Q and P_C are percentages")
	}
	if err := vigil.ValidateVideoThresholds(q, c); err != nil {
		return usageError("bank video-threshold: %s", vigil.ErrorMessage(err))
	}
	db, b, err := openBank(ctx, env, cfg, pos[0])
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.SetBankVideoThresholds(ctx, b.ID, q, c); err != nil {
		return domainError(err)
	}
	fmt.Fprintf(env.Stdout, "bank %s: video thresholds P_q %g%%, P_c %g%%\n", b.Name, q, c)
	return nil
}
