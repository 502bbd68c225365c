package web

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// csvWriter writes CSV whose cells a spreadsheet never runs: provider
// names and labels come from outside (RDAP, uploaded lists), and a cell
// starting with =, +, - or @ is a formula to Excel and LibreOffice.
type csvWriter struct{ *csv.Writer }

func newCSVWriter(w io.Writer) csvWriter { return csvWriter{csv.NewWriter(w)} }

func (c csvWriter) Write(record []string) error {
	out := make([]string, len(record))
	for i, cell := range record {
		out[i] = csvCell(cell)
	}
	return c.Writer.Write(out)
}

func csvCell(s string) string {
	if s == "" || !strings.ContainsAny(s[:1], "=+-@\t\r") {
		return s
	}
	if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
		return s
	}
	return "'" + s
}
