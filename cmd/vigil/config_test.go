package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil/internal/mailcatcher"
	"github.com/vigil-hotline/vigil/internal/route"
)

// TestConfigExample: the example file is valid, sets nothing unknown, and
// names every setting and its environment variable, as does the README.
func TestConfigExample(t *testing.T) {
	out, stderr, code := runIn(t, nil, "", "config", "example")
	if code != 0 {
		t.Fatalf("config example: %d %s", code, stderr)
	}
	path := filepath.Join(t.TempDir(), "vigil.toml")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfigFile(path); err != nil {
		t.Fatalf("the example does not load: %v\n%s", err, out)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	walkSettings(reflect.ValueOf(&fileConfig{}).Elem(), "", func(f reflect.StructField, key string, _ reflect.Value) {
		name := key[strings.LastIndex(key, ".")+1:]
		if !strings.Contains(out, f.Tag.Get("env")) || !strings.Contains(out, name+" = ") {
			t.Errorf("the example lacks %s (%s)", key, f.Tag.Get("env"))
		}
		if !strings.Contains(string(readme), "`"+f.Tag.Get("env")+"`") {
			t.Errorf("the README does not document %s", f.Tag.Get("env"))
		}
	})
}

// TestConfigPrecedence: flags win over the environment, the environment
// over the file. (A read-only command on a missing folder names it.)
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vigil.toml")
	if err := os.WriteFile(file, []byte(fmt.Sprintf("data = %q\n", filepath.Join(dir, "from-file"))), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		vars map[string]string
		args []string
		want string
	}{
		{nil, []string{"user", "list", "--config", file}, "from-file"},
		{map[string]string{"VIGIL_CONFIG": file}, []string{"user", "list"}, "from-file"},
		{map[string]string{"VIGIL_DATA": filepath.Join(dir, "from-env")}, []string{"--config", file, "user", "list"}, "from-env"},
		{map[string]string{"VIGIL_DATA": filepath.Join(dir, "from-env")}, []string{"user", "list", "--config=" + file,
			"--data", filepath.Join(dir, "from-flag")}, "from-flag"},
	} {
		_, stderr, code := runIn(t, c.vars, "", c.args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v %v: status %d, %q: want the folder %s", c.vars, c.args, code, stderr, c.want)
		}
	}
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("dta = \"x\"\n[smtp]\nadress = \"y\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runIn(t, nil, "", "config", "check", "--config", bad)
	if code == 0 || !strings.Contains(stderr, "dta") || !strings.Contains(stderr, "smtp.adress") {
		t.Errorf("misspelt settings: status %d, %q", code, stderr)
	}
	_, stderr, code = runIn(t, nil, "", "config", "check", "--config", filepath.Join(dir, "missing.toml"))
	if code == 0 || !strings.Contains(stderr, "missing.toml") {
		t.Errorf("missing file: status %d, %q", code, stderr)
	}
}

// realRouting writes routing rules whose recipients are not examples.
func realRouting(t *testing.T, dir string) string {
	t.Helper()
	cfg := route.Default().Config()
	key := func() string {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		return id.Recipient().String()
	}
	cfg.Comment = ""
	cfg.Police.Email, cfg.Police.PublicKey = "fccu@police.be", key()
	for i := range cfg.Hotlines {
		cfg.Hotlines[i].Email = fmt.Sprintf("reports@hotline%d.eu", i)
		cfg.Hotlines[i].PublicKey = key()
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "routing.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigCheck: an unusable configuration gets one line per problem and
// status 1; a usable one status 0.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	bad := filepath.Join(dir, "bad.toml")
	example := filepath.Join(dir, "example.json")
	if err := os.WriteFile(example, route.DefaultJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	badRules := filepath.Join(dir, "map-rules.json")
	if err := os.WriteFile(badRules, []byte(`{"degree_cap": 1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(fmt.Sprintf(`data = %q
public_url = "https://report.hotline.be/"
[routing]
file = %q
[map]
rules_file = %q
`, data, example, badRules)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := runIn(t, nil, "", "config", "check", "--config", bad)
	if code != 1 {
		t.Errorf("bad config: status %d, want 1", code)
	}
	for _, want := range []string{"does not exist", "example address fccu@example.invalid", "example public key",
		"smtp: no server", "secure_cookies", "smtp.from", "map.rules_file (VIGIL_MAP_RULES): map rules: map: degree cap 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("config check does not say %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n < 6 {
		t.Errorf("want one line per problem:\n%s", out)
	}

	mc, err := mailcatcher.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	if _, _, code := runIn(t, nil, "", "migrate", "--data", data); code != 0 {
		t.Fatal("migrate failed")
	}
	good := filepath.Join(dir, "good.toml")
	if err := os.WriteFile(good, []byte(fmt.Sprintf(`data = %q
public_url = "https://report.hotline.be/"
secure_cookies = true
[routing]
file = %q
[smtp]
addr = %q
from = "Hotline <notices@hotline.be>"
tls = "opportunistic"
`, data, realRouting(t, dir), mc.Addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	lookedUp := map[string]bool{}
	env := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" },
		LookupDomain: func(_ context.Context, d string) error {
			lookedUp[d] = true
			if d == "hotline0.eu" {
				return fmt.Errorf("mail domain %s does not resolve", d)
			}
			return nil
		}}
	err = run(context.Background(), env, []string{"config", "check", "--config", good})
	if err == nil || !strings.Contains(stdout.String(), "hotline0.eu does not resolve") || strings.Count(stdout.String(), "\n") != 1 {
		t.Errorf("unresolvable recipient: %v\n%s", err, stdout.String())
	}
	if !lookedUp["police.be"] {
		t.Errorf("the police's mail domain was not checked: %v", lookedUp)
	}
	stdout.Reset()
	env.LookupDomain = func(context.Context, string) error { return nil }
	if err := run(context.Background(), env, []string{"config", "check", "--config", good}); err != nil ||
		!strings.Contains(stdout.String(), "usable") {
		t.Errorf("good config: %v\n%s%s", err, stdout.String(), stderr.String())
	}
}
