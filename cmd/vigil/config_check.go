package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/notify"
	"github.com/vigil-hotline/vigil/internal/postgres"
	"github.com/vigil-hotline/vigil/internal/route"
	"github.com/vigil-hotline/vigil/internal/trace"
)

const configUsage = `Usage: vigil config check [--config FILE]   one line per problem; exit status 0 only when usable
       vigil config example                 a commented configuration file to start from

The configuration comes from --config FILE (or VIGIL_CONFIG), the VIGIL_*
environment variables (which win over the file) and, for serve and work,
their flags (which win over both).`

// runConfig checks or prints the configuration.
func runConfig(ctx context.Context, env *Env, args []string) error {
	return dispatch(ctx, env, "config", configUsage, args, []subcommand{
		{"check", runConfigCheck},
		{"example", func(_ context.Context, env *Env, args []string) error {
			fs := newFlagSet(env, "config example", configUsage)
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			fmt.Fprint(env.Stdout, exampleConfig())
			return nil
		}},
	})
}

func runConfigCheck(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "config check", configUsage)
	offline := fs.Bool("offline", false, "do not look the recipients' mail domains up (a machine without DNS)")
	testTo := fs.String("send-test-notice", "", "ADDRESS: also send a sample notice, marked as a test, through the configured SMTP server")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("config check: unexpected argument %q", fs.Arg(0))
	}
	if *offline {
		env.LookupDomain = func(context.Context, string) error { return nil }
	}
	problems := checkConfig(ctx, env)
	if *testTo != "" {
		if err := sendTestNotice(ctx, env, *testTo); err != nil {
			problems = append(problems, fmt.Sprintf("test notice to %s: %v", *testTo, err))
		} else {
			fmt.Fprintf(env.Stdout, "test notice sent to %s\n", *testTo)
		}
	}
	for _, p := range problems {
		fmt.Fprintln(env.Stdout, p)
	}
	if len(problems) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d problem(s) in the configuration", len(problems))}
	}
	src := "the environment"
	if env.ConfigFile != "" {
		src = env.ConfigFile + " and the environment"
	}
	fmt.Fprintf(env.Stdout, "configuration from %s is usable\n", src)
	return nil
}

// checkConfig returns one line per problem that would keep Vigil from
// working as a hotline needs it to: what would fail at start-up, and what
// would start but quietly reach no one.
func checkConfig(ctx context.Context, env *Env) []string {
	get := env.Getenv
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	if _, err := newLoggerChecked(env.Stderr, get("VIGIL_LOG_LEVEL"), get("VIGIL_LOG_FORMAT")); err != nil {
		add("logging: %v", err)
	}

	// The database: made by `vigil migrate`, never by a check.
	data := envOr(env, "VIGIL_DATA", "data")
	if dbURL := get("VIGIL_DATABASE_URL"); dbURL != "" {
		if !strings.HasPrefix(dbURL, "postgres://") && !strings.HasPrefix(dbURL, "postgresql://") {
			add("database_url (VIGIL_DATABASE_URL): must start with postgres://, or be empty for SQLite")
		} else if err := checkPostgres(ctx, dbURL); err != nil {
			add("database: %v", err)
		}
	} else if err := requireDataFolder(data, filepath.Join(data, "vigil.db")); err != nil {
		add("%v", err)
	}

	// Routing: the example, or anything left of it, forwards to no one.
	if file := get("VIGIL_ROUTING_CONFIG"); file == "" {
		add("routing: none configured (routing.file, VIGIL_ROUTING_CONFIG): the built-in example routing forwards to .invalid addresses")
	} else if rules, err := route.Load(file); err != nil {
		add("routing: %v", err)
	} else {
		for _, p := range rules.ExampleProblems() {
			add("routing %s: %s", file, p)
		}
		for _, c := range contacts(rules.Config()) {
			if route.IsExampleAddress(c.Email) {
				continue
			}
			if err := checkMailDomain(ctx, env, c.Email); err != nil {
				add("routing %s: %s (%s): %v", file, c.field, c.Name, err)
			}
		}
	}
	if file := get("VIGIL_TRACE_CONFIG"); file != "" {
		if _, err := trace.LoadConfig(file); err != nil {
			add("trace: %v", err)
		}
	}

	// Mail.
	from := envOr(env, "VIGIL_SMTP_FROM", "Vigil <vigil@localhost>")
	if a, err := mail.ParseAddress(from); err != nil {
		add("smtp.from (VIGIL_SMTP_FROM) %q: %v", from, err)
	} else if route.IsExampleAddress(a.Address) {
		add("smtp.from (VIGIL_SMTP_FROM) %q: replies to an example address reach no one", from)
	}
	tlsMode := envOr(env, "VIGIL_SMTP_TLS", "required")
	if tlsMode != "required" && tlsMode != "implicit" && tlsMode != "opportunistic" {
		add("smtp.tls (VIGIL_SMTP_TLS) %q: want required, implicit or opportunistic", tlsMode)
	}
	if addr := get("VIGIL_SMTP_ADDR"); addr == "" {
		add("smtp: no server (smtp.addr, VIGIL_SMTP_ADDR): notices and forwards would only be written to %s", filepath.Join(data, "outbox"))
	} else if err := checkSMTP(ctx, addr, tlsMode == "implicit"); err != nil {
		add("smtp %s: %v", addr, err)
	}

	// The web server.
	secure := envBool(env, "VIGIL_SECURE_COOKIES")
	if pub := get("VIGIL_PUBLIC_URL"); pub != "" {
		u, err := url.Parse(pub)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			add("public_url (VIGIL_PUBLIC_URL) %q: want https://host/", pub)
		case u.Scheme == "https" && !secure:
			add("secure_cookies (VIGIL_SECURE_COOKIES): off although public_url is https: staff sessions would not be marked Secure")
		case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
			add("public_url (VIGIL_PUBLIC_URL) %q: staff would sign in over plain HTTP; put Vigil behind TLS", pub)
		}
	}
	if s := get("VIGIL_SECRET"); s != "" {
		if b, err := hex.DecodeString(s); err != nil || len(b) < 32 {
			add("secret (VIGIL_SECRET): want at least 64 hexadecimal digits")
		}
	}
	if f := get("VIGIL_IDENTITY"); f != "" {
		if _, err := loadIdentity(f); err != nil {
			add("hotline.identity (VIGIL_IDENTITY): %v", err)
		}
	}
	if get("VIGIL_S3_ENDPOINT") != "" {
		if _, err := openBlobStore(&Env{Getenv: func(k string) string {
			if k == "VIGIL_S3_CREATE_BUCKET" {
				return "" // a check creates nothing
			}
			return get(k)
		}}, data, ""); err != nil {
			add("s3: %v", err)
		}
	}
	if v := get("VIGIL_WORKBENCH_BUDGET"); v != "" {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			add("workbench.budget (VIGIL_WORKBENCH_BUDGET) %q: want a duration such as 2h", v)
		}
	}
	if _, err := vigil.ParseVocabulary(get("VIGIL_CLASSIFICATIONS")); err != nil {
		add("banks.classifications (VIGIL_CLASSIFICATIONS): %s", vigil.ErrorMessage(err))
	}
	if _, err := mapRules(env); err != nil {
		add("map.rules_file (VIGIL_MAP_RULES): %v", err)
	}
	return problems
}

