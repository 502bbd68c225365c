// Package bankfile reads and writes hash lists: CSV and TSV with a header
// naming the columns, plain lists of one hash per line, and JSON lines. It
// streams: memory stays bounded whatever the size of the file.
//
// A 64-digit hex value can be a SHA-256 or a PDQ hash, so the type is never
// guessed from the value: it comes from a type column (or a column named
// after the type, such as "pdq"), or from the caller (--type). A record
// without one is a bad line.
package bankfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vigil-hotline/vigil"
)

// Format is a file layout.
type Format string

const (
	CSV   Format = "csv"
	TSV   Format = "tsv"
	Lines Format = "lines" // one hash per line
	JSONL Format = "jsonl" // one JSON object per line
)

// ParseFormat accepts a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case CSV, TSV, Lines, JSONL:
		return f, nil
	case "txt", "list":
		return Lines, nil
	case "ndjson", "json":
		return JSONL, nil
	}
	return "", vigil.Errorf(vigil.EINVALID, "unknown format %q (want csv, tsv, lines or jsonl)", s)
}

// FormatFromName picks a format from a file name's extension; the file's
// layout, unlike a hash's type, is safe to infer. Unknown extensions give
// "".
func FormatFromName(name string) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return CSV
	case ".tsv", ".tab":
		return TSV
	case ".txt", ".lst", ".list":
		return Lines
	case ".jsonl", ".ndjson":
		return JSONL
	}
	return ""
}

// Record is one hash read from a file.
type Record struct {
	// Line is the 1-based line number the record starts on.
	Line           int
	Signal         vigil.SignalType
	Value          string // normalised: lower-case hex
	Classification string
	Note           string
	// Unknown is set when Classification is a label kept as it was
	// (KeepUnknown): neither mapped nor in the vocabulary.
	Unknown bool
	// UpstreamID is the id column ("id", "upstream_id"): the list keeper's
	// own id of the entry.
	UpstreamID string
	// UpstreamClassification is the classification column as written,
	// when Options.Upstream asks for it (Classification is then empty).
	UpstreamClassification string
}

// LineError is a bad line: the reader goes on after it.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, lineMessage(e.Err)) }
func (e *LineError) Unwrap() error { return e.Err }

func lineMessage(err error) string {
	var ve *vigil.Error
	if errors.As(err, &ve) {
		return ve.Message
	}
	return err.Error()
}

// Options say how to read a file.
type Options struct {
	Format Format
	// Type is the signal type of every record (--type). With a type column
	// as well, a row that names another type is a bad line.
	Type vigil.SignalType
	// Classification is given to records that have none.
	Classification string
	// Vocabulary checks classifications; nil accepts any well-formed one.
	Vocabulary vigil.Vocabulary
	// Mapping turns other organisations' labels (IWF A/B/C, NCMEC A1…B2)
	// into the vocabulary. With KeepUnknown, a well-formed label that is
	// neither mapped nor in the vocabulary is kept as it is (and counted)
	// instead of making its line bad.
	Mapping     vigil.ClassificationMap
	KeepUnknown bool
	// Upstream reads a list for an exchange: the classification column is
	// kept verbatim in Record.UpstreamClassification, neither mapped nor
	// checked (the exchange's configuration maps it).
	Upstream bool
}

// MaxLineBytes bounds a line in every format; a longer line is a bad line
// (and is skipped without being held in memory). A line longer than
// MaxSkipBytes ends the import: no hash list has one, and reading on
// through gigabytes to find its end would only delay the answer.
// MaxRecordBytes bounds a CSV record, whose quoted fields may span lines;
// a longer one (an unterminated quote) ends the import too.
const (
	MaxLineBytes   = 64 << 10
	MaxSkipBytes   = 1 << 20
	MaxRecordBytes = 256 << 10
)

// quoteShort quotes at most the first bytes of outside input in an error
// message: a bad value may be megabytes long, and an error is read by a
// person (and may end up in a log).
func quoteShort(s string) string {
	const max = 40
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q… (%d bytes)", strings.ToValidUTF8(s[:max], ""), len(s))
}

// Reader reads records from a hash list.
type Reader struct {
	opts Options
	next func() (Record, error)
	line int
}

