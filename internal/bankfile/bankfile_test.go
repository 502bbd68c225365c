package bankfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
)

// Synthetic values only: no hash here is of any real picture.
const (
	md5A    = "0123456789abcdef0123456789abcdef"
	sha1A   = "0123456789abcdef0123456789abcdef01234567"
	hex64A  = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	hex64B  = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
	badHex  = "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	shortHx = "0011"
)

type readResult struct {
	recs []Record
	bad  []*LineError
}

func readAll(t *testing.T, src string, opts Options) (readResult, error) {
	t.Helper()
	rd, err := NewReader(strings.NewReader(src), opts)
	if err != nil {
		return readResult{}, err
	}
	var res readResult
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return res, nil
		}
		var le *LineError
		if errors.As(err, &le) {
			res.bad = append(res.bad, le)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		res.recs = append(res.recs, rec)
	}
}

func badLines(res readResult) []int {
	var out []int
	for _, b := range res.bad {
		out = append(out, b.Line)
	}
	return out
}

func TestCSV(t *testing.T) {
	src := "\ufeffHash,Signal Type,Category,Comment,extra\n" + // line 1
		md5A + ",MD5,IWF A,\"a note, with a comma\",x\n" + // 2
		strings.ToUpper(hex64A) + ",pdq,,,\n" + // 3
		hex64A + ",sha-256,baseline,,\n" + // 4
		badHex + ",pdq,,,\n" + // 5: not hex
		shortHx + ",sha1,,,\n" + // 6: wrong length
		sha1A + ",crc32,,,\n" + // 7: unknown type
		hex64B + ",,,,\n" + // 8: no type
		sha1A + ",sha1,unknown-class,,\n" + // 9: not in the vocabulary
		"\"multi\nline\",pdq,,,\n" + // 10-11: bad value
		sha1A + ",sha1,national,\"last\"\n" // 12
	res, err := readAll(t, src, Options{Format: CSV, Vocabulary: vigil.DefaultVocabulary, Classification: "harmful-abusive"})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(badLines(res)); got != "[5 6 7 8 9 10]" {
		t.Errorf("bad lines %s: %v", got, res.bad)
	}
	if len(res.recs) != 4 {
		t.Fatalf("records: %+v", res.recs)
	}
	want := []Record{
		{Line: 2, Signal: vigil.SignalMD5, Value: md5A, Classification: "iwf-a", Note: "a note, with a comma"},
		{Line: 3, Signal: vigil.SignalPDQ, Value: hex64A, Classification: "harmful-abusive"},
		{Line: 4, Signal: vigil.SignalSHA256, Value: hex64A, Classification: "baseline"},
		{Line: 12, Signal: vigil.SignalSHA1, Value: sha1A, Classification: "national", Note: "last"},
	}
	for i, w := range want {
		if res.recs[i] != w {
			t.Errorf("record %d: %+v, want %+v", i, res.recs[i], w)
		}
	}
	if !strings.Contains(res.bad[3].Error(), "line 8") || !strings.Contains(res.bad[3].Error(), "SHA-256 or PDQ") {
		t.Errorf("no-type message: %v", res.bad[3])
	}
}

func TestCSVTypeNeverGuessed(t *testing.T) {
	src := "hash,note\n" + hex64A + ",x\n"
	if _, err := readAll(t, src, Options{Format: CSV}); err == nil || !strings.Contains(err.Error(), "never guessed") {
		t.Errorf("no type column, no --type: %v", err)
	}
	res, err := readAll(t, src, Options{Format: CSV, Type: "sha256"})
	if err != nil || len(res.recs) != 1 || res.recs[0].Signal != vigil.SignalSHA256 {
		t.Errorf("with --type: %+v %v", res, err)
	}
	// A column named after the type says it.
	res, err = readAll(t, "id,PDQ\n1,"+hex64A+"\n", Options{Format: CSV})
	if err != nil || len(res.recs) != 1 || res.recs[0].Signal != vigil.SignalPDQ {
		t.Errorf("pdq column: %+v %v", res, err)
	}
	if _, err := readAll(t, "id,pdq\n1,"+hex64A+"\n", Options{Format: CSV, Type: "sha256"}); err == nil {
		t.Error("pdq column with --type sha256 accepted")
	}
	if _, err := readAll(t, "md5,sha1\n", Options{Format: CSV}); err == nil {
		t.Error("two typed columns accepted")
	}
	if _, err := readAll(t, "name,size\n", Options{Format: CSV, Type: "md5"}); err == nil || !strings.Contains(err.Error(), "no hash column") {
		t.Errorf("no hash column: %v", err)
	}
	if _, err := readAll(t, "", Options{Format: CSV, Type: "md5"}); err == nil {
		t.Error("empty file accepted")
	}
	// A type column and --type that disagree make a bad line.
	res, err = readAll(t, "type,value\npdq,"+hex64A+"\nsha256,"+hex64B+"\n", Options{Format: CSV, Type: "pdq"})
	if err != nil || len(res.recs) != 1 || fmt.Sprint(badLines(res)) != "[3]" {
		t.Errorf("conflicting type: %+v %v", res, err)
	}
}

