package vigil

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// BankSource says where a bank's hashes came from.
type BankSource string

const (
	SourceNCMEC         BankSource = "ncmec"
	SourceIWF           BankSource = "iwf"
	SourceINHOPEPartner BankSource = "inhope-partner"
	SourceHotline       BankSource = "hotline"
	SourceOther         BankSource = "other"
)

// BankSources lists every bank source.
var BankSources = []BankSource{SourceNCMEC, SourceIWF, SourceINHOPEPartner, SourceHotline, SourceOther, SourceVictim}

// ParseBankSource accepts a source name in any case.
func ParseBankSource(s string) (BankSource, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, v := range BankSources {
		if string(v) == s {
			return v, nil
		}
	}
	return "", Errorf(EINVALID, "unknown bank source %q (want ncmec, iwf, inhope-partner, hotline, other or victim)", s)
}

// BankKind says what a match in a bank means.
type BankKind string

const (
	// BankBlock holds known material: its entries produce matches.
	BankBlock BankKind = "block"
	// BankAllow holds hashes that must never match (false positives found
	// by analysts): an item in an allow bank matches nothing at all.
	BankAllow BankKind = "allow"
)

// ParseBankKind accepts block or allow.
func ParseBankKind(s string) (BankKind, error) {
	switch BankKind(strings.ToLower(strings.TrimSpace(s))) {
	case BankBlock:
		return BankBlock, nil
	case BankAllow:
		return BankAllow, nil
	}
	return "", Errorf(EINVALID, "unknown bank kind %q (want block or allow)", s)
}

// MaxPDQThreshold bounds a bank's threshold: beyond 64 bits two unrelated
// pictures match routinely, so a larger value is a mistake.
const MaxPDQThreshold = 64

// Bank is a named list of hashes.
type Bank struct {
	ID     int64
	Name   string
	Source BankSource
	// Terms are the terms the list came under (who may see it, for what).
	Terms   string
	Kind    BankKind
	Enabled bool
	// PDQThreshold is the largest Hamming distance that counts as a match
	// in this bank.
	PDQThreshold int
	// VideoQueryPercent (P_q) and VideoCompPercent (P_c) are the vPDQ
	// thresholds, in percent: a video matches a known video of this bank
	// when that share of its frames is found in the known video, and that
	// share of the known video's frames in it (see CompareVideos). Zero
	// P_q at creation means DefaultVideoQueryPercent.
	VideoQueryPercent float64
	VideoCompPercent  float64
	CreatedAt         time.Time
}

var bankNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Validate checks a bank before it is stored.
func (b *Bank) Validate() error {
	if !bankNameRE.MatchString(b.Name) {
		return Errorf(EINVALID, "bank name %q must be 1–64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", b.Name)
	}
	if _, err := ParseBankSource(string(b.Source)); err != nil {
		return err
	}
	if _, err := ParseBankKind(string(b.Kind)); err != nil {
		return err
	}
	if (b.Source == SourceVictim) != (b.Name == VictimBankName) {
		return Errorf(EINVALID, "only the bank %q has the source %q: it is filled by victims' submissions alone", VictimBankName, SourceVictim)
	}
	if err := ValidatePDQThreshold(b.PDQThreshold); err != nil {
		return err
	}
	q := b.VideoQueryPercent
	if q == 0 {
		q = DefaultVideoQueryPercent // unset: the default, as CreateBank stores it
	}
	if err := ValidateVideoThresholds(q, b.VideoCompPercent); err != nil {
		return err
	}
	if len(b.Terms) > 10000 || !utf8.ValidString(b.Terms) {
		return Errorf(EINVALID, "bank terms must be valid text of at most 10000 bytes")
	}
	return nil
}

// ValidatePDQThreshold checks a PDQ distance threshold.
func ValidatePDQThreshold(n int) error {
	if n < 0 || n > MaxPDQThreshold {
		return Errorf(EINVALID, "PDQ threshold must be between 0 and %d bits, got %d", MaxPDQThreshold, n)
	}
	return nil
}

// ValidateVideoThresholds checks a bank's vPDQ thresholds (percent).
func ValidateVideoThresholds(queryPercent, compPercent float64) error {
	if !(queryPercent > 0 && queryPercent <= 100) || !(compPercent >= 0 && compPercent <= 100) {
		return Errorf(EINVALID, "video thresholds are percentages: P_q above 0 and at most 100, P_c 0 to 100 (got %g and %g)", queryPercent, compPercent)
	}
	return nil
}

