package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/bankfile"
	"github.com/vigil-hotline/vigil/internal/progress"
	"github.com/vigil-hotline/vigil/internal/store"
)

const bankUsage = `Usage: vigil bank create NAME --source ncmec|iwf|inhope-partner|hotline|other [--terms T] [--kind block|allow] [--threshold N]
       vigil bank list
       vigil bank import BANK FILE [--format csv|tsv|lines|jsonl] [--type md5|sha1|sha256|pdq] [--classification C] [--strict]
       vigil bank export BANK [--format csv|tsv|lines|jsonl] [--type T]
       vigil bank enable|disable BANK
       vigil bank threshold BANK N
       vigil bank remove-entry BANK TYPE VALUE
` + bankVideoUsage + `

Classifications come from VIGIL_CLASSIFICATIONS (comma-separated; default
baseline,national,iwf-a,iwf-b,iwf-c,harmful-abusive,ncmec-a1,ncmec-a2,ncmec-b1,ncmec-b2).
Other organisations' labels are mapped on import: the IWF's A, B, C to
iwf-a, iwf-b, iwf-c and NCMEC's A1, A2, B1, B2 to ncmec-a1…ncmec-b2, and
VIGIL_CLASSIFICATION_MAP or --map LABEL=CLASSIFICATION add or change pairs.
A label neither mapped nor in the vocabulary is kept as it is and listed
after the import.`

// runBank manages hash banks.
func runBank(ctx context.Context, env *Env, args []string) error {
	subs := []subcommand{{"create", runBankCreate}, {"list", runBankList}, {"import", runBankImport},
		{"export", runBankExport}, {"threshold", runBankThreshold}, {"remove-entry", runBankRemoveEntry},
		{"import-video", runBankImportVideo}, {"export-video", runBankExportVideo}, {"video-threshold", runBankVideoThreshold}}
	for _, name := range []string{"enable", "disable"} {
		subs = append(subs, subcommand{name, func(ctx context.Context, env *Env, args []string) error {
			return runBankEnable(ctx, env, name, args)
		}})
	}
	return dispatch(ctx, env, "bank", bankUsage, args, subs)
}

// domainError shows a domain error's message as a plain error.
func domainError(err error) error {
	var e *vigil.Error
	if errors.As(err, &e) {
		return errors.New(e.Message)
	}
	return err
}

// openBank opens the store and finds a bank by name.
func openBank(ctx context.Context, env *Env, cfg *config, name string) (*store.DB, *vigil.Bank, error) {
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return nil, nil, err
	}
	b, err := db.FindBankByName(ctx, name)
	if err != nil {
		db.Close()
		return nil, nil, domainError(err)
	}
	return db, b, nil
}

