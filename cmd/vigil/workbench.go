package main

import (
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil/internal/evidence"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/web"
)

// workbenchConfig builds the web server's workbench configuration. The
// media vault is opened as the crawler opens it (--blob-dir and
// --media-key-file, else inside the data folder).
//
//	VIGIL_WORKBENCH_BUDGET        daily time with media on screen (default 2h)
//	VIGIL_WORKBENCH_SEVERITIES    severity categories, comma-separated (default A,B,C)
//	VIGIL_WORKBENCH_SECOND_ANALYST  "true": analysts may confirm each other's assessments
func workbenchConfig(env *Env, cfg *config, workers *workerConfig, db *store.DB) (web.WorkbenchConfig, error) {
	vault, err := openVault(env, cfg, workers)
	if err != nil {
		return web.WorkbenchConfig{}, fmt.Errorf("media vault: %w", err)
	}
	wc := web.WorkbenchConfig{Store: db, Media: db, Blobs: vault, SecondAnalyst: envBool(env, "VIGIL_WORKBENCH_SECOND_ANALYST")}
	if v := env.Getenv("VIGIL_WORKBENCH_BUDGET"); v != "" {
		if wc.Budget, err = time.ParseDuration(v); err != nil || wc.Budget <= 0 {
			return wc, fmt.Errorf("VIGIL_WORKBENCH_BUDGET %q: want a duration such as 2h", v)
		}
	}
	if v := env.Getenv("VIGIL_WORKBENCH_SEVERITIES"); v != "" {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				wc.Severities = append(wc.Severities, s)
			}
		}
	}
	// Frame strips of videos need ffmpeg; without it the page says that no
	// frames are available.
	if p, err := exec.LookPath("ffmpeg"); err == nil {
		wc.FFmpeg = p
	}
	// Legal holds and evidence packages for the police, signed with the key
	// derived from the audit key (none without one: no packages).
	wc.Holds, wc.Evidence, wc.Hotline = db, db, env.Getenv("VIGIL_HOTLINE_NAME")
	if key, err := loadAuditKey(cfg); err != nil {
		return wc, err
	} else if key != nil {
		wc.EvidenceKey = evidence.SigningKey(key)
	}
	return wc, nil
}
