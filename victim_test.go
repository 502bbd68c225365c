package vigil_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-hotline/vigil"
)

func TestNewVictimSubmission(t *testing.T) {
	q, low := 70, 49
	pdq := strings.Repeat("3c", 32)
	s, err := vigil.NewVictimSubmission([]vigil.VictimHash{
		{Type: vigil.SignalPDQ, Value: strings.ToUpper(pdq), Quality: &q},
		{Type: vigil.SignalPDQ, Value: pdq, Quality: &q},
		{Type: vigil.SignalMD5, Value: strings.Repeat("a", 32), Quality: &q},
	}, "  seen on a forum ", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Hashes) != 2 || s.Hashes[0].Value != pdq || s.Hashes[1].Quality != nil || s.Description != "seen on a forum" ||
		s.TrackingCode == "" {
		t.Errorf("submission %+v", s)
	}
	for name, hs := range map[string][]vigil.VictimHash{
		"none":        nil,
		"low quality": {{Type: vigil.SignalPDQ, Value: pdq, Quality: &low}},
		"no quality":  {{Type: vigil.SignalPDQ, Value: pdq}},
		"all zero":    {{Type: vigil.SignalPDQ, Value: strings.Repeat("0", 64), Quality: &q}},
		"sha1":        {{Type: vigil.SignalSHA1, Value: strings.Repeat("a", 40)}},
		"short":       {{Type: vigil.SignalSHA256, Value: "abc"}},
	} {
		if _, err := vigil.NewVictimSubmission(hs, "", time.Now()); vigil.ErrorCode(err) != vigil.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

func TestUnrelatedPictures(t *testing.T) {
	a := strings.Repeat("00", 32)
	near := "0f" + strings.Repeat("00", 31)              // 4 bits from a
	far := strings.Repeat("ff", 8) + a[16:]              // 64 bits from a
	farther := a[:16] + strings.Repeat("ff", 8) + a[32:] // 64 from a, 128 from far
	if n := vigil.UnrelatedPictures([]string{a, near, far, farther, "bad"}, 31); n != 3 {
		t.Errorf("got %d unrelated pictures, want 3", n)
	}
}