// sendTestNotice sends a sample provider notice through the configured
// SMTP server, so that an administrator sees a real message arrive.
func sendTestNotice(ctx context.Context, env *Env, to string) error {
	addr, err := mail.ParseAddress(to)
	if err != nil {
		return err
	}
	tc := &takedownConfig{SMTPAddr: env.Getenv("VIGIL_SMTP_ADDR"), SMTPFrom: envOr(env, "VIGIL_SMTP_FROM", "Vigil <vigil@localhost>"),
		SMTPUser: env.Getenv("VIGIL_SMTP_USER"), SMTPTLS: envOr(env, "VIGIL_SMTP_TLS", "required"),
		Hotline: envOr(env, "VIGIL_HOTLINE_NAME", "Vigil hotline")}
	if tc.SMTPAddr == "" {
		return fmt.Errorf("no SMTP server configured")
	}
	mailer, err := tc.newMailer(env)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	msg, err := mailer.RenderNotice(&notify.Notice{ID: fmt.Sprintf("config-test-%d", now.UnixNano()), Kind: notify.KindNotice,
		To: []mail.Address{*addr}, Date: now, CaseRef: vigil.CaseReference(env.Getenv("VIGIL_CASE_PREFIX"), 0, now),
		URL: "https://vigil-test-notice.invalid/this-is-a-test", SeenAt: now, Category: "test", EvidenceRef: "configuration test"})
	if err != nil {
		return err
	}
	_, err = mailer.Send(ctx, msg)
	return err
}

type checkedContact struct {
	field, Name, Email string
}

// contacts lists the routing's recipients of forwards.
func contacts(c route.Config) []checkedContact {
	out := []checkedContact{{"police", c.Police.Name, c.Police.Email}}
	for i, h := range c.Hotlines {
		out = append(out, checkedContact{fmt.Sprintf("hotlines[%d]", i), h.Name, h.Email})
	}
	return out
}

// checkMailDomain asks DNS whether mail to addr can be delivered at all:
// the domain has an MX record, or at least an address.
func checkMailDomain(ctx context.Context, env *Env, addr string) error {
	_, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return fmt.Errorf("%q is not an e-mail address", addr)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if env.LookupDomain != nil {
		return env.LookupDomain(ctx, domain)
	}
	if mx, err := net.DefaultResolver.LookupMX(ctx, domain); err == nil && len(mx) > 0 {
		return nil
	}
	if _, err := net.DefaultResolver.LookupHost(ctx, domain); err != nil {
		return fmt.Errorf("mail domain %s does not resolve: %w", domain, err)
	}
	return nil
}

// checkSMTP connects to the mail server and reads its greeting. With
// implicit TLS the greeting comes after the handshake, so a connection
// is all that is checked.
func checkSMTP(ctx context.Context, addr string, implicit bool) error {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("not reachable: %w", err)
	}
	defer conn.Close()
	if implicit {
		return nil
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no greeting: %w", err)
	}
	if !strings.HasPrefix(line, "220") {
		return fmt.Errorf("greeting %q is not 220", strings.TrimSpace(line))
	}
	return nil
}

// checkPostgres connects and looks for Vigil's schema, changing nothing.
func checkPostgres(ctx context.Context, dbURL string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	drv, err := postgres.Open(ctx, postgres.Config{URL: dbURL})
	if err != nil {
		return fmt.Errorf("%s: %w", redactURL(dbURL), err)
	}
	defer func() { _ = drv.Close() }() // only read from
	return requireSchema(ctx, drv.Reader(), redactURL(dbURL))
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
