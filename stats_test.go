package vigil_test

import (
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
)

func TestStatsRemovals(t *testing.T) {
	var s vigil.Stats
	s.Removals([]vigil.TimeToRemoval{
		{FromFirstSeen: 10 * time.Hour, FromFirstNotice: 8 * time.Hour, Routes: []string{"police", "provider"}, Country: "US", Provider: "abuse@a.invalid"},
		{FromFirstSeen: 2 * time.Hour, Routes: []string{"police"}, Country: "BE"},
		{FromFirstSeen: 4 * time.Hour, FromFirstNotice: 1 * time.Hour, Routes: []string{"provider"}, Country: "US", Provider: "abuse@a.invalid"},
	})
	if s.MedianTimeToRemovalSeconds != 4*3600 || s.MedianTimeToRemovalFromNoticeSeconds != 4.5*3600 {
		t.Errorf("medians %v %v", s.MedianTimeToRemovalSeconds, s.MedianTimeToRemovalFromNoticeSeconds)
	}
	if r := s.ByRoute["police"]; r.URLsRemoved != 2 || r.MedianTimeToRemovalSeconds != 6*3600 {
		t.Errorf("police %+v", r)
	}
	if r := s.ByCountry["US"]; r.URLsRemoved != 2 || r.MedianTimeToRemovalSeconds != 7*3600 {
		t.Errorf("US %+v", r)
	}
	if r := s.ByProvider["abuse@a.invalid"]; r.URLsRemoved != 2 {
		t.Errorf("provider %+v", r)
	}
	var empty vigil.Stats
	empty.Removals(nil)
	if empty.MedianTimeToRemovalSeconds != 0 || empty.ByRoute == nil {
		t.Errorf("empty %+v", empty)
	}
}
