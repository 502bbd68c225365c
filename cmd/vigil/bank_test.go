package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/hashing"
)

// bankEnv returns a command environment whose data folder is a fresh
// temporary one.
func bankEnv(t *testing.T) func(args ...string) (string, string, error) {
	t.Helper()
	data := t.TempDir()
	vigil := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
			Getenv: func(k string) string {
				if k == "VIGIL_DATA" {
					return data
				}
				return ""
			}}
		err := run(context.Background(), env, args)
		return out.String(), errb.String(), err
	}
	if _, stderr, err := vigil("migrate"); err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr)
	}
	return vigil
}

func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	}
	return 1
}

func TestBankCommands(t *testing.T) {
	vigil := bankEnv(t)
	dir := t.TempDir()
	// Synthetic values only.
	pdqA := strings.Repeat("a5", 32)
	pdqB := strings.Repeat("5a", 32)
	md5 := strings.Repeat("0f", 16)
	csv := filepath.Join(dir, "list.csv")
	os.WriteFile(csv, []byte("hash,type,classification,note\n"+
		pdqA+",pdq,iwf-a,first\n"+
		"nothex,pdq,,\n"+ // line 3
		md5+",md5,,\n"+
		pdqB+",,,\n"), 0o644) // line 5: no type

	if out, _, err := vigil("bank", "create", "partner", "--source", "inhope-partner", "--terms", "shared under MoU", "--threshold", "20"); err != nil || !strings.Contains(out, "bank partner created") {
		t.Fatalf("create: %v %s", err, out)
	}
	if _, _, err := vigil("bank", "create", "partner", "--source", "iwf"); exitCode(err) != 1 || !strings.Contains(err.Error(), "exists") {
		t.Errorf("duplicate: %v", err)
	}
	for _, args := range [][]string{
		{"bank", "create", "x", "--source", "moon"},
		{"bank", "create", "x", "--source", "iwf", "--kind", "maybe"},
		{"bank", "create", "x", "--source", "iwf", "--threshold", "99"},
		{"bank", "create", "--source", "iwf"},
		{"bank", "frobnicate"},
		{"bank", "import", "partner"},
		{"bank", "import", "partner", csv, "--format", "xml"},
		{"bank", "threshold", "partner", "many"},
	} {
		if _, _, err := vigil(args...); exitCode(err) != 2 {
			t.Errorf("%v: want usage error, got %v", args, err)
		}
	}

	// Bad lines are reported by number and skipped: exit status 1.
	out, _, err := vigil("bank", "import", "partner", csv)
	if exitCode(err) != 1 || !strings.Contains(out, "4 rows read, 2 added, 0 duplicates, 2 bad") ||
		!strings.Contains(out, "line 3:") || !strings.Contains(out, "line 5: no hash type") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	// Again: nothing added. Strict stops at line 3.
	out, _, _ = vigil("bank", "import", "partner", csv)
	if !strings.Contains(out, "0 added, 2 duplicates") {
		t.Errorf("second import: %s", out)
	}
	if out, _, err := vigil("bank", "import", "--strict", "partner", csv); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("strict: %v %s", err, out)
	}
	// A plain list needs --type.
	list := filepath.Join(dir, "list.txt")
	os.WriteFile(list, []byte(pdqB+"\n"), 0o644)
	if _, _, err := vigil("bank", "import", "partner", list); err == nil || !strings.Contains(err.Error(), "--type") {
		t.Errorf("list without type: %v", err)
	}
	if out, _, err := vigil("bank", "import", "partner", list, "--type", "pdq", "--classification", "baseline"); err != nil || !strings.Contains(out, "1 added") {
		t.Errorf("list: %v %s", err, out)
	}
	if _, _, err := vigil("bank", "import", "nobank", list, "--type", "pdq"); err == nil || !strings.Contains(err.Error(), "no bank") {
		t.Errorf("missing bank: %v", err)
	}

	out, _, err = vigil("bank", "list")
	if err != nil || !strings.Contains(out, "partner") || !strings.Contains(out, "inhope-partner") || !strings.Contains(out, " 3 ") {
		t.Errorf("list: %v\n%s", err, out)
	}

	// Export and import into another bank: the same entries.
	out, _, err = vigil("bank", "export", "partner", "--format", "jsonl")
	if err != nil || strings.Count(out, "\n") != 3 || !strings.Contains(out, `"classification":"iwf-a"`) {
		t.Fatalf("export: %v\n%s", err, out)
	}
	exported := filepath.Join(dir, "export.jsonl")
	os.WriteFile(exported, []byte(out), 0o644)
	vigil("bank", "create", "copy", "--source", "other")
	if out, _, err := vigil("bank", "import", "copy", exported); err != nil || !strings.Contains(out, "3 added") {
		t.Errorf("re-import: %v %s", err, out)
	}
	if out, _, _ := vigil("bank", "export", "copy", "--format", "lines", "--type", "md5"); out != md5+"\n" {
		t.Errorf("lines export: %q", out)
	}

	for _, args := range [][]string{{"bank", "disable", "copy"}, {"bank", "enable", "copy"}, {"bank", "threshold", "copy", "10"},
		{"bank", "remove-entry", "copy", "md5", strings.ToUpper(md5)}} {
		if _, _, err := vigil(args...); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
	if _, _, err := vigil("bank", "remove-entry", "copy", "md5", md5); err == nil || !strings.Contains(err.Error(), "has no md5 entry") {
		t.Errorf("second removal: %v", err)
	}
	out, _, _ = vigil("bank", "list")
	if !strings.Contains(out, "copy") || !strings.Contains(out, "10") {
		t.Errorf("list after changes: %s", out)
	}
}

