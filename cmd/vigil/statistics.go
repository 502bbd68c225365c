package main

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the hotline's time zone must load on a machine without a zone database

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/route"
	"github.com/vigil-hotline/vigil/internal/store"
	"github.com/vigil-hotline/vigil/internal/web"
)

// statisticsConfig derives what the statistics need from the routing
// rules: the hotline's time zone (periods end at its midnights), its home
// country and its partner hotlines' countries. VIGIL_STATS_SMALL_COUNT
// sets the threshold under which published counts read "< N" (default 5).
func statisticsConfig(env *Env, tc *takedownConfig, db *store.DB) (web.StatisticsConfig, error) {
	rules := tc.rules
	if rules == nil && tc.RoutingConfig != "" {
		r, err := route.Load(tc.RoutingConfig)
		if err != nil {
			return web.StatisticsConfig{}, fmt.Errorf("routing config: %w", err)
		}
		rules = r
	}
	if rules == nil {
		rules = route.Default()
	}
	rc := rules.Config()
	loc, err := time.LoadLocation(cmp.Or(rc.TimeZone, "Europe/Brussels"))
	if err != nil {
		return web.StatisticsConfig{}, fmt.Errorf("routing config: time zone: %w", err)
	}
	partners := map[string]bool{}
	for _, h := range rc.Hotlines {
		for _, c := range h.Countries {
			partners[strings.ToUpper(c)] = true
		}
	}
	small := 5
	if s := env.Getenv("VIGIL_STATS_SMALL_COUNT"); s != "" {
		if small, err = strconv.Atoi(s); err != nil || small < 1 {
			return web.StatisticsConfig{}, fmt.Errorf("VIGIL_STATS_SMALL_COUNT must be a whole number of at least 1")
		}
	}
	return web.StatisticsConfig{Service: db, Location: loc, SmallCount: small,
		Options: vigil.StatsOptions{HomeCountry: strings.ToUpper(cmp.Or(rc.HomeCountry, "BE")), PartnerCountries: partners}}, nil
}
