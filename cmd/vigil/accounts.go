package main

import (
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/web"
)

// accountsConfig builds the web server's accounts configuration.
func accountsConfig(env *Env, cfg *config, db *store.DB) (web.AccountsConfig, error) {
	return web.AccountsConfig{}, nil
}