// writeBenignPNG writes a generated picture of coloured blocks.
func writeBenignPNG(t *testing.T, path string, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	m := image.NewRGBA(image.Rect(0, 0, 128, 96))
	for by := 0; by < 96; by += 16 {
		for bx := 0; bx < 128; bx += 16 {
			c := color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
			for y := by; y < by+16; y++ {
				for x := bx; x < bx+16; x++ {
					m.Set(x, y, c)
				}
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, m); err != nil {
		t.Fatal(err)
	}
}

func TestMatchCommand(t *testing.T) {
	vigil := bankEnv(t)
	dir := t.TempDir()
	known, other := filepath.Join(dir, "known.png"), filepath.Join(dir, "other.png")
	writeBenignPNG(t, known, 1)
	writeBenignPNG(t, other, 2)
	res, err := hashing.HashFile(known, hashing.Options{})
	if err != nil || res.Quality < 50 {
		t.Fatalf("hash: %v quality %d", err, res.Quality)
	}
	list := filepath.Join(dir, "known.txt")
	os.WriteFile(list, []byte(res.PDQ.String()+"\n"), 0o644)
	if _, _, err := vigil("bank", "create", "confirmed", "--source", "hotline"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := vigil("bank", "import", "confirmed", list, "--type", "pdq", "--classification", "national"); err != nil {
		t.Fatal(err)
	}

	out, _, err := vigil("match", known, other, "pdq:"+res.PDQ.String())
	if err != nil {
		t.Fatalf("match: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "bank confirmed entry 1 national: pdq "+res.PDQ.String()+" distance 0") ||
		lines[1] != other+": no match" || !strings.Contains(lines[2], "distance 0") {
		t.Errorf("output:\n%s", out)
	}
	// A bare 64-digit hash is never guessed.
	out, _, err = vigil("match", res.PDQ.String())
	if exitCode(err) != 1 || !strings.Contains(out, "SHA-256 or PDQ") {
		t.Errorf("bare 64 digits: %v %s", err, out)
	}
	out, _, err = vigil("match", "--json", "--type", "pdq", res.PDQ.String(), strings.Repeat("0", 32))
	if err != nil {
		t.Fatal(err)
	}
	var ls []matchLine
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m matchLine
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		ls = append(ls, m)
	}
	if len(ls) != 2 || len(ls[0].Matches) != 1 || ls[0].Matches[0].BankName != "confirmed" || ls[1].Matches == nil || len(ls[1].Matches) != 0 {
		t.Errorf("json: %s", out)
	}
	// A low quality given for the hash stops the PDQ match.
	if out, _, _ := vigil("match", "--quality", "10", "pdq:"+res.PDQ.String()); !strings.Contains(out, "no match") {
		t.Errorf("low quality: %s", out)
	}
	if _, _, err := vigil("match"); exitCode(err) != 2 {
		t.Errorf("no args: %v", err)
	}
}

// TestBankImportVocabulary: the IWF's A/B/C and NCMEC's A1…B2 are mapped on
// import; a label neither mapped nor known is kept and listed.
func TestBankImportVocabulary(t *testing.T) {
	vigil := bankEnv(t)
	dir := t.TempDir()
	var rows strings.Builder
	rows.WriteString("hash,type,category\n")
	labels := []string{"A", "B", "C", "A1", "A2", "B1", "B2", "Local Law 7", "Local Law 7"}
	for i, l := range labels {
		fmt.Fprintf(&rows, "%032x,md5,%s\n", i+1, l)
	}
	list := filepath.Join(dir, "iwf.csv")
	if err := os.WriteFile(list, []byte(rows.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := vigil("bank", "create", "mixed", "--source", "iwf"); err != nil {
		t.Fatal(err)
	}
	out, _, err := vigil("bank", "import", "mixed", list)
	if err != nil || !strings.Contains(out, "9 added") || !strings.Contains(out, "local-law-7 (2)") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	out, _, err = vigil("bank", "export", "mixed", "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"iwf-a", "iwf-b", "iwf-c", "ncmec-a1", "ncmec-a2", "ncmec-b1", "ncmec-b2", "local-law-7"} {
		if !strings.Contains(out, ","+want+",") {
			t.Errorf("export lacks %s:\n%s", want, out)
		}
	}
	// A mapping given on the line wins over the default.
	if _, _, err := vigil("bank", "create", "mapped", "--source", "iwf"); err != nil {
		t.Fatal(err)
	}
	if out, _, err := vigil("bank", "import", "mapped", list, "--map", "A=baseline", "--map", "local law 7=national"); err != nil ||
		strings.Contains(out, "kept labels") {
		t.Fatalf("import with --map: %v\n%s", err, out)
	}
	out, _, _ = vigil("bank", "export", "mapped")
	if !strings.Contains(out, fmt.Sprintf("%032x,baseline", 1)) || !strings.Contains(out, "national") {
		t.Errorf("--map not applied:\n%s", out)
	}
}
