package main

import (
	"errors"
	"flag"
	"fmt"
	"net/mail"
	"path/filepath"
	"time"

	"github.com/riverqueue/river"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/crawl"
	"github.com/vigil-hotline/vigil/internal/federation"
	"github.com/vigil-hotline/vigil/internal/notify"
	"github.com/vigil-hotline/vigil/internal/route"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/takedown"
	"github.com/vigil-hotline/vigil/internal/trace"
)

// takedownConfig configures trace, routing, notices and rechecks.
type takedownConfig struct {
	TraceConfig   string
	RoutingConfig string
	SMTPAddr      string
	SMTPFrom      string
	SMTPUser      string
	SMTPTLS       string
	Hotline       string
	CaseRefPrefix string
	FirstRecheck  time.Duration
	RecheckEvery  time.Duration
	// TraceResolve fixes names for the tracer (tests only), as
	// --crawl-resolve does for the crawler.
	TraceResolve multiFlag
	// AllowExample lets the built-in example routing, or routing that still
	// holds its example recipients, be used (trying Vigil out; the demo).
	AllowExample bool

	// Set in code by the demo and tests.
	traceDeps   trace.Deps
	traceConfig *trace.Config
	rules       *route.Rules
}

func takedownFlags(fs *flag.FlagSet, env *Env) *takedownConfig {
	c := &takedownConfig{}
	fs.StringVar(&c.TraceConfig, "trace-config", env.Getenv("VIGIL_TRACE_CONFIG"), "trace configuration (JSON: MaxMind databases, RDAP servers, CDNs) [VIGIL_TRACE_CONFIG]")
	fs.StringVar(&c.RoutingConfig, "routing-config", env.Getenv("VIGIL_ROUTING_CONFIG"), "routing rules (JSON; default: the Belgian example) [VIGIL_ROUTING_CONFIG]")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", env.Getenv("VIGIL_SMTP_ADDR"), "SMTP server for notices; empty: write them to DATA/outbox [VIGIL_SMTP_ADDR]")
	fs.StringVar(&c.SMTPFrom, "smtp-from", envOr(env, "VIGIL_SMTP_FROM", "Vigil <vigil@localhost>"), "sender of notices [VIGIL_SMTP_FROM]")
	fs.StringVar(&c.SMTPUser, "smtp-user", env.Getenv("VIGIL_SMTP_USER"), "SMTP user; the password comes from VIGIL_SMTP_PASSWORD [VIGIL_SMTP_USER]")
	fs.StringVar(&c.SMTPTLS, "smtp-tls", envOr(env, "VIGIL_SMTP_TLS", "required"), "required (STARTTLS), implicit (port 465) or opportunistic [VIGIL_SMTP_TLS]")
	fs.StringVar(&c.Hotline, "hotline-name", envOr(env, "VIGIL_HOTLINE_NAME", "Vigil hotline"), "the hotline's name in notices and packages [VIGIL_HOTLINE_NAME]")
	fs.StringVar(&c.CaseRefPrefix, "case-prefix", envOr(env, "VIGIL_CASE_PREFIX", vigil.DefaultCaseRefPrefix),
		"prefix of case references, such as BE for BE-2026-000123 [VIGIL_CASE_PREFIX]")
	fs.DurationVar(&c.FirstRecheck, "recheck-first", 24*time.Hour, "how long after the notices a URL is first checked again")
	fs.DurationVar(&c.RecheckEvery, "recheck-every", 24*time.Hour, "how often a URL still up is checked again")
	fs.BoolVar(&c.AllowExample, "allow-example-routing", envBool(env, "VIGIL_ALLOW_EXAMPLE_ROUTING"),
		"run with the built-in example routing, whose recipients are .invalid addresses (trying Vigil out only) [VIGIL_ALLOW_EXAMPLE_ROUTING]")
	fs.Var(&c.TraceResolve, "trace-resolve", "HOST=IP: the tracer resolves HOST to IP (tests only; repeatable)")
	return c
}

// newMailer makes the mailer of notices and forwards.
func (tc *takedownConfig) newMailer(env *Env) (*notify.Mailer, error) {
	from, err := mail.ParseAddress(tc.SMTPFrom)
	if err != nil {
		return nil, fmt.Errorf("--smtp-from: %w", err)
	}
	mc := notify.Config{From: *from, Hotline: tc.Hotline,
		SMTP: notify.SMTPConfig{Addr: tc.SMTPAddr, Username: tc.SMTPUser, Password: env.Getenv("VIGIL_SMTP_PASSWORD")}}
	switch tc.SMTPTLS {
	case "required":
		mc.SMTP.TLS = notify.TLSRequired
	case "implicit":
		mc.SMTP.TLS = notify.TLSImplicit
	case "opportunistic":
		mc.SMTP.TLS = notify.TLSOpportunistic
	default:
		return nil, fmt.Errorf("--smtp-tls must be required, implicit or opportunistic")
	}
	mailer, err := notify.NewMailer(mc)
	if err != nil {
		return nil, fmt.Errorf("mailer: %w", err)
	}
	return mailer, nil
}

// registerTakedown adds the takedown path's workers.
func registerTakedown(env *Env, cfg *config, tc *takedownConfig, db *store.DB, fetcher *crawl.Fetcher, vault *blob.Vault,
	workers *river.Workers) (func() error, error) {
	var tcfg trace.Config
	if tc.traceConfig != nil {
		tcfg = *tc.traceConfig
	} else if tc.TraceConfig != "" {
		c, err := trace.LoadConfig(tc.TraceConfig)
		if err != nil {
			return nil, fmt.Errorf("trace config: %w", err)
		}
		tcfg = c
	}
	deps := tc.traceDeps
	deps.Logger = env.Logger
	if len(tc.TraceResolve) > 0 {
		r, err := parseResolve("--trace-resolve", tc.TraceResolve, env.resolver())
		if err != nil {
			return nil, err
		}
		deps.Resolver = r
	}
	tracer, err := trace.New(tcfg, deps)
	if err != nil {
		return nil, fmt.Errorf("tracer: %w", err)
	}
	if err := tc.loadRouting(); err != nil {
		return nil, errors.Join(err, tracer.Close())
	}
	rules := tc.rules
	mailer, err := tc.newMailer(env)
	if err != nil {
		return nil, errors.Join(err, tracer.Close())
	}
	var sender takedown.Sender = mailer
	if tc.SMTPAddr == "" {
		sender = takedown.OutboxSender{Dir: filepath.Join(cfg.DataDir, "outbox")}
	}
	// Referrals to partners running Vigil and the statuses reported back
	// to partners that referred cases to us, signed with the federation
	// key (made at first start, apart from the media keys).
	fedKey, err := federationKey(cfg)
	if err != nil {
		return nil, errors.Join(err, tracer.Close())
	}
	client := &federation.Client{Key: fedKey, Partners: db}
	takedown.Register(workers, takedown.Config{
		Store: db, Tracer: tracer, Rules: rules, Mailer: mailer, Sender: sender, Fetcher: fetcher, Blobs: vault,
		Hotline: tc.Hotline, CaseRefPrefix: tc.CaseRefPrefix, FirstRecheck: tc.FirstRecheck, RecheckEvery: tc.RecheckEvery,
		Logger:     env.Logger,
		Federation: &takedown.Federation{Partners: db, Fetches: db, Videos: db, Client: client},
	})
	river.AddWorker(workers, &federation.StatusWorker{Store: db, Client: client, Logger: env.Logger})
	return tracer.Close, nil
}