func runBankCreate(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bank create", "Usage: vigil bank create NAME --source S [--terms T] [--kind block|allow] [--threshold N]")
	cfg := storeFlags(fs, env)
	source := fs.String("source", "", "where the hashes come from: ncmec, iwf, inhope-partner, hotline or other (victim: the victims' bank only)")
	terms := fs.String("terms", "", "the terms the list came under")
	kind := fs.String("kind", "block", "block (entries match) or allow (entries never match)")
	threshold := fs.Int("threshold", vigil.DefaultPDQThreshold, "largest PDQ distance that matches in this bank")
	disabled := fs.Bool("disabled", false, "create the bank disabled")
	pos, err := interleave(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("bank create: give exactly one NAME")
	}
	src, err := vigil.ParseBankSource(*source)
	if err != nil {
		return usageError("bank create: %s", vigil.ErrorMessage(err))
	}
	k, err := vigil.ParseBankKind(*kind)
	if err != nil {
		return usageError("bank create: %s", vigil.ErrorMessage(err))
	}
	b := &vigil.Bank{Name: pos[0], Source: src, Terms: *terms, Kind: k, Enabled: !*disabled, PDQThreshold: *threshold}
	if err := b.Validate(); err != nil {
		return usageError("bank create: %s", vigil.ErrorMessage(err))
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CreateBank(ctx, b); err != nil {
		return domainError(err)
	}
	fmt.Fprintf(env.Stdout, "bank %s created (%s, source %s, threshold %d)\n", b.Name, b.Kind, b.Source, b.PDQThreshold)
	return nil
}

func runBankList(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bank list", "Usage: vigil bank list")
	cfg := storeFlags(fs, env)
	db, err := parseAndOpen(ctx, env, fs, cfg, args)
	if err != nil {
		return err
	}
	defer db.Close()
	banks, err := db.ListBanks(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSOURCE\tENABLED\tTHRESHOLD\tENTRIES\tCREATED")
	for _, b := range banks {
		n, err := db.CountBankEntries(ctx, b.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%d\t%d\t%s\n", b.Name, b.Kind, b.Source, b.Enabled, b.PDQThreshold, n,
			b.CreatedAt.Format("2006-01-02"))
	}
	return tw.Flush()
}

// maxBadLinesShown caps the bad lines printed after an import.
const maxBadLinesShown = 20

func runBankImport(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bank import", `Usage: vigil bank import BANK FILE [flags]   (FILE "-" is standard input)

A 64-digit value may be SHA-256 or PDQ: the type comes from a type column or
--type, never from the value. Bad lines are reported with their numbers and
skipped (exit status 1), or stop the import under --strict. Importing the
same file twice adds nothing.`)
	cfg := storeFlags(fs, env)
	format := fs.String("format", "", "csv, tsv, lines (one hash per line) or jsonl; default from the file's extension")
	typ := fs.String("type", "", "hash type of every row: md5, sha1, sha256 or pdq (required for lines)")
	class := fs.String("classification", "", "classification for rows that have none")
	strict := fs.Bool("strict", false, "stop at the first bad line")
	batch := fs.Int("batch", 5000, "entries per transaction")
	var maps multiFlag
	fs.Var(&maps, "map", "LABEL=CLASSIFICATION: store the source's LABEL as CLASSIFICATION (repeatable; over VIGIL_CLASSIFICATION_MAP)")
	pos, err := interleave(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("bank import: give BANK and FILE")
	}
	vocab, err := vigil.ParseVocabulary(env.Getenv("VIGIL_CLASSIFICATIONS"))
	if err != nil {
		return usageError("VIGIL_CLASSIFICATIONS: %s", vigil.ErrorMessage(err))
	}
	mapping, err := vigil.ParseClassificationMap(env.Getenv("VIGIL_CLASSIFICATION_MAP")+","+strings.Join(maps, ","), vocab)
	if err != nil {
		return usageError("classification mapping (VIGIL_CLASSIFICATION_MAP, --map): %s", vigil.ErrorMessage(err))
	}
	opts := bankfile.ImportOptions{Options: bankfile.Options{Vocabulary: vocab, Classification: *class,
		Mapping: mapping, KeepUnknown: true},
		Strict: *strict, BatchSize: *batch, AddedFrom: pos[1]}
	if *format != "" {
		if opts.Format, err = bankfile.ParseFormat(*format); err != nil {
			return usageError("bank import: %s", vigil.ErrorMessage(err))
		}
	} else if opts.Format = bankfile.FormatFromName(pos[1]); opts.Format == "" {
		return usageError("bank import: say --format csv|tsv|lines|jsonl (not known from the file name %q)", pos[1])
	}
	if *typ != "" {
		t, err := vigil.ParseSignalType(*typ)
		if err != nil {
			return usageError("bank import: %s", vigil.ErrorMessage(err))
		}
		opts.Type = t
	}
	var in io.Reader = env.Stdin
	var size int64
	if pos[1] != "-" {
		f, err := os.Open(pos[1])
		if err != nil {
			return err
		}
		defer func() { _ = f.Close() }() // read only
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		in = f
		opts.AddedFrom = "file:" + pos[1]
	} else {
		opts.AddedFrom = "stdin"
	}
	db, b, err := openBank(ctx, env, cfg, pos[0])
	if err != nil {
		return err
	}
	defer db.Close()
	if b.Source == vigil.SourceVictim {
		return usageError("bank import: the bank %s is filled by victims' own submissions only", b.Name)
	}

	// The bar counts bytes of the file, the one total known in advance.
	bar := progress.New(env.Stderr, "importing "+b.Name+" (bytes)", size, env.IsTerminal)
	cr := &countingReader{r: in}
	var shown int64
	opts.Progress = func(bankfile.Stats) {
		bar.Add(cr.n - shown)
		shown = cr.n
	}
	st, err := bankfile.Import(ctx, db, b.ID, cr, opts)
	bar.Done()
	fmt.Fprintf(env.Stdout, "%s: %d rows read, %d added, %d duplicates, %d bad\n", b.Name, st.Rows, st.Added, st.Duplicates, st.Bad)
	if len(st.Unknown) > 0 {
		labels := make([]string, 0, len(st.Unknown))
		for l, n := range st.Unknown {
			labels = append(labels, fmt.Sprintf("%s (%d)", l, n))
		}
		sort.Strings(labels)
		fmt.Fprintf(env.Stdout, "  kept labels outside the vocabulary, as they are: %s\n"+
			"  map them with --map LABEL=CLASSIFICATION or VIGIL_CLASSIFICATION_MAP to classify them\n", strings.Join(labels, ", "))
	}
	for i, le := range st.BadLines {
		if i == maxBadLinesShown {
			fmt.Fprintf(env.Stdout, "  … and %d more bad lines\n", st.Bad-maxBadLinesShown)
			break
		}
		fmt.Fprintf(env.Stdout, "  %s\n", le)
	}
	var le *bankfile.LineError
	if errors.As(err, &le) {
		return fmt.Errorf("bank import stopped at %s (--strict)", le)
	}
	if err != nil {
		return domainError(err)
	}
	if st.Bad > 0 {
		return &exitError{code: 1, err: fmt.Errorf("bank import: %d bad lines skipped", st.Bad)}
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func runBankExport(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bank export", "Usage: vigil bank export BANK [--format csv|tsv|lines|jsonl] [--type T]   (to standard output)")
	cfg := storeFlags(fs, env)
	format := fs.String("format", "csv", "csv, tsv, lines (values only: use with --type) or jsonl")
	typ := fs.String("type", "", "export only entries of this hash type")
	pos, err := interleave(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("bank export: give one BANK")
	}
	f, err := bankfile.ParseFormat(*format)
	if err != nil {
		return usageError("bank export: %s", vigil.ErrorMessage(err))
	}
	var only vigil.SignalType
	if *typ != "" {
		if only, err = vigil.ParseSignalType(*typ); err != nil {
			return usageError("bank export: %s", vigil.ErrorMessage(err))
		}
	}
	db, b, err := openBank(ctx, env, cfg, pos[0])
	if err != nil {
		return err
	}
	if b.Source == vigil.SourceVictim {
		db.Close()
		// Victims' hashes are matched, never handed out in bulk.
		return usageError("bank export: the bank %s cannot be exported: its entries are only ever matched", b.Name)
	}
	defer db.Close()
	w, err := bankfile.NewWriter(env.Stdout, f)
	if err != nil {
		return err
	}
	types := map[vigil.SignalType]bool{}
	for after := int64(0); ; {
		page, err := db.BankEntries(ctx, b.ID, after, 10000)
		if err != nil {
			return err
		}
		for _, e := range page {
			if only != "" && e.Signal != only || e.Signal == vigil.SignalVPDQ {
				continue // videos: vigil bank export-video
			}
			types[e.Signal] = true
			if err := w.Write(e); err != nil {
				return fmt.Errorf("bank export: %w", err)
			}
		}
		if len(page) < 10000 {
			break
		}
		after = page[len(page)-1].ID
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("bank export: %w", err)
	}
	if f == bankfile.Lines && len(types) > 1 {
		fmt.Fprintln(env.Stderr, "vigil bank export: warning: the list mixes hash types; use --type to export one at a time")
	}
	return nil
}

func runBankEnable(ctx context.Context, env *Env, sub string, args []string) error {
	fs := newFlagSet(env, "bank "+sub, "Usage: vigil bank "+sub+" BANK")
	cfg := storeFlags(fs, env)
	pos, err := interleave(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("bank %s: give one BANK", sub)
	}
	db, b, err := openBank(ctx, env, cfg, pos[0])
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.SetBankEnabled(ctx, b.ID, sub == "enable"); err != nil {
		return domainError(err)
	}
	fmt.Fprintf(env.Stdout, "bank %s %sd\n", b.Name, sub)
	return nil
}

func runBankThreshold(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bank threshold", "Usage: vigil bank threshold BANK N")
	cfg := storeFlags(fs, env)
	pos, err := interleave(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usageError("bank threshold: give BANK and N")
	}
	n, err := strconv.Atoi(pos[1])
	if err == nil {
		err = vigil.ValidatePDQThreshold(n)
	}
	if err != nil {
		return usageError("bank threshold: %s", vigil.ErrorMessage(err))
	}
	db, b, err := openBank(ctx, env, cfg, pos[0])
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.SetBankThreshold(ctx, b.ID, n); err != nil {
		return domainError(err)
	}
	fmt.Fprintf(env.Stdout, "bank %s: PDQ threshold %d\n", b.Name, n)
	return nil
}

func runBankRemoveEntry(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "bank remove-entry", "Usage: vigil bank remove-entry BANK TYPE VALUE")
	cfg := storeFlags(fs, env)
	pos, err := interleave(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 3 {
		return usageError("bank remove-entry: give BANK, TYPE and VALUE")
	}
	t, err := vigil.ParseSignalType(pos[1])
	if err != nil {
		return usageError("bank remove-entry: %s", vigil.ErrorMessage(err))
	}
	db, b, err := openBank(ctx, env, cfg, pos[0])
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.RemoveBankEntry(ctx, b.ID, t, pos[2]); err != nil {
		return domainError(err)
	}
	fmt.Fprintf(env.Stdout, "removed %s %s from bank %s\n", t, pos[2], b.Name)
	return nil
}
