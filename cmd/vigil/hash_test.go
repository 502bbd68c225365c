package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil/internal/conformance"
)

func hashTestEnv() (*Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }}, &out, &errb
}

// writeHashTestTree makes a folder with two PNGs (one nested), a text file
// and an empty file.
func writeHashTestTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{"a.png", "sub/b.png"} {
		m := image.NewRGBA(image.Rect(0, 0, 40, 30))
		for y := 0; y < 30; y++ {
			for x := 0; x < 40; x++ {
				m.Set(x, y, color.RGBA{uint8(x * 6 * (i + 1)), uint8(y * 8), uint8((x + y) * 3), 255})
			}
		}
		f, err := os.Create(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, m)
		f.Close()
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644)
	os.WriteFile(filepath.Join(dir, "empty.jpg"), nil, 0o644)
	return dir
}

func TestHashCommandJSON(t *testing.T) {
	dir := writeHashTestTree(t)
	env, out, _ := hashTestEnv()
	err := run(context.Background(), env, []string{"hash", "--dihedral", dir})
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("want exit status 1 for the two bad files, got %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	// WalkDir order: a.png, empty.jpg, notes.txt, sub/b.png.
	want := []string{"a.png", "empty.jpg", "notes.txt", filepath.Join("sub", "b.png")}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %d not JSON: %q", i, l)
		}
		if v["path"] != filepath.Join(dir, want[i]) {
			t.Errorf("line %d path %v, want %s", i, v["path"], want[i])
		}
		isImage := strings.HasSuffix(want[i], ".png")
		if isImage {
			if len(v["pdq"].(string)) != 64 || v["quality"] == nil || v["error"] != nil {
				t.Errorf("line %d: %s", i, l)
			}
			if d, _ := v["dihedral"].([]any); len(d) != 8 || d[0] != v["pdq"] {
				t.Errorf("line %d dihedral: %v", i, v["dihedral"])
			}
		} else if v["error"] == nil || v["pdq"] != nil {
			t.Errorf("line %d should be an error: %s", i, l)
		}
		// Every file that could be read has its digests, images or not.
		if len(v["sha256"].(string)) != 64 || len(v["md5"].(string)) != 32 || len(v["sha1"].(string)) != 40 {
			t.Errorf("line %d digests: %s", i, l)
		}
	}
	// The empty file's MD5 is the well-known empty digest.
	if !strings.Contains(lines[1], `"md5":"d41d8cd98f00b204e9800998ecf8427e"`) {
		t.Errorf("empty file: %s", lines[1])
	}
}

func TestHashCommandReferenceFormat(t *testing.T) {
	dir := writeHashTestTree(t)
	env, out, errb := hashTestEnv()
	a := filepath.Join(dir, "a.png")
	if err := run(context.Background(), env, []string{"hash", "--format", "reference", a}); err != nil {
		t.Fatal(err)
	}
	f := strings.Split(strings.TrimSpace(out.String()), ",")
	if len(f) != 3 || len(f[0]) != 64 || f[2] != a {
		t.Errorf("reference line %q", out.String())
	}
	out.Reset()
	err := run(context.Background(), env, []string{"hash", "--format", "reference", filepath.Join(dir, "missing.png"), a})
	if err == nil || !strings.Contains(errb.String(), "missing.png") || strings.Count(out.String(), "\n") != 1 {
		t.Errorf("missing file: err %v, stderr %q, stdout %q", err, errb, out)
	}
}

func TestHashCommandConformanceSample(t *testing.T) {
	// The reference CLI's output for the bridge photo, from the README.
	p := filepath.Join(conformance.PDQDir(t), "images", "bridge-mods", "aaa-orig.jpg")
	env, out, _ := hashTestEnv()
	if err := run(context.Background(), env, []string{"hash", "--format", "reference", p}); err != nil {
		t.Fatal(err)
	}
	want := "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22,100," + p + "\n"
	if out.String() != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
}

func TestHashCommandLimitsAndUsage(t *testing.T) {
	dir := writeHashTestTree(t)
	env, out, _ := hashTestEnv()
	err := run(context.Background(), env, []string{"hash", "--max-pixels", "100", filepath.Join(dir, "a.png")})
	if err == nil || !strings.Contains(out.String(), "over the limit") {
		t.Errorf("pixel limit: err %v, out %s", err, out)
	}
	for _, args := range [][]string{{"hash"}, {"hash", "--format", "xml", dir}, {"hash", "--nope"}} {
		env, _, _ := hashTestEnv()
		var ee *exitError
		if err := run(context.Background(), env, args); !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("%v: want usage error (status 2), got %v", args, err)
		}
	}
}

func TestBenchHashCommand(t *testing.T) {
	dir := writeHashTestTree(t)
	env, out, _ := hashTestEnv()
	if err := run(context.Background(), env, []string{"bench", "hash", "--json", "--seconds", "0.05", dir}); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("not JSON: %q", out)
	}
	for _, k := range []string{"images_per_cpu_second", "hash_stage_per_second"} {
		if f, _ := v[k].(float64); f <= 0 {
			t.Errorf("%s = %v", k, v[k])
		}
	}
	if v["failed"].(float64) != 2 {
		t.Errorf("failed = %v, want 2 (the text and empty files)", v["failed"])
	}
}

func TestBenchHashGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "photos")
	env, _, _ := hashTestEnv()
	if err := run(context.Background(), env, []string{"bench", "hash", "--generate", dir, "--count", "2"}); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if len(names) != 2 {
		t.Fatalf("wrote %v, want 2 files", names)
	}
	first, _ := os.ReadFile(names[0])
	second, _ := os.ReadFile(names[1])
	if bytes.Equal(first, second) {
		t.Error("the two photos are identical")
	}
	img, err := jpeg.Decode(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := img.(*image.YCbCr); !ok || m.Bounds() != image.Rect(0, 0, 1024, 768) || m.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		t.Errorf("got %T %v, want a 1024×768 4:2:0 JPEG", img, img.Bounds())
	}
	// Reproducible: the same seed writes the same bytes.
	again := filepath.Join(t.TempDir(), "again")
	if err := run(context.Background(), env, []string{"bench", "hash", "--generate", again, "--count", "1"}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(again, filepath.Base(names[0]))); !bytes.Equal(b, first) {
		t.Error("a second run wrote different bytes")
	}
	// --generate with a PATH as well is a usage error.
	var ee *exitError
	if err := run(context.Background(), env, []string{"bench", "hash", "--generate", again, dir}); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("--generate with PATH: want usage error, got %v", err)
	}
	// The figures are per CPU-second and hash_stage_per_second is one of them.
	env, out, _ := hashTestEnv()
	if err := run(context.Background(), env, []string{"bench", "hash", "--json", "--seconds", "0.05", dir}); err != nil {
		t.Fatal(err)
	}
	var v map[string]float64
	json.Unmarshal(bytes.TrimSpace(out.Bytes()), &v) // non-numeric fields are skipped with an error
	if v["images"] == 0 || v["hash_stage_per_second"] != v["hash_stage_per_cpu_second"] || v["hash_stage_wall_per_second"] <= 0 {
		t.Errorf("figures: %s", out)
	}
}
