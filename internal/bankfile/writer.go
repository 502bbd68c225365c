package bankfile

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/vigil-hotline/vigil"
)

// exportColumns is the CSV and TSV header. The first four are what an
// import reads back; the others are kept for the record.
var exportColumns = []string{"type", "value", "classification", "note", "added_at", "added_from", "id"}

// Writer writes bank entries in one of the formats that Reader reads, so an
// export imports back unchanged.
type Writer struct {
	format Format
	bw     *bufio.Writer
	cw     *csv.Writer
	row    []string
}

// NewWriter returns a writer; CSV and TSV get their header at once.
func NewWriter(w io.Writer, format Format) (*Writer, error) {
	wr := &Writer{format: format, bw: bufio.NewWriterSize(w, 64<<10)}
	switch format {
	case CSV, TSV:
		wr.cw = csv.NewWriter(wr.bw)
		if format == TSV {
			wr.cw.Comma = '\t'
		}
		wr.row = make([]string, len(exportColumns))
		if err := wr.cw.Write(exportColumns); err != nil {
			return nil, err
		}
	case Lines, JSONL:
	default:
		return nil, vigil.Errorf(vigil.EINVALID, "unknown format %q (want csv, tsv, lines or jsonl)", format)
	}
	return wr, nil
}

// jsonEntry is one exported JSON line.
type jsonEntry struct {
	Type           vigil.SignalType `json:"type"`
	Value          string           `json:"value"`
	Classification string           `json:"classification,omitempty"`
	Note           string           `json:"note,omitempty"`
	AddedAt        time.Time        `json:"added_at"`
	AddedFrom      string           `json:"added_from,omitempty"`
	ID             int64            `json:"id"`
}

// Write writes one entry. A plain list holds values only: export one type
// at a time to keep it meaningful.
func (w *Writer) Write(e *vigil.BankEntry) error {
	switch w.format {
	case Lines:
		w.bw.WriteString(e.Value)
		return w.bw.WriteByte('\n')
	case JSONL:
		b, err := json.Marshal(jsonEntry{Type: e.Signal, Value: e.Value, Classification: e.Classification,
			Note: e.Note, AddedAt: e.AddedAt.UTC(), AddedFrom: e.AddedFrom, ID: e.ID})
		if err != nil {
			return err
		}
		w.bw.Write(b)
		return w.bw.WriteByte('\n')
	}
	w.row[0], w.row[1], w.row[2], w.row[3] = string(e.Signal), e.Value, e.Classification, e.Note
	w.row[4], w.row[5], w.row[6] = e.AddedAt.UTC().Format(time.RFC3339), e.AddedFrom, strconv.FormatInt(e.ID, 10)
	return w.cw.Write(w.row)
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error {
	if w.cw != nil {
		w.cw.Flush()
		if err := w.cw.Error(); err != nil {
			return err
		}
	}
	return w.bw.Flush()
}
