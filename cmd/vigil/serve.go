package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/vigil-hotline/vigil/internal/blob"
	"github.com/vigil-hotline/vigil/internal/federation"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/web"
)

// runServe runs the reporting point, the API and the staff pages.
func runServe(ctx context.Context, env *Env, args []string) (err error) {
	fs := newFlagSet(env, "serve", "Usage: vigil serve [--addr HOST:PORT] [--data DIR] [--database-url URL]")
	cfg := storeFlags(fs, env)
	fs.StringVar(&cfg.Addr, "addr", envOr(env, "VIGIL_ADDR", "127.0.0.1:8080"), "address to listen on [VIGIL_ADDR]")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", envBool(env, "VIGIL_SECURE_COOKIES"),
		"mark cookies Secure and send HSTS: set when served over HTTPS [VIGIL_SECURE_COOKIES]")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", env.Getenv("VIGIL_TRUSTED_PROXIES"),
		"comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For/Forwarded name the client (none by default) [VIGIL_TRUSTED_PROXIES]")
	cfg.create = true
	withWorkers := fs.Bool("workers", true, "run the background workers in this process too")
	metricsAddr := metricsFlags(fs, env)
	identityFile := identityFlag(fs, env)
	wc := workerFlags(fs, env)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Refuse example routing before anything is created.
	if err := wc.takedown.loadRouting(); err != nil {
		return err
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	// One matcher per process, for the workers and the lookup API alike.
	m, stopMatcher, err := newMatcher(ctx, env, db, cfg.DataDir)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopMatcher()) }()
	wc.matcher = m
	wc.metrics = startMetrics(ctx, env, *metricsAddr, db, m)
	if err := logMissingPieces(ctx, env, cfg, wc, db); err != nil {
		return err
	}
	if *withWorkers {
		stop, err := startWorkers(ctx, env, cfg, wc, db)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, stop()) }()
	}
	srv, err := newWebServer(env, cfg, wc, db, *identityFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	env.Logger.Info("vigil is serving", "url", "http://"+ln.Addr().String()+"/", "store", db.Driver().Dialect(),
		"version", version())
	err = serveHTTP(ctx, env, ln, srv)
	srv.Close(context.WithoutCancel(ctx))
	return err
}

func newWebServer(env *Env, cfg *config, wc *workerConfig, db *store.DB, identityFile string) (*web.Server, error) {
	identity, err := loadIdentity(identityFile)
	if err != nil {
		return nil, err
	}
	secret, err := loadSecret(env, cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	accounts, err := accountsConfig(env, cfg, db)
	if err != nil {
		return nil, err
	}
	workbench, err := workbenchConfig(env, cfg, wc, db)
	if err != nil {
		return nil, err
	}
	statistics, err := statisticsConfig(env, wc.takedown, db)
	if err != nil {
		return nil, err
	}
	proxies, err := parsePrefixes(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	// The federation key is made at first start, so that `vigil partner
	// key` and the partners page can give it to partners.
	fedKey, err := federationKey(cfg)
	if err != nil {
		return nil, err
	}
	// Partners encrypt the media they send with referrals to our age
	// identity; they are kept in the media vault.
	fedAge, err := federationAge(cfg)
	if err != nil {
		return nil, err
	}
	rules, err := mapRules(env)
	if err != nil {
		return nil, err
	}
	c := web.Config{
		Logger: env.Logger, Reports: db, Users: db, APIKeys: db, Jobs: db,
		Secret: secret, SecureCookies: cfg.SecureCookies,
		FormRate: web.DefaultFormRate, APIRate: web.DefaultAPIRate, TrustedProxies: proxies,
		Accounts: accounts, Workbench: workbench,
		Takedown:   web.TakedownConfig{Stats: db, Takedowns: db, CaseRefPrefix: wc.takedown.CaseRefPrefix},
		Statistics: statistics,
		Identity:   identity, Victims: db, Exchanges: web.ExchangesConfig{Service: db}, Trust: web.TrustConfig{Service: db},
		Lookup: web.LookupConfig{Matcher: wc.matcher, Video: wc.video.lookupHasher()},
		Federation: web.FederationConfig{Partners: db, Referrals: db, PublicKey: federation.PublicKey(fedKey),
			AgeIdentities: []age.Identity{fedAge}},
		Map: web.MapConfig{Store: db, Rules: rules},
		// The confirmed bank is published to partners signed with the
		// key they already hold for referrals.
		Publish: web.PublishConfig{Banks: db, Key: fedKey},
	}
	if v, ok := workbench.Blobs.(*blob.Vault); ok && v != nil {
		c.Federation.MediaVault = v
	}
	if wc.metrics != nil {
		c.Lookup.Observe, c.ObserveRequest, c.Ready = wc.metrics.ObserveLookup, wc.metrics.ObserveRequest, wc.metrics.ServeReady
	}
	return web.New(c)
}

// serveHTTP serves until ctx ends, then shuts down gracefully. The
// timeouts bound what a slow or hostile client can hold.
func serveHTTP(ctx context.Context, env *Env, ln net.Listener, h http.Handler) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          log.New(redactingWriter{env}, "http: ", 0),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	env.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// addrPattern matches IPv4 and IPv6 addresses, with or without a port.
var addrPattern = regexp.MustCompile(`\[?[0-9a-fA-F]*:[0-9a-fA-F:.]+\]?(:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b`)

// redactingWriter sends net/http's own error messages ("TLS handshake
// error from 1.2.3.4:5678") to the log with every address removed: a
// reporter's address must never reach a log.
type redactingWriter struct{ env *Env }

func (w redactingWriter) Write(p []byte) (int, error) {
	w.env.Logger.Warn(string(addrPattern.ReplaceAll(p, []byte("[address removed]"))))
	return len(p), nil
}

// parsePrefixes reads a comma-separated list of addresses and CIDR ranges;
// a bare address stands for itself alone.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if a, err := netip.ParseAddr(f); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR range", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