// Vocabulary is the set of classifications a deployment uses for bank
// entries. Hotlines classify differently (national law, the IWF's A/B/C
// categories), so it is configurable.
type Vocabulary []string

// DefaultVocabulary is used when none is configured.
var DefaultVocabulary = Vocabulary{"baseline", "national", "iwf-a", "iwf-b", "iwf-c", "harmful-abusive",
	"ncmec-a1", "ncmec-a2", "ncmec-b1", "ncmec-b2"}

// ParseVocabulary reads a comma-separated list; empty gives the default.
func ParseVocabulary(s string) (Vocabulary, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultVocabulary, nil
	}
	var v Vocabulary
	for _, c := range strings.Split(s, ",") {
		c = normalizeClassification(c)
		if c == "" || !classificationRE.MatchString(c) {
			return nil, Errorf(EINVALID, "classification %q must be letters, digits, '.', '_' or '-'", c)
		}
		if !slices.Contains(v, c) {
			v = append(v, c)
		}
	}
	return v, nil
}

var classificationRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// normalizeClassification lower-cases and turns spaces and underscores into
// dashes, so "IWF A" and "iwf_a" are both "iwf-a".
func normalizeClassification(s string) string {
	return classReplacer.Replace(strings.ToLower(strings.TrimSpace(s)))
}

var classReplacer = strings.NewReplacer(" ", "-", "_", "-")

// Normalize returns the classification as stored: "" (unclassified) or a
// member of the vocabulary, in its canonical spelling. A nil vocabulary
// accepts any well-formed classification: the store checks form only, and
// the edges (import, API) that know the deployment's vocabulary check
// membership.
func (v Vocabulary) Normalize(s string) (string, error) {
	c := normalizeClassification(s)
	if c == "" {
		return "", nil
	}
	if v == nil && classificationRE.MatchString(c) || slices.Contains(v, c) {
		return c, nil
	}
	if v == nil {
		return "", Errorf(EINVALID, "classification %q must be letters, digits, '.', '_' or '-'", strings.TrimSpace(s))
	}
	return "", Errorf(EINVALID, "unknown classification %q (want one of %s)", strings.TrimSpace(s), strings.Join(v, ", "))
}

// BankEntry is one hash in a bank.
type BankEntry struct {
	ID     int64
	BankID int64
	Signal SignalType
	// Value is lower-case hex (see NormalizeSignalValue).
	Value string
	// Classification is a member of the deployment's Vocabulary, or empty.
	Classification string
	AddedAt        time.Time
	// AddedFrom says where the entry came from: an imported file's name,
	// "analyst:NAME", "api:KEY".
	AddedFrom string
	Note      string
	// Frames is a vpdq entry's frame list (nil for other signals).
	Frames []VideoFrame

	// Provenance of an entry that came from an exchange (ExchangeID 0:
	// none). ExchangeName is read with the entry ("" once the exchange is
	// removed).
	ExchangeID   int64
	ExchangeName string
	// UpstreamID is the service's id of the entry; UpstreamClassification
	// its label, verbatim (never guessed into the vocabulary).
	UpstreamID             string
	UpstreamClassification string
	Tags                   []string
	// FetchedAt is when the entry was (last) delivered by the exchange.
	FetchedAt time.Time
	// Suppressed is why the entry is out of the match indexes
	// (SuppressQuarantine, SuppressDispute), "" when it matches.
	Suppressed string
}

// Limits on entry text, so that a hostile list cannot bloat the store.
const (
	MaxEntryNote      = 1000
	MaxEntryAddedFrom = 200
	MaxEntryUpstream  = 200 // upstream id and classification
	MaxEntryTags      = 32
	MaxEntryTag       = 100
)

