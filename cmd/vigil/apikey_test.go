package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-hotline/vigil"
)

func TestAPIKeyCommands(t *testing.T) {
	vigilRun, open := cliEnv(t, "sqlite")
	if _, err := vigilRun("", "apikey", "create", "--scopes", "lookup,stats", "--rate", "120", "--daily-quota", "5000", "platform"); err != nil {
		t.Fatal(err)
	}
	if _, err := vigilRun("", "apikey", "create", "--scopes", "admin", "bad"); err == nil || !strings.Contains(err.Error(), "unknown API scope") {
		t.Errorf("unknown scope: %v", err)
	}
	if _, err := vigilRun("", "apikey", "update", "--daily-quota", "10", "platform"); err != nil {
		t.Fatal(err)
	}
	out, err := vigilRun("", "apikey", "list")
	if err != nil || !strings.Contains(out, "lookup,stats") || !strings.Contains(out, "never") {
		t.Errorf("list: %q %v", out, err)
	}
	db := open()
	keys, err := db.ListAPIKeys(context.Background())
	if err != nil || len(keys) != 1 || keys[0].DailyQuota != 10 || keys[0].RatePerMinute != 120 ||
		!slices.Equal(keys[0].Scopes, []vigil.APIScope{vigil.ScopeLookup, vigil.ScopeStats}) {
		t.Errorf("stored: %+v %v", keys, err)
	}
	if _, err := vigilRun("", "apikey", "usage"); err != nil {
		t.Error(err)
	}
}