// NewReader returns a reader; for CSV and TSV it reads the header. An
// error here (no value column, no type) concerns the whole file.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	if opts.Type != "" {
		t, err := vigil.ParseSignalType(string(opts.Type))
		if err != nil {
			return nil, err
		}
		opts.Type = t
	}
	if opts.Classification != "" {
		c, known, err := opts.Mapping.Classify(opts.Classification, opts.Vocabulary)
		if err == nil && !known {
			_, err = opts.Vocabulary.Normalize(opts.Classification)
		}
		if err != nil {
			return nil, err
		}
		opts.Classification = c
	}
	rd := &Reader{opts: opts}
	switch opts.Format {
	case CSV, TSV:
		return rd, rd.initCSV(r)
	case Lines:
		if opts.Type == "" {
			return nil, vigil.Errorf(vigil.EINVALID, "a plain list needs the hash type (--type md5|sha1|sha256|pdq)")
		}
		lr := newLineReader(r)
		rd.next = func() (Record, error) { return rd.nextPlain(lr) }
	case JSONL:
		lr := newLineReader(r)
		rd.next = func() (Record, error) { return rd.nextJSON(lr) }
	default:
		return nil, vigil.Errorf(vigil.EINVALID, "unknown format %q (want csv, tsv, lines or jsonl)", opts.Format)
	}
	return rd, nil
}

// Next returns the next record, a *LineError for a bad line (call Next
// again to go on), io.EOF at the end, or another error when reading
// failed.
func (rd *Reader) Next() (Record, error) { return rd.next() }

// record completes and checks one record's fields.
func (rd *Reader) record(line int, typ, value, class, note, id string) (Record, error) {
	rec := Record{Line: line, Note: strings.TrimSpace(note), UpstreamID: strings.TrimSpace(id)}
	if len(rec.UpstreamID) > vigil.MaxEntryUpstream || !utf8.ValidString(rec.UpstreamID) {
		return rec, &LineError{line, vigil.Errorf(vigil.EINVALID, "id longer than %d bytes or not text", vigil.MaxEntryUpstream)}
	}
	typ = strings.TrimSpace(typ)
	switch {
	case typ == "" && rd.opts.Type == "":
		return rec, &LineError{line, vigil.Errorf(vigil.EINVALID,
			"no hash type: a 64-digit value may be SHA-256 or PDQ, so give a type column or --type")}
	case typ == "":
		rec.Signal = rd.opts.Type
	default:
		t := vigil.SignalType(typ)
		if t.HexLen() == 0 { // not already canonical: aliases, upper case
			var err error
			if t, err = vigil.ParseSignalType(typ); err != nil {
				return rec, &LineError{line, vigil.Errorf(vigil.EINVALID, "unknown signal type %s", quoteShort(typ))}
			}
		}
		if rd.opts.Type != "" && t != rd.opts.Type {
			return rec, &LineError{line, vigil.Errorf(vigil.EINVALID, "type %s differs from --type %s", t, rd.opts.Type)}
		}
		rec.Signal = t
	}
	v, err := vigil.NormalizeSignalValue(rec.Signal, value)
	if err != nil {
		return rec, &LineError{line, err}
	}
	rec.Value = v
	if rd.opts.Upstream {
		rec.UpstreamClassification = strings.TrimSpace(class)
		if len(rec.UpstreamClassification) > vigil.MaxEntryUpstream || !utf8.ValidString(rec.UpstreamClassification) {
			return rec, &LineError{line, vigil.Errorf(vigil.EINVALID, "classification longer than %d bytes or not text", vigil.MaxEntryUpstream)}
		}
	} else if strings.TrimSpace(class) == "" {
		rec.Classification = rd.opts.Classification
	} else if rec.Classification, err = rd.classify(class); err != nil {
		return rec, &LineError{line, err}
	} else if rec.Classification != "" && rd.opts.KeepUnknown && !slices.Contains(rd.opts.Vocabulary, rec.Classification) &&
		rd.opts.Vocabulary != nil {
		rec.Unknown = true
	}
	if len(rec.Note) > vigil.MaxEntryNote {
		return rec, &LineError{line, vigil.Errorf(vigil.EINVALID, "note longer than %d bytes", vigil.MaxEntryNote)}
	}
	return rec, nil
}

// classify maps a label to the vocabulary, keeping unknown well-formed
// labels when asked to.
func (rd *Reader) classify(label string) (string, error) {
	c, known, err := rd.opts.Mapping.Classify(label, rd.opts.Vocabulary)
	if err != nil {
		return "", err
	}
	if !known && !rd.opts.KeepUnknown {
		return rd.opts.Vocabulary.Normalize(label) // the vocabulary's own error
	}
	return c, nil
}

// Column names recognised in a header, after lower-casing and turning
// spaces and dashes into underscores.
var (
	valueNames = []string{"hash", "value", "signal_value", "hash_value", "signal", "digest"}
	typeNames  = []string{"type", "signal_type", "hash_type", "kind", "algorithm"}
	classNames = []string{"classification", "category", "class", "label"}
	noteNames  = []string{"note", "notes", "comment", "comments", "description"}
	idNames    = []string{"id", "upstream_id", "entry_id"}
)