// Validate normalises the entry's value and classification (vocabulary v;
// nil accepts any well-formed classification) and checks its text.
func (e *BankEntry) Validate(v Vocabulary) error {
	if e.Signal.HexLen() == 0 {
		t, err := ParseSignalType(string(e.Signal))
		if err != nil {
			return err
		}
		e.Signal = t
	}
	if e.Signal == SignalVPDQ {
		// A video's value is its frame list's digest: computed, never
		// taken on trust.
		if err := ValidateVideoFrames(e.Frames); err != nil {
			return err
		}
		e.Value = VideoDigest(e.Frames)
	} else if e.Frames != nil {
		return Errorf(EINVALID, "only vpdq entries have frames")
	}
	val, err := NormalizeSignalValue(e.Signal, e.Value)
	if err != nil {
		return err
	}
	e.Value = val
	if e.Classification, err = v.Normalize(e.Classification); err != nil {
		return err
	}
	if len(e.Note) > MaxEntryNote || !utf8.ValidString(e.Note) {
		return Errorf(EINVALID, "note must be valid text of at most %d bytes", MaxEntryNote)
	}
	if len(e.AddedFrom) > MaxEntryAddedFrom || !utf8.ValidString(e.AddedFrom) {
		return Errorf(EINVALID, "added-from must be valid text of at most %d bytes", MaxEntryAddedFrom)
	}
	for _, u := range []string{e.UpstreamID, e.UpstreamClassification} {
		if len(u) > MaxEntryUpstream || !utf8.ValidString(u) {
			return Errorf(EINVALID, "upstream id and classification must be valid text of at most %d bytes", MaxEntryUpstream)
		}
	}
	if len(e.Tags) > MaxEntryTags {
		return Errorf(EINVALID, "an entry has at most %d tags", MaxEntryTags)
	}
	for _, t := range e.Tags {
		if t == "" || len(t) > MaxEntryTag || !utf8.ValidString(t) {
			return Errorf(EINVALID, "a tag must be valid text of 1 to %d bytes", MaxEntryTag)
		}
	}
	return nil
}

// BankChangeOp is the kind of a change in the bank change feed.
type BankChangeOp string

const (
	// ChangeAdd: entries of one bank with IDs in [FirstEntryID,
	// LastEntryID] were added (the range may hold IDs of other changes).
	ChangeAdd BankChangeOp = "add"
	// ChangeRemove: the entry EntryID (FirstEntryID), of Signal and Value,
	// was removed.
	ChangeRemove BankChangeOp = "remove"
	// ChangeBank: the bank itself was created or changed (enabled,
	// disabled, threshold).
	ChangeBank BankChangeOp = "bank"
)

// BankChange is one row of the change feed that lets every process keep
// its match index in step with the store. Seq increases in commit order.
type BankChange struct {
	Seq          int64
	Op           BankChangeOp
	BankID       int64
	FirstEntryID int64
	LastEntryID  int64
	Signal       SignalType // remove only
	Value        string     // remove only: lower-case hex
	At           time.Time
}

// BankService stores banks, their entries and the change feed.
type BankService interface {
	CreateBank(ctx context.Context, b *Bank) error
	FindBankByName(ctx context.Context, name string) (*Bank, error)
	FindBankByID(ctx context.Context, id int64) (*Bank, error)
	// ListBanks returns every bank by name.
	ListBanks(ctx context.Context) ([]*Bank, error)
	SetBankEnabled(ctx context.Context, id int64, enabled bool) error
	SetBankThreshold(ctx context.Context, id int64, threshold int) error
	// CountBankEntries counts a bank's entries.
	CountBankEntries(ctx context.Context, bankID int64) (int64, error)

	// AddBankEntries validates and adds entries to a bank in one
	// transaction. An entry whose (signal, value) the bank holds already
	// is skipped, so importing a list twice adds nothing; added counts the
	// new ones, which get their ID and AddedAt set. Callers pass batches of
	// a few thousand.
	AddBankEntries(ctx context.Context, bankID int64, entries []*BankEntry) (added int, err error)
	// RemoveBankEntry removes one entry by its signal and value.
	RemoveBankEntry(ctx context.Context, bankID int64, signal SignalType, value string) error
	// BankEntries returns up to limit entries of a bank with IDs above
	// afterID, in ID order: page through a bank of any size with bounded
	// memory.
	BankEntries(ctx context.Context, bankID, afterID int64, limit int) ([]*BankEntry, error)
	// FindBankEntries returns the entries with these IDs that exist, in
	// any order.
	FindBankEntries(ctx context.Context, ids []int64) ([]*BankEntry, error)

	// BankChanges returns up to limit changes with Seq above afterSeq, in
	// Seq order. A change is visible only once every change with a lower
	// Seq is, so a reader that remembers the last Seq it saw misses none.
	BankChanges(ctx context.Context, afterSeq int64, limit int) ([]BankChange, error)
	// LastBankChange is the highest Seq so far (0 when none).
	LastBankChange(ctx context.Context) (int64, error)
}
