// Package statsgen generates a hotline's activity over a span of time —
// reports, reported URLs, media, matches, assessments, takedowns, messages,
// exposure — seeded and reproducible, and loads it into a store with plain
// inserts. The statistics test checks every figure against a direct
// computation over the same generated activity; `vigil bench stats` loads
// a busy hotline's year with it. It holds no media: rows only.
package statsgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/store"
)

// Config sizes the activity. Events fall in the year before Year, in Year,
// and in the first months after it, so that period boundaries and the
// comparison with the previous year are exercised.
type Config struct {
	Year     int
	Loc      *time.Location
	Seed     uint64
	Reports  int
	Media    int
	Messages int
}

// Report is a generated report.
type Report struct {
	ReceivedAt       time.Time
	Source, Language string
}

// URL is a generated reported URL; Takedown >= 0 names its takedown.
type URL struct {
	ID            int64
	FirstReported time.Time
	Takedown      int
}

// Media is a generated media item; Bank is set for known media.
type Media struct {
	ID        int64
	FirstSeen time.Time
	Status    string
	Bank      string
}

// Assessment is a generated assessment.
type Assessment struct {
	MediaID                     int64
	Verdict, AgeGroup, Severity string
	SelfGenerated, AIGenerated  bool
	State                       string
	AssessedAt                  time.Time
	ConfirmedAt                 *time.Time
}

// Takedown is a generated case on the takedown path.
type Takedown struct {
	ID, URLID          int64
	Country, Provider  string
	ASN                int64
	FirstSeen, Created time.Time
	FirstNotice        *time.Time
	Removed            *time.Time
	Escalated          bool
}

// Message is a generated outbound message.
type Message struct {
	Takedown        int // index into Activity.Takedowns
	Kind, RouteKind string
	State           string
	SentAt          *time.Time
}

// Exposure is one analyst-day of media on screen.
type Exposure struct {
	Day    string
	Millis int64
}

// Activity is everything generated.
type Activity struct {
	Reports     []Report
	URLs        []URL
	Media       []Media
	Assessments []Assessment
	Takedowns   []Takedown
	Messages    []Message
	Exposure    []Exposure
}

var (
	sources   = []string{"form", "form", "form", "api", "referral"}
	languages = []string{"nl", "nl", "fr", "fr", "de", "en"}
	banks     = []string{"ncmec", "iwf", "hotline"}
	countries = []string{"BE", "BE", "NL", "NL", "DE", "FR", "US", "US", "RU", "SC"}
	providers = []struct {
		name string
		asn  int64
	}{{"OVH", 16276}, {"Hetzner", 24940}, {"LeaseWeb", 60781}, {"DigitalOcean", 14061}, {"Cloudflare", 13335}, {"Tiny Host", 64512}}
	routes = []string{"police", "hotline", "provider"}
)

