package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-hotline/vigil/internal/storetest"
)

// vigilBin is the binary built once for the tests that run Vigil as a
// process (to kill it, or to read its logs as an operator would). Those
// tests are slow, so -short leaves them out and builds nothing: each
// starts with needVigil.
var vigilBin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "vigil-bin-")
	if err != nil {
		panic(err)
	}
	if !testing.Short() {
		vigilBin = filepath.Join(dir, "vigil")
		out, err := exec.Command("go", "build", "-o", vigilBin, ".").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build vigil: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running `vigil serve`.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	logs   *bytes.Buffer
	dbURL  string
	data   string
	exited chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func freeAddr(t *testing.T, ip string) string {
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// needVigil skips a test that runs Vigil as a process in -short mode.
func needVigil(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs vigil as a process: not in -short mode")
	}
}

// vigilCmd runs a vigil command to completion against the given store.
func vigilCmd(t *testing.T, data, dbURL, stdin string, args ...string) string {
	t.Helper()
	needVigil(t)
	cmd := exec.Command(vigilBin, args...)
	cmd.Env = append(os.Environ(), "VIGIL_DATA="+data, "VIGIL_DATABASE_URL="+dbURL)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vigil %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

func startServe(t *testing.T, data, dbURL string, logBuf io.Writer) *proc {
	t.Helper()
	return startServeOn(t, "127.0.0.1", data, dbURL, logBuf)
}

func startServeOn(t *testing.T, ip, data, dbURL string, logBuf io.Writer) *proc {
	t.Helper()
	needVigil(t)
	addr := freeAddr(t, ip)
	cmd := exec.Command(vigilBin, "serve", "--addr", addr, "--allow-example-routing")
	cmd.Env = append(os.Environ(), "VIGIL_DATA="+data, "VIGIL_DATABASE_URL="+dbURL, "VIGIL_LOG_LEVEL=debug")
	cmd.Stdout, cmd.Stderr = logBuf, logBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, url: "http://" + addr, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.url + "/healthz"); err == nil {
			resp.Body.Close()
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("vigil serve exited at start-up")
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("vigil serve did not answer within 30 s")
	return nil
}

func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.t.Error("vigil serve did not stop within 20 s of SIGTERM")
		p.kill()
	}
}

func postReport(t *testing.T, base, key string, urls ...string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"urls": urls, "language": "en"})
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/reports", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusCreated || out["tracking_code"] == "" {
		t.Fatalf("report: %d %v", resp.StatusCode, out)
	}
	return out["tracking_code"]
}

// storeURLs gives, for each store under test, a data folder and database
// URL (empty for SQLite).
func storeURLs(t *testing.T, kind string) (data, dbURL string) {
	data = t.TempDir()
	if kind == "postgres" {
		dbURL = storetest.MigratedPostgresURL(t)
	}
	// Only serve, migrate and demo create a database; tests of the other
	// commands start from an empty one, as an operator would.
	vigilCmd(t, data, dbURL, "", "migrate")
	return data, dbURL
}

// TestReportSurvivesSIGKILL: a report acknowledged with 2xx is there, with
// its crawl job, after the server is killed right after the response.
func TestReportSurvivesSIGKILL(t *testing.T) {
	needVigil(t)
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			data, dbURL := storeURLs(t, kind)
			key := strings.TrimSpace(vigilCmd(t, data, dbURL, "", "apikey", "create", "durability"))
			p := startServe(t, data, dbURL, io.Discard)
			var codes []string
			var mu sync.Mutex
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					c := postReport(t, p.url, key, fmt.Sprintf("https://durable.example/%d", i))
					mu.Lock()
					codes = append(codes, c)
					mu.Unlock()
				}(i)
			}
			wg.Wait()
			last := postReport(t, p.url, key, "https://durable.example/last")
			p.kill() // at once, after the last 201
			codes = append(codes, last)

			jobs := vigilCmd(t, data, dbURL, "", "jobs", "--json", "--limit", "100")
			if n := strings.Count(jobs, `"Kind":"crawl"`); n != len(codes) {
				t.Errorf("%d crawl jobs after SIGKILL, want %d:\n%s", n, len(codes), jobs)
			}
			p = startServe(t, data, dbURL, io.Discard)
			for _, c := range codes {
				req, _ := http.NewRequest(http.MethodGet, p.url+"/api/v1/reports/"+c, nil)
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("report %s: status %d after SIGKILL", c, resp.StatusCode)
				}
			}
		})
	}
}

