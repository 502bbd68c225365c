package vigil

import (
	"context"
	"slices"
	"time"
)

// Stats are the figures of a hotline's annual report and of the stats API.
type Stats struct {
	Reports         int64 `json:"reports"`
	ReportedURLs    int64 `json:"reported_urls"`
	Media           int64 `json:"media"`
	KnownMedia      int64 `json:"known_media"`
	UnknownMedia    int64 `json:"unknown_media"`
	AssessedIllegal int64 `json:"assessed_illegal"`
	NoticesSent     int64 `json:"notices_sent"`
	URLsRemoved     int64 `json:"urls_removed"`
	// MedianTimeToRemovalSeconds runs from first sighting to removal;
	// FromNotice from the first notice to the provider.
	MedianTimeToRemovalSeconds           float64 `json:"median_time_to_removal_seconds"`
	MedianTimeToRemovalFromNoticeSeconds float64 `json:"median_time_to_removal_from_notice_seconds"`
	// ByRoute, ByCountry and ByProvider break the removals down.
	ByRoute    map[string]RemovalFigures `json:"by_route"`
	ByCountry  map[string]RemovalFigures `json:"by_country"`
	ByProvider map[string]RemovalFigures `json:"by_provider"`
}

// RemovalFigures are the removals of one group.
type RemovalFigures struct {
	URLsRemoved                int     `json:"urls_removed"`
	MedianTimeToRemovalSeconds float64 `json:"median_time_to_removal_seconds"`
}

// StatsService computes the statistics.
type StatsService interface {
	Stats(ctx context.Context) (*Stats, error)
}

// Removals fills the removal figures from each removed URL's times.
func (s *Stats) Removals(times []TimeToRemoval) {
	var all, fromNotice []time.Duration
	groups := map[string]map[string][]time.Duration{"route": {}, "country": {}, "provider": {}}
	for _, t := range times {
		all = append(all, t.FromFirstSeen)
		if t.FromFirstNotice > 0 {
			fromNotice = append(fromNotice, t.FromFirstNotice)
		}
		for _, r := range t.Routes {
			groups["route"][r] = append(groups["route"][r], t.FromFirstSeen)
		}
		if t.Country != "" {
			groups["country"][t.Country] = append(groups["country"][t.Country], t.FromFirstSeen)
		}
		if t.Provider != "" {
			groups["provider"][t.Provider] = append(groups["provider"][t.Provider], t.FromFirstSeen)
		}
	}
	s.MedianTimeToRemovalSeconds = medianSeconds(all)
	s.MedianTimeToRemovalFromNoticeSeconds = medianSeconds(fromNotice)
	figures := func(g map[string][]time.Duration) map[string]RemovalFigures {
		out := map[string]RemovalFigures{}
		for k, ds := range g {
			out[k] = RemovalFigures{URLsRemoved: len(ds), MedianTimeToRemovalSeconds: medianSeconds(ds)}
		}
		return out
	}
	s.ByRoute, s.ByCountry, s.ByProvider = figures(groups["route"]), figures(groups["country"]), figures(groups["provider"])
}

// medianSeconds is the median in seconds, 0 for none.
func medianSeconds(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2].Seconds()
	}
	return (s[n/2-1] + s[n/2]).Seconds() / 2
}