// Generate makes the activity of cfg.
func Generate(cfg Config) *Activity {
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed))
	start := time.Date(cfg.Year-1, 1, 1, 0, 0, 0, 0, cfg.Loc)
	end := time.Date(cfg.Year+1, 4, 1, 0, 0, 0, 0, cfg.Loc)
	span := end.Sub(start)
	// when picks a time in the span; one event in twenty falls right on
	// or just before a midnight that starts a year or month, where a
	// period computed in UTC would put it on the wrong side.
	edges := []time.Time{time.Date(cfg.Year, 1, 1, 0, 0, 0, 0, cfg.Loc), time.Date(cfg.Year+1, 1, 1, 0, 0, 0, 0, cfg.Loc),
		time.Date(cfg.Year, 7, 1, 0, 0, 0, 0, cfg.Loc)}
	when := func() time.Time {
		if rng.IntN(20) == 0 {
			e := edges[rng.IntN(len(edges))]
			return e.Add(time.Duration(rng.IntN(3)-1) * time.Second).Add(-time.Duration(rng.IntN(2)) * time.Hour)
		}
		return start.Add(time.Duration(rng.Int64N(int64(span/time.Second))) * time.Second)
	}
	a := &Activity{}
	for range cfg.Reports {
		a.Reports = append(a.Reports, Report{ReceivedAt: when(), Source: sources[rng.IntN(len(sources))],
			Language: languages[rng.IntN(len(languages))]})
	}
	// A reported URL per two reports; one in four turns out illegal and
	// becomes a takedown.
	for i := range max(cfg.Reports/2, 1) {
		u := URL{ID: int64(i + 1), FirstReported: when(), Takedown: -1}
		if rng.IntN(4) == 0 {
			p := providers[rng.IntN(len(providers))]
			t := Takedown{ID: int64(len(a.Takedowns) + 1), URLID: u.ID, Country: countries[rng.IntN(len(countries))],
				Provider: p.name, ASN: p.asn, FirstSeen: u.FirstReported,
				Created: u.FirstReported.Add(time.Duration(rng.IntN(7200)) * time.Second)}
			if rng.IntN(8) == 0 {
				t.Country, t.Provider, t.ASN = "", "", 0 // not traced (yet)
			}
			if rng.IntN(5) != 0 {
				n := t.Created.Add(time.Duration(rng.IntN(86400)) * time.Second)
				t.FirstNotice = &n
				if rng.IntN(4) != 0 {
					r := n.Add(time.Duration(rng.Int64N(40*86400)) * time.Second)
					t.Removed = &r
				}
				t.Escalated = rng.IntN(10) == 0
			}
			u.Takedown = len(a.Takedowns)
			a.Takedowns = append(a.Takedowns, t)
		}
		a.URLs = append(a.URLs, u)
	}
	statuses := []string{"known", "known", "unknown", "unknown", "unknown", "pending", "failed"}
	for i := range cfg.Media {
		m := Media{ID: int64(i + 1), FirstSeen: when(), Status: statuses[rng.IntN(len(statuses))]}
		if m.Status == "known" {
			m.Bank = banks[rng.IntN(len(banks))]
		}
		a.Media = append(a.Media, m)
		if m.Status == "unknown" && rng.IntN(3) == 0 {
			v := vigil.Verdicts[rng.IntN(len(vigil.Verdicts))]
			as := Assessment{MediaID: m.ID, Verdict: string(v), AgeGroup: string(vigil.AgeGroups[rng.IntN(len(vigil.AgeGroups))]),
				SelfGenerated: rng.IntN(5) == 0, AIGenerated: rng.IntN(9) == 0,
				AssessedAt: m.FirstSeen.Add(time.Duration(rng.IntN(3*86400)) * time.Second), State: "pending"}
			if v.Illegal() {
				as.Severity = vigil.DefaultSeverities[rng.IntN(3)]
			}
			if v == vigil.VerdictSecondOpinion {
				as.State = "opinion"
			} else if rng.IntN(6) != 0 {
				c := as.AssessedAt.Add(time.Duration(rng.IntN(86400)) * time.Second)
				as.State, as.ConfirmedAt = "confirmed", &c
			}
			a.Assessments = append(a.Assessments, as)
		}
	}
	kinds := []string{"notice", "notice", "renotice", "escalation", "forward"}
	for range cfg.Messages {
		if len(a.Takedowns) == 0 {
			break
		}
		ti := rng.IntN(len(a.Takedowns))
		m := Message{Takedown: ti, Kind: kinds[rng.IntN(len(kinds))], RouteKind: routes[rng.IntN(len(routes))], State: "queued"}
		if rng.IntN(6) != 0 {
			s := a.Takedowns[ti].Created.Add(time.Duration(rng.IntN(10*86400)) * time.Second)
			m.State, m.SentAt = "sent", &s
		}
		a.Messages = append(a.Messages, m)
	}
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		if rng.IntN(3) != 0 {
			a.Exposure = append(a.Exposure, Exposure{Day: d.Format(time.DateOnly), Millis: int64(rng.IntN(2 * 3600 * 1000))})
		}
	}
	return a
}

