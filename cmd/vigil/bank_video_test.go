package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
)

// TestBankVideoCommands imports videos' vPDQ hashes (reference text, TE
// JSON, JSON lines), exports them back and matches a file's hash list.
func TestBankVideoCommands(t *testing.T) {
	vigil := bankEnv(t)
	dir := t.TempDir()
	h := func(c string) string { return strings.Repeat(c, 64) }
	ref := "0,100," + h("a") + ",0.000\n30,100," + h("5") + ",1.000\n"
	te := `{"0": {"quality": 100, "hash": "` + h("c") + `", "timestamp": 0}}`
	jsonl := `{"vpdq": [{"frame": 0, "quality": 90, "pdq": "` + h("3") + `", "timestamp": 0}], "classification": "iwf-b"}
not json
`
	for name, body := range map[string]string{"a.txt": ref, "b.json": te, "c.jsonl": jsonl} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, errb, err := vigil("bank", "create", "videos", "--source", "hotline"); err != nil {
		t.Fatal(err, errb)
	}
	out, errb, err := vigil("bank", "import-video", "videos", filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.json"),
		filepath.Join(dir, "c.jsonl"), "--classification", "baseline")
	if exitCode(err) != 1 || !strings.Contains(out, "3 videos added, 1 bad") || !strings.Contains(errb, "line 2") {
		t.Fatalf("import: %v\n%s\n%s", err, out, errb)
	}
	// Again: nothing new.
	out, _, _ = vigil("bank", "import-video", "videos", filepath.Join(dir, "a.txt"))
	if !strings.Contains(out, "0 videos added") {
		t.Fatalf("re-import: %s", out)
	}
	out, errb, err = vigil("bank", "export-video", "videos")
	if err != nil || strings.Count(out, "\n") != 3 || !strings.Contains(out, `"classification":"iwf-b"`) {
		t.Fatalf("export: %v\n%s\n%s", err, out, errb)
	}
	exp := t.TempDir()
	if _, errb, err := vigil("bank", "export-video", "videos", "--dir", exp); err != nil {
		t.Fatal(err, errb)
	}
	fs, _ := countFiles(t, exp)
	if fs != 3 {
		t.Fatalf("%d files exported", fs)
	}
	if out, errb, err := vigil("bank", "video-threshold", "videos", "90", "10"); err != nil || !strings.Contains(out, "P_q 90%") {
		t.Fatalf("threshold: %v %s %s", err, out, errb)
	}
	if _, _, err := vigil("bank", "video-threshold", "videos", "0", "10"); exitCode(err) != 2 {
		t.Fatalf("P_q 0 accepted: %v", err)
	}
	// The reference file matches itself at 100%/100% (vigil match on a
	// hash list is the images' path; here through the store's entries).
	b, _ := os.ReadFile(filepath.Join(exp, vigilDigest(t, ref)+".txt"))
	if string(b) != ref {
		t.Fatalf("exported reference file differs:\n%s", b)
	}
}

func countFiles(t *testing.T, dir string) (int, error) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	return len(ents), err
}

func vigilDigest(t *testing.T, ref string) string {
	t.Helper()
	fs, err := vigil.ParseVideoFrames(ref)
	if err != nil {
		t.Fatal(err)
	}
	return vigil.VideoDigest(fs)
}