func (rd *Reader) initCSV(r io.Reader) error {
	g := &lineGuard{r: r}
	cr := csv.NewReader(bufio.NewReaderSize(g, 64<<10))
	if rd.opts.Format == TSV {
		cr.Comma = '\t'
		cr.LazyQuotes = true
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.Comment = '#'
	header, err := cr.Read()
	if err == io.EOF {
		return vigil.Errorf(vigil.EINVALID, "the file is empty: a %s file starts with a header line", rd.opts.Format)
	}
	var le *LineError
	if errors.As(err, &le) {
		return vigil.Errorf(vigil.EINVALID, "header: %s", lineMessage(le.Err))
	}
	var ve *vigil.Error
	if errors.As(err, &ve) {
		return err
	}
	if err != nil {
		return vigil.Errorf(vigil.EINVALID, "header: %s", err)
	}
	col := map[string]int{}
	typedValue := vigil.SignalType("")
	for i, h := range header {
		h = strings.TrimPrefix(h, "\ufeff")
		h = strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(h)))
		col[h] = i
	}
	find := func(names []string) int {
		for _, n := range names {
			if i, ok := col[n]; ok {
				return i
			}
		}
		return -1
	}
	valueCol, typeCol, classCol, noteCol, idCol := find(valueNames), find(typeNames), find(classNames), find(noteNames), find(idNames)
	if valueCol < 0 {
		// A column named after a type ("pdq", "md5") holds values of that
		// type: the header says so, nothing is guessed.
		for _, t := range vigil.SignalTypes {
			if i, ok := col[string(t)]; ok {
				if valueCol >= 0 {
					return vigil.Errorf(vigil.EINVALID, "header names several hash columns (%s and %s): import one at a time with a hash column",
						typedValue, t)
				}
				valueCol, typedValue = i, t
			}
		}
	}
	if valueCol < 0 {
		return vigil.Errorf(vigil.EINVALID, "header %s has no hash column (want one of %s, or md5, sha1, sha256, pdq)",
			quoteShort(strings.Join(header, string(cr.Comma))), strings.Join(valueNames, ", "))
	}
	if typedValue != "" {
		if rd.opts.Type != "" && rd.opts.Type != typedValue {
			return vigil.Errorf(vigil.EINVALID, "the header's %s column contradicts --type %s", typedValue, rd.opts.Type)
		}
		rd.opts.Type = typedValue
	}
	if typeCol < 0 && rd.opts.Type == "" {
		return vigil.Errorf(vigil.EINVALID,
			"no hash type: give a type column (%s) or --type; a 64-digit value may be SHA-256 or PDQ, so it is never guessed",
			strings.Join(typeNames, ", "))
	}
	field := func(rec []string, i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return rec[i]
	}
	rd.next = func() (Record, error) {
		g.startRecord()
		rec, err := cr.Read()
		if err != nil {
			var le *LineError
			if errors.As(err, &le) {
				return Record{Line: le.Line}, le
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return Record{Line: pe.StartLine}, &LineError{pe.StartLine, vigil.Errorf(vigil.EINVALID, "%s", pe.Err)}
			}
			return Record{}, err
		}
		line, _ := cr.FieldPos(0)
		if valueCol >= len(rec) {
			return Record{Line: line}, &LineError{line, vigil.Errorf(vigil.EINVALID, "%d fields, no hash in column %d", len(rec), valueCol+1)}
		}
		return rd.record(line, field(rec, typeCol), rec[valueCol], field(rec, classCol), field(rec, noteCol), field(rec, idCol))
	}
	return nil
}

func (rd *Reader) nextPlain(lr *lineReader) (Record, error) {
	for {
		line, n, err := lr.next()
		if err != nil {
			return Record{Line: n}, err
		}
		s := string(bytes.TrimSpace(line))
		if s == "" || s[0] == '#' {
			continue
		}
		// "HASH,anything" and "HASH<TAB>anything" keep the first field, as
		// the reference tools write "hash,quality".
		if i := strings.IndexAny(s, ",\t "); i >= 0 {
			s = s[:i]
		}
		return rd.record(n, "", s, "", "", "")
	}
}

// jsonRecord accepts the common field names.
type jsonRecord struct {
	Type           string `json:"type"`
	SignalType     string `json:"signal_type"`
	Value          string `json:"value"`
	SignalValue    string `json:"signal_value"`
	Hash           string `json:"hash"`
	Classification string `json:"classification"`
	Category       string `json:"category"`
	Note           string `json:"note"`
	// ID is the upstream id, a string or a number.
	ID         json.RawMessage `json:"id"`
	UpstreamID string          `json:"upstream_id"`
}