// Load inserts the activity into db, which must be empty of it: plain
// multi-row inserts in transactions of a few thousand rows.
func Load(ctx context.Context, db *store.DB, a *Activity) error {
	// Generated rows must never mix with a hotline's real ones.
	var existing int64
	if err := db.Driver().Reader().QueryRow(ctx, `SELECT (SELECT count(*) FROM reports) + (SELECT count(*) FROM media)`).
		Scan(&existing); err != nil {
		return fmt.Errorf("statsgen: %w", err)
	}
	if existing > 0 {
		return fmt.Errorf("statsgen: the store already holds reports or media; generated activity goes into an empty store only")
	}
	analyst := &vigil.User{Name: "statsgen-analyst", Role: vigil.RoleAnalyst, PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c3RhdHNnZW4$c3RhdHNnZW4"}
	if err := db.CreateUser(ctx, analyst); err != nil {
		return fmt.Errorf("statsgen: analyst: %w", err)
	}
	ins := func(table, cols string, n int, row func(i int) []any) error {
		return BulkInsert(ctx, db, table, cols, n, row)
	}
	if err := ins("reports", "tracking_code, received_at, language, source, status", len(a.Reports), func(i int) []any {
		r := a.Reports[i]
		return []any{fmt.Sprintf("GEN%09d", i), r.ReceivedAt, r.Language, r.Source, "closed"}
	}); err != nil {
		return err
	}
	if err := ins("reported_urls", "url, host, first_reported_at, last_reported_at, report_count, status, updated_at", len(a.URLs), func(i int) []any {
		u := a.URLs[i]
		return []any{fmt.Sprintf("https://site%d.example/gallery/%d", i%997, i), fmt.Sprintf("site%d.example", i%997),
			u.FirstReported, u.FirstReported, 1, "done", u.FirstReported}
	}); err != nil {
		return err
	}
	if err := sequential(ctx, db, "reported_urls", len(a.URLs)); err != nil {
		return err
	}
	if err := ins("media", "sha256, md5, sha1, size, class, mime, blob_key, status, first_seen_at", len(a.Media), func(i int) []any {
		m := a.Media[i]
		return []any{fmt.Sprintf("%064x", m.ID), fmt.Sprintf("%032x", m.ID), fmt.Sprintf("%040x", m.ID), 1000, "image",
			"image/jpeg", fmt.Sprintf("gen/%d", m.ID), m.Status, m.FirstSeen}
	}); err != nil {
		return err
	}
	if err := sequential(ctx, db, "media", len(a.Media)); err != nil {
		return err
	}
	var known []Media
	for _, m := range a.Media {
		if m.Bank != "" {
			known = append(known, m)
		}
	}
	if err := ins("media_matches", "media_id, bank_id, entry_id, bank_name, signal, distance, variant, classification, matched_at", len(known), func(i int) []any {
		m := known[i]
		return []any{m.ID, 1, m.ID, m.Bank, "pdq", 3, "", "baseline", m.FirstSeen}
	}); err != nil {
		return err
	}
	if err := ins("assessments", "media_id, verdict, age_group, severity, self_generated, ai_generated, victim_id, note, analyst_id, assessed_at, state, confirmed_at", len(a.Assessments), func(i int) []any {
		s := a.Assessments[i]
		return []any{s.MediaID, s.Verdict, s.AgeGroup, s.Severity, s.SelfGenerated, s.AIGenerated, false, "", analyst.ID,
			s.AssessedAt, s.State, s.ConfirmedAt}
	}); err != nil {
		return err
	}
	if err := ins("takedowns", "reported_url_id, url, state, country, asn, provider, first_seen_at, created_at, first_notice_at, removed_at, escalated, removal_seconds, notice_removal_seconds", len(a.Takedowns), func(i int) []any {
		t := a.Takedowns[i]
		state := "notified"
		var secs, noticeSecs *int64
		if t.Removed != nil {
			state = "removed"
			s := int64(t.Removed.Sub(t.FirstSeen) / time.Second)
			n := int64(t.Removed.Sub(*t.FirstNotice) / time.Second)
			secs, noticeSecs = &s, &n
		}
		return []any{t.URLID, fmt.Sprintf("https://site.example/%d", t.URLID), state, t.Country, t.ASN, t.Provider,
			t.FirstSeen, t.Created, t.FirstNotice, t.Removed, t.Escalated, secs, noticeSecs}
	}); err != nil {
		return err
	}
	if err := sequential(ctx, db, "takedowns", len(a.Takedowns)); err != nil {
		return err
	}
	if err := ins("outbound", "takedown_id, key, kind, route_kind, recipient, message_id, raw, state, created_at, sent_at", len(a.Messages), func(i int) []any {
		m := a.Messages[i]
		t := a.Takedowns[m.Takedown]
		return []any{t.ID, fmt.Sprintf("gen-%d", i), m.Kind, m.RouteKind, "abuse@provider.example", fmt.Sprintf("<gen-%d@vigil>", i),
			[]byte("generated"), m.State, t.Created, m.SentAt}
	}); err != nil {
		return err
	}
	return ins("exposure", "user_id, day, millis", len(a.Exposure), func(i int) []any {
		return []any{analyst.ID, a.Exposure[i].Day, a.Exposure[i].Millis}
	})
}

// sequential checks that a table's rows got the identifiers 1 to n, in the
// order inserted, which the rows generated after it refer to: both
// databases number a fresh table's rows so, and Load needs a fresh store.
func sequential(ctx context.Context, db *store.DB, table string, n int) error {
	var lo, hi, count int64
	err := db.Driver().Reader().QueryRow(ctx, "SELECT COALESCE(MIN(id), 1), COALESCE(MAX(id), 0), count(*) FROM "+table).
		Scan(&lo, &hi, &count)
	if err != nil {
		return fmt.Errorf("statsgen: %s: %w", table, err)
	}
	if lo != 1 || hi != int64(n) || count != int64(n) {
		return fmt.Errorf("statsgen: %s was not empty before the load (ids %d to %d, %d rows)", table, lo, hi, count)
	}
	return nil
}

// BulkInsert inserts n generated rows into table, row(i) giving the values
// of cols: many rows per statement, many statements per transaction.
func BulkInsert(ctx context.Context, db *store.DB, table, cols string, n int, row func(i int) []any) error {
	drv := db.Driver()
	ncol := len(strings.Split(cols, ","))
	// SQLite looks $N parameters up in a list, so a statement's cost
	// grows with the square of its parameters: a few hundred per
	// statement, a hundred statements per transaction.
	per := max(1, 400/ncol)
	for lo := 0; lo < n; lo += per * 100 {
		err := drv.WithTx(ctx, func(tx store.Tx) error {
			for b := lo; b < min(n, lo+per*100); b += per {
				hi := min(n, b+per)
				var sb strings.Builder
				args := make([]any, 0, (hi-b)*ncol)
				fmt.Fprintf(&sb, "INSERT INTO %s (%s) VALUES ", table, cols)
				for i := b; i < hi; i++ {
					if i > b {
						sb.WriteString(", ")
					}
					sb.WriteByte('(')
					for c := range ncol {
						if c > 0 {
							sb.WriteString(", ")
						}
						fmt.Fprintf(&sb, "$%d", len(args)+c+1)
					}
					sb.WriteByte(')')
					args = append(args, row(i)...)
				}
				if _, err := tx.Exec(ctx, sb.String(), args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("statsgen: %s: %w", table, err)
		}
	}
	return nil
}
