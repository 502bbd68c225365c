package main

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil/internal/auth"
	"github.com/vigil-hotline/vigil/internal/mailcatcher"
)

// guideCommands returns the deployment guide's commands from the README.
func guideCommands(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "<!-- guide:begin")
	_, block, _ = strings.Cut(block, "-->")
	block, _, ok2 := strings.Cut(block, "<!-- guide:end -->")
	if !ok || !ok2 {
		t.Fatal("the README has no deployment guide block")
	}
	var cmds []string
	for _, line := range strings.Split(block, "\n") {
		line, _, _ = strings.Cut(line, "  #")
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "```") && !strings.HasPrefix(line, "<!--") {
			cmds = append(cmds, line)
		}
	}
	return cmds
}

// shellWords splits a command line as the shell would for the guide's
// simple lines: words, double quotes, $PWD.
func shellWords(line, pwd string) []string {
	var words []string
	for _, m := range regexp.MustCompile(`"[^"]*"|\S+`).FindAllString(line, -1) {
		words = append(words, strings.ReplaceAll(strings.Trim(m, `"`), "$PWD", pwd))
	}
	return words
}

// TestDeploymentGuide follows the README's deployment guide as a new
// administrator would, from the example configuration to a running
// instance whose admin signs in with a password and TOTP, with a notice
// reaching a local mail server. What a person would do by hand is done
// here in code: editing the example configuration, writing the routing
// and the hash list, signing in with the authenticator app.
func TestDeploymentGuide(t *testing.T) {
	needVigil(t)
	dir := t.TempDir()
	mc, err := mailcatcher.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	routing := realRouting(t, dir)
	list := "hash,type,category,note\n" + strings.Repeat("1", 32) + ",md5,A,\n" + strings.Repeat("2", 32) + ",md5,B1,\n"
	if err := os.WriteFile(filepath.Join(dir, "iwf-hashes.csv"), []byte(list), 0o600); err != nil {
		t.Fatal(err)
	}
	env := os.Environ()
	addr := freeAddr(t, "127.0.0.1")
	var serve *exec.Cmd
	logs := &syncBuffer{}
	for _, line := range guideCommands(t) {
		words := shellWords(line, dir)
		switch {
		case words[0] == "go":
			continue // TestMain built the binary
		case words[0] == "export":
			env = append(env, words[1])
			continue
		case words[0] != "vigil":
			t.Fatalf("the guide runs %q, which this test does not know", line)
		}
		var redirect string
		if i := indexOf(words, ">"); i > 0 {
			redirect, words = filepath.Join(dir, words[i+1]), words[:i]
		}
		args := words[1:]
		cmd := exec.Command(vigilBin, args...)
		cmd.Dir, cmd.Env = dir, env
		switch strings.Join(args[:min(2, len(args))], " ") {
		case "config check":
			cmd.Args = append(cmd.Args, "--offline") // no DNS here
		case "user add":
			cmd.Stdin = strings.NewReader("alice's long password\n")
		case "serve":
			// Plain HTTP on loopback stands in for the TLS proxy: the
			// cookies cannot be Secure here.
			cmd.Env = append(cmd.Env, "VIGIL_ADDR="+addr, "VIGIL_SECURE_COOKIES=false")
			cmd.Stdout, cmd.Stderr = logs, logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			serve = cmd
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			continue
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s%s", line, err, out, stderr.String())
		}
		if redirect != "" {
			if err := os.WriteFile(redirect, editExample(t, string(out), dir, routing, mc.Addr), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if serve == nil {
		t.Fatal("the guide never starts vigil serve")
	}
	if got := mc.Messages(); len(got) != 1 || !strings.Contains(got[0].Header("Subject")+string(got[0].Data), "vigil-test-notice.invalid") {
		t.Errorf("the test notice did not reach the mail server: %d messages", len(got))
	}
	base := "http://" + addr
	waitHealthy(t, base, logs)
	for _, quiet := range []string{"no SMTP server", "no hash bank", "no staff account", "example routing"} {
		if strings.Contains(logs.String(), quiet) {
			t.Errorf("serve, configured by the guide, says %q:\n%s", quiet, logs.String())
		}
	}
	signInWithTOTP(t, base, "alice", "alice's long password")
}

func indexOf(words []string, w string) int {
	for i, x := range words {
		if x == w {
			return i
		}
	}
	return -1
}

// editExample does what the guide asks the administrator to do to the
// example configuration.
func editExample(t *testing.T, example, dir, routing, smtpAddr string) []byte {
	t.Helper()
	for _, r := range []struct{ from, to string }{
		{`data = "/var/lib/vigil"`, fmt.Sprintf("data = %q", filepath.Join(dir, "data"))},
		{`file = "/etc/vigil/routing.json"`, fmt.Sprintf("file = %q", routing)},
		{`trace_file = "/etc/vigil/trace.json"`, `# trace_file = ""`},
		{`addr = "smtp.hotline.example:587"`, fmt.Sprintf("addr = %q", smtpAddr)},
		{`from = "Example Hotline <notices@hotline.example>"`, `from = "Hotline <notices@hotline.be>"`},
		{`tls = "required"`, `tls = "opportunistic"`},
		{`case_prefix = "BE-"`, `case_prefix = "BE"`},
	} {
		if !strings.Contains(example, r.from) {
			t.Fatalf("the example configuration no longer has %s", r.from)
		}
		example = strings.Replace(example, r.from, r.to, 1)
	}
	return []byte(example)
}

func waitHealthy(t *testing.T, base string, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			_ = resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("vigil serve did not answer within 60 s:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([^"]*)"`)
	secretRE = regexp.MustCompile(`id="totp-secret">([^<]*)<`)
)

// signInWithTOTP signs in as a new staff member does: password, then the
// enrolment of a second factor before any other page opens.
func signInWithTOTP(t *testing.T, base, name, password string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (int, string, string) {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	token := func(body string) string {
		m := csrfRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no CSRF token in:\n%s", body)
		}
		return html.UnescapeString(m[1])
	}
	_, _, body := get("/staff/login")
	if status, loc := post("/staff/login", url.Values{"csrf": {token(body)}, "name": {name}, "password": {password}}); status != http.StatusSeeOther || !strings.Contains(loc, "/staff/enrol") {
		t.Fatalf("sign-in: %d to %q, want the TOTP enrolment", status, loc)
	}
	if status, loc, _ := get("/staff/users"); status == http.StatusOK {
		t.Fatalf("an admin without a second factor reached /staff/users (%q)", loc)
	}
	_, _, body = get("/staff/enrol")
	m := secretRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no TOTP secret on the enrolment page:\n%s", body)
	}
	code, err := auth.TOTPCode(strings.ReplaceAll(html.UnescapeString(m[1]), " ", ""), auth.TOTPStep(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := post("/staff/enrol", url.Values{"csrf": {token(body)}, "code": {code}}); status != http.StatusSeeOther {
		t.Fatalf("TOTP enrolment: %d", status)
	}
	if status, _, _ := get("/staff/users"); status != http.StatusOK {
		t.Errorf("the enrolled admin on /staff/users: %d", status)
	}
}