// id returns the record's upstream id as text.
func (j *jsonRecord) id() string {
	if j.UpstreamID != "" || len(j.ID) == 0 {
		return j.UpstreamID
	}
	var s string
	if json.Unmarshal(j.ID, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(j.ID, &n) == nil {
		return n.String()
	}
	return ""
}

func (rd *Reader) nextJSON(lr *lineReader) (Record, error) {
	for {
		line, n, err := lr.next()
		if err != nil {
			return Record{Line: n}, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var j jsonRecord
		if err := json.Unmarshal(line, &j); err != nil {
			return Record{Line: n}, &LineError{n, vigil.Errorf(vigil.EINVALID, "not a JSON object: %s", err)}
		}
		return rd.record(n, first(j.Type, j.SignalType), first(j.Value, j.SignalValue, j.Hash),
			first(j.Classification, j.Category), j.Note, j.id())
	}
}

func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// lineReader yields lines with their numbers, skipping over (and
// reporting) lines longer than MaxLineBytes without holding them.
type lineReader struct {
	r *bufio.Reader
	n int
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, MaxLineBytes)}
}

func (lr *lineReader) next() ([]byte, int, error) {
	line, err := lr.r.ReadSlice('\n')
	if len(line) == 0 && err == io.EOF {
		return nil, lr.n, io.EOF
	}
	lr.n++
	switch {
	case err == nil || err == io.EOF:
		return line, lr.n, nil
	case errors.Is(err, bufio.ErrBufferFull):
		skipped := len(line)
		for errors.Is(err, bufio.ErrBufferFull) {
			if skipped > MaxSkipBytes {
				return nil, lr.n, errTooLong(lr.n)
			}
			line, err = lr.r.ReadSlice('\n')
			skipped += len(line)
		}
		if err != nil && err != io.EOF {
			return nil, lr.n, err
		}
		return nil, lr.n, &LineError{lr.n, vigil.Errorf(vigil.EINVALID, "line longer than %d bytes", MaxLineBytes)}
	}
	return nil, lr.n, err
}

// errTooLong ends an import at a line no hash list has.
func errTooLong(line int) error {
	return vigil.Errorf(vigil.EINVALID, "line %d is longer than %d bytes: this is not a hash list", line, MaxSkipBytes)
}

// lineGuard sits under the CSV reader, which has no bound of its own: it
// turns a line over MaxLineBytes into a *LineError and skips the rest of
// it (the CSV reader then resumes at the next line), ends the file at a
// line over MaxSkipBytes, and ends it at a record over MaxRecordBytes.
type lineGuard struct {
	r      io.Reader
	line   int   // 1-based number of the line being read
	inLine int   // bytes of it passed on so far
	record int64 // bytes passed on since startRecord
	err    error // sticky fatal error
}

// startRecord marks the start of a record; bytes the CSV reader buffered
// ahead count towards the next record, which is why the bound is loose.
func (g *lineGuard) startRecord() { g.record = 0 }

func (g *lineGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.record > MaxRecordBytes {
		g.err = vigil.Errorf(vigil.EINVALID, "a record at line %d is longer than %d bytes (an unterminated quote?)", g.line+1, MaxRecordBytes)
		return 0, g.err
	}
	n, err := g.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			g.line++
			g.inLine = 0
			continue
		}
		g.inLine++
		if g.inLine > MaxLineBytes {
			// Pass on what came before; skip the rest of the line, of
			// which this read may hold some or all.
			line := g.line + 1
			if j := bytes.IndexByte(p[i:n], '\n'); j >= 0 {
				g.pushBack(p[i+j : n])
			} else if serr := g.skipLine(n - i); serr != nil {
				g.err = serr
			}
			g.record += int64(i)
			return i, &LineError{line, vigil.Errorf(vigil.EINVALID, "line longer than %d bytes", MaxLineBytes)}
		}
	}
	g.record += int64(n)
	return n, err
}

// pushBack hands b to the next Read, before the rest of the input.
func (g *lineGuard) pushBack(b []byte) {
	g.r = io.MultiReader(bytes.NewReader(bytes.Clone(b)), g.r)
	g.inLine = 0
}

// skipLine reads to the end of the current line, of which skipped bytes
// past the bound have been read already, within MaxSkipBytes.
func (g *lineGuard) skipLine(skipped int) error {
	var buf [32 << 10]byte
	skipped += g.inLine
	for {
		n, err := g.r.Read(buf[:])
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			g.pushBack(buf[i:n])
			return nil
		}
		skipped += n
		if skipped > MaxSkipBytes {
			return errTooLong(g.line + 1)
		}
		if err != nil {
			return err
		}
	}
}
