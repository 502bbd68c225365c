package main

import (
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/web"
)

// accountsConfig builds the web server's accounts configuration: the
// store keeps the audit log, and everything else takes its defaults
// (lockout after 5 failures for 1 minute, doubling up to an hour).
func accountsConfig(env *Env, cfg *config, db *store.DB) (web.AccountsConfig, error) {
	issuer := "Vigil"
	if v := env.Getenv("VIGIL_TOTP_ISSUER"); v != "" {
		issuer = v
	}
	return web.AccountsConfig{Audit: db, Issuer: issuer}, nil
}
