package bankfile

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/vigil-hotline/vigil"
)

// Adder is the part of vigil.BankService that an import needs.
type Adder interface {
	AddBankEntries(ctx context.Context, bankID int64, entries []*vigil.BankEntry) (int, error)
}

// ImportOptions say how to import a file.
type ImportOptions struct {
	Options
	// AddedFrom is recorded on every entry (the file's name).
	AddedFrom string
	// Strict stops at the first bad line. Batches committed before it
	// stay: importing the corrected file again adds only the rest.
	Strict bool
	// BatchSize is the number of entries per transaction (default 5000).
	BatchSize int
	// MaxBadLines bounds the bad lines kept in Stats (default 100); all
	// are counted.
	MaxBadLines int
	// Progress, when set, is called after each batch.
	Progress func(Stats)
}

// Stats count what an import did.
type Stats struct {
	// Rows counts records read, good and bad.
	Rows int64
	// Added counts new entries; Duplicates good records the bank held
	// already (or that the file repeats).
	Added, Duplicates int64
	Bad               int64
	// BadLines holds the first MaxBadLines bad lines.
	BadLines []*LineError
	// Unknown counts the records of each label kept although neither
	// mapped nor in the vocabulary (Options.KeepUnknown).
	Unknown map[string]int64
}

// Import streams records from r into a bank in batches. Memory is bounded
// by the batch size, whatever the size of the file.
func Import(ctx context.Context, svc Adder, bankID int64, r io.Reader, opts ImportOptions) (Stats, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 5000
	}
	if opts.MaxBadLines <= 0 {
		opts.MaxBadLines = 100
	}
	var st Stats
	rd, err := NewReader(r, opts.Options)
	if err != nil {
		return st, err
	}
	store := make([]vigil.BankEntry, opts.BatchSize)
	batch := make([]*vigil.BankEntry, 0, opts.BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := svc.AddBankEntries(ctx, bankID, batch)
		if err != nil {
			return fmt.Errorf("import: adding the entries before line %d: %w", st.Rows+1, err)
		}
		st.Added += int64(n)
		st.Duplicates += int64(len(batch) - n)
		batch = batch[:0]
		if opts.Progress != nil {
			opts.Progress(st)
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			st.Rows++
			st.Bad++
			if len(st.BadLines) < opts.MaxBadLines {
				st.BadLines = append(st.BadLines, le)
			}
			if opts.Strict {
				return st, fmt.Errorf("import stopped (--strict): %w", le)
			}
			continue
		}
		if err != nil {
			return st, fmt.Errorf("import: reading: %w", err)
		}
		st.Rows++
		if rec.Unknown {
			if st.Unknown == nil {
				st.Unknown = map[string]int64{}
			}
			st.Unknown[rec.Classification]++
		}
		e := &store[len(batch)]
		*e = vigil.BankEntry{Signal: rec.Signal, Value: rec.Value, Classification: rec.Classification,
			Note: rec.Note, AddedFrom: opts.AddedFrom, UpstreamID: rec.UpstreamID}
		batch = append(batch, e)
		if len(batch) == opts.BatchSize {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	return st, flush()
}