// TestReporterAnonymity: after reports from 127.0.0.1, through the form
// and the API, neither the database nor the logs hold that address or the
// client's user agent.
func TestReporterAnonymity(t *testing.T) {
	needVigil(t)
	const agent = "AnonymityProbe/7.3 (unique-agent-string)"
	for _, kind := range storetest.Kinds {
		t.Run(kind, func(t *testing.T) {
			data, dbURL := storeURLs(t, kind)
			key := strings.TrimSpace(vigilCmd(t, data, dbURL, "", "apikey", "create", "anon"))
			logs := &syncBuffer{}
			// The server listens on 127.0.0.2 and the client sends from
			// 127.0.0.1, so that address can only come from the reporter.
			p := startServeOn(t, "127.0.0.2", data, dbURL, logs)
			dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}}
			client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
			do := func(req *http.Request) string {
				req.Header.Set("User-Agent", agent)
				req.Header.Set("X-Forwarded-For", "127.0.0.1")
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return string(b) + strings.Join(resp.Header.Values("Set-Cookie"), ";")
			}
			// The form, as a browser would send it.
			req, _ := http.NewRequest(http.MethodGet, p.url+"/?lang=nl", nil)
			page := do(req)
			tok := between(page, `name="csrf" value="`, `"`)
			form := "csrf=" + tok + "&lang=nl&urls=https%3A%2F%2Fanon.example%2Fa&description=gezien"
			req, _ = http.NewRequest(http.MethodPost, p.url+"/report?lang=nl", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Cookie", "vigil_csrf="+tok)
			if out := do(req); !strings.Contains(out, "tracking-code") {
				t.Fatalf("form report refused: %.500s", out)
			}
			// A refused one too: errors must not log the address either.
			req, _ = http.NewRequest(http.MethodPost, p.url+"/report", strings.NewReader("urls=x"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			do(req)
			body := `{"urls": ["https://anon.example/b"], "language": "fr"}`
			req, _ = http.NewRequest(http.MethodPost, p.url+"/api/v1/reports", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			do(req)
			p.stop()

			for _, secret := range []string{"127.0.0.1", agent, "AnonymityProbe"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("logs contain %q:\n%s", secret, logs.String())
				}
			}
			if !strings.Contains(logs.String(), "report received") {
				t.Errorf("logs do not show the reports at all:\n%s", logs.String())
			}
			dump := dumpStore(t, kind, data, dbURL)
			if !strings.Contains(dump, "anon.example") {
				t.Fatal("the store dump does not hold the reports: the check would prove nothing")
			}
			for _, secret := range []string{"127.0.0.1", agent, "AnonymityProbe"} {
				if strings.Contains(dump, secret) {
					t.Errorf("the %s store contains %q", kind, secret)
				}
			}
		})
	}
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	j := strings.Index(s, b)
	if j < 0 {
		return ""
	}
	return s[:j]
}

// dumpStore returns everything the store holds as text: every file of the
// data folder for SQLite (database, WAL and all), every row of every table
// for PostgreSQL.
func dumpStore(t *testing.T, kind, data, dbURL string) string {
	t.Helper()
	var sb strings.Builder
	if kind == "sqlite" {
		err := filepath.Walk(data, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			sb.Write(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return sb.String()
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		_ = rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 5 {
		t.Fatalf("only %d tables found", len(tables))
	}
	for _, table := range tables {
		rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT row_to_json(t)::text FROM %s t`, pgx.Identifier{table}.Sanitize()))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			sb.WriteString(s)
		}
		rows.Close()
	}
	return sb.String()
}