func TestCSVBareQuoteSkipped(t *testing.T) {
	src := "type,value,note\nmd5," + md5A + ",fine\nmd5," + md5A + ",a \"bad\" quote\nsha1," + sha1A + ",fine\n"
	res, err := readAll(t, src, Options{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.recs) != 2 || res.recs[1].Line != 4 || fmt.Sprint(badLines(res)) != "[3]" {
		t.Errorf("bare quote: %+v", res)
	}
}

func TestTSV(t *testing.T) {
	src := "signal_type\tsignal_value\tclassification\nsha1\t" + sha1A + "\tiwf-b\npdq\t" + hex64B + "\t\nmd5\tnothex\t\n"
	res, err := readAll(t, src, Options{Format: TSV})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.recs) != 2 || res.recs[0].Classification != "iwf-b" || res.recs[1].Value != hex64B ||
		fmt.Sprint(badLines(res)) != "[4]" {
		t.Errorf("tsv: %+v", res)
	}
}

func TestLines(t *testing.T) {
	if _, err := readAll(t, hex64A+"\n", Options{Format: Lines}); err == nil || !strings.Contains(err.Error(), "--type") {
		t.Errorf("plain list without --type: %v", err)
	}
	long := strings.Repeat("a", MaxLineBytes+100)
	src := "# a comment\n" + hex64A + "\n\n" + strings.ToUpper(hex64B) + ",100,somefile.jpg\r\n" + long + "\nnot-a-hash\n" + hex64A + "\t75"
	res, err := readAll(t, src, Options{Format: Lines, Type: "pdq", Classification: "baseline"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.recs) != 3 || res.recs[0].Line != 2 || res.recs[1].Line != 4 || res.recs[1].Value != hex64B ||
		res.recs[2].Line != 7 || res.recs[0].Classification != "baseline" {
		t.Errorf("records: %+v", res.recs)
	}
	if fmt.Sprint(badLines(res)) != "[5 6]" || !strings.Contains(res.bad[0].Error(), "longer than") {
		t.Errorf("bad: %v", res.bad)
	}
}

func TestJSONLines(t *testing.T) {
	src := `{"type":"md5","value":"` + md5A + `","classification":"iwf-c","note":"n"}` + "\n" +
		`{"signal_type":"pdq","signal_value":"` + hex64A + `"}` + "\n" +
		`{"value":"` + hex64A + `"}` + "\n" + // no type
		`not json` + "\n" +
		"\n" +
		`{"type":"sha1","hash":"` + sha1A + `","category":"national"}`
	res, err := readAll(t, src, Options{Format: JSONL, Vocabulary: vigil.DefaultVocabulary})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.recs) != 3 || res.recs[0].Classification != "iwf-c" || res.recs[0].Note != "n" ||
		res.recs[1].Signal != vigil.SignalPDQ || res.recs[2].Line != 6 || res.recs[2].Classification != "national" {
		t.Errorf("records: %+v", res.recs)
	}
	if fmt.Sprint(badLines(res)) != "[3 4]" {
		t.Errorf("bad: %v", res.bad)
	}
	// --type fills in a missing type.
	res, _ = readAll(t, `{"value":"`+hex64A+`"}`, Options{Format: JSONL, Type: "sha256"})
	if len(res.recs) != 1 || res.recs[0].Signal != vigil.SignalSHA256 {
		t.Errorf("jsonl with --type: %+v", res)
	}
}

func TestFormats(t *testing.T) {
	for in, want := range map[string]Format{"csv": CSV, "TSV": TSV, "lines": Lines, "txt": Lines, "jsonl": JSONL, "ndjson": JSONL} {
		if f, err := ParseFormat(in); err != nil || f != want {
			t.Errorf("ParseFormat(%q) = %q %v", in, f, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
	for in, want := range map[string]Format{"a.CSV": CSV, "b.tsv": TSV, "c.txt": Lines, "d.jsonl": JSONL, "e.bin": ""} {
		if f := FormatFromName(in); f != want {
			t.Errorf("FormatFromName(%q) = %q", in, f)
		}
	}
	if _, err := NewReader(strings.NewReader(""), Options{Format: "xml"}); err == nil {
		t.Error("reader for xml")
	}
	if _, err := NewReader(strings.NewReader(""), Options{Format: CSV, Type: "crc"}); err == nil {
		t.Error("bad --type accepted")
	}
	if _, err := NewReader(strings.NewReader(""), Options{Format: CSV, Type: "md5", Classification: "nope", Vocabulary: vigil.DefaultVocabulary}); err == nil {
		t.Error("bad --classification accepted")
	}
}

// TestWriteReadBack exports in every format and reads the result back.
func TestWriteReadBack(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	entries := []*vigil.BankEntry{
		{ID: 1, Signal: vigil.SignalPDQ, Value: hex64A, Classification: "iwf-a", Note: "with, comma and \"quotes\"", AddedAt: at, AddedFrom: "list.csv"},
		{ID: 2, Signal: vigil.SignalPDQ, Value: hex64B, AddedAt: at},
	}
	for _, f := range []Format{CSV, TSV, JSONL, Lines} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if err := w.Write(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		opts := Options{Format: f}
		if f == Lines {
			opts.Type = vigil.SignalPDQ
		}
		res, err := readAll(t, buf.String(), opts)
		if err != nil || len(res.bad) != 0 || len(res.recs) != 2 {
			t.Fatalf("%s: %+v %v\n%s", f, res, err, buf.String())
		}
		for i, r := range res.recs {
			e := entries[i]
			if r.Signal != e.Signal || r.Value != e.Value || (f != Lines && (r.Classification != e.Classification || r.Note != e.Note)) {
				t.Errorf("%s record %d: %+v", f, i, r)
			}
		}
	}
	if _, err := NewWriter(io.Discard, "xml"); err == nil {
		t.Error("writer for xml")
	}
}
