package main

import (
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/web"
)

// workbenchConfig builds the web server's workbench configuration.
func workbenchConfig(env *Env, cfg *config, db *store.DB) (web.WorkbenchConfig, error) {
	return web.WorkbenchConfig{}, nil
}
