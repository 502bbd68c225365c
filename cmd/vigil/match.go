package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vigil-hotline/vigil"
	"github.com/vigil-hotline/vigil/internal/hashing"
	"github.com/vigil-hotline/vigil/internal/match"
)

const matchUsage = `Usage: vigil match [flags] FILE|HASH...

Matches files and hashes against the enabled hash banks and prints each
match with its bank, entry, classification, distance and (for a rotated or
flipped copy) the variant that matched. An argument that names a file is
hashed (PDQ with its eight rotations and flips, and the exact digests).
Otherwise it is a hash: 32 hex digits are MD5 and 40 SHA-1; 64 digits may be
SHA-256 or PDQ, so they need --type or a prefix ("pdq:HEX", "sha256:HEX").
A typed PDQ hash is taken to have quality --quality (default 100).

Exit status 0 whether or not anything matched; 1 if an argument could not be
read or parsed; 2 for a usage mistake.

Flags:`

// matchLine is one argument's result in --json output.
type matchLine struct {
	Input   string        `json:"input"`
	Matches []vigil.Match `json:"matches"`
	Error   string        `json:"error,omitempty"`
}

func runMatch(ctx context.Context, env *Env, args []string) (err error) {
	fs := newFlagSet(env, "match", matchUsage)
	cfg := storeFlags(fs, env)
	typ := fs.String("type", "", "type of bare 64-digit hashes: pdq or sha256")
	jsonOut := fs.Bool("json", false, "one JSON object per argument")
	quality := fs.Int("quality", 100, "quality assumed for PDQ hashes given as text")
	minQuality := fs.Int("min-quality", vigil.DefaultMinPDQQuality, "PDQ hashes of lower quality never match")
	pos, err := interleave(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usageError("match: no files or hashes given")
	}
	var bare vigil.SignalType
	if *typ != "" {
		if bare, err = vigil.ParseSignalType(*typ); err != nil {
			return usageError("match: %s", vigil.ErrorMessage(err))
		}
	}
	if *minQuality <= 0 {
		*minQuality = -1 // the matcher's "no gate"
	}
	db, err := openStore(ctx, cfg, env.Logger)
	if err != nil {
		return err
	}
	defer db.Close()
	// A one-shot command: load once, follow no changes.
	m, err := match.New(ctx, match.Config{Store: db, Logger: env.Logger, MinQuality: *minQuality, PollInterval: -1})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, m.Close()) }()

	failed := 0
	for _, arg := range pos {
		line := matchLine{Input: arg, Matches: []vigil.Match{}}
		q, err := matchQuery(arg, bare, *quality)
		if err == nil {
			var ms []vigil.Match
			if ms, err = m.Match(ctx, q); ms != nil {
				line.Matches = ms
			}
		}
		if err != nil {
			failed++
			line.Error = vigil.ErrorMessage(err)
			if vigil.ErrorCode(err) == vigil.EINTERNAL {
				line.Error = err.Error() // a local command: show the cause
			}
		}
		if *jsonOut {
			if err := writeJSONLine(env.Stdout, line); err != nil {
				return err
			}
			continue
		}
		printMatches(env, line)
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("match: %d of %d arguments failed", failed, len(pos))}
	}
	return nil
}

func printMatches(env *Env, l matchLine) {
	switch {
	case l.Error != "":
		fmt.Fprintf(env.Stdout, "%s: error: %s\n", l.Input, l.Error)
	case len(l.Matches) == 0:
		fmt.Fprintf(env.Stdout, "%s: no match\n", l.Input)
	}
	for _, mt := range l.Matches {
		class := mt.Classification
		if class == "" {
			class = "unclassified"
		}
		variant := ""
		if mt.Variant != "" && mt.Variant != "orig" {
			variant = " as " + mt.Variant
		}
		fmt.Fprintf(env.Stdout, "%s: bank %s entry %d %s: %s %s distance %d%s%s\n",
			l.Input, mt.BankName, mt.EntryID, class, mt.Signal, mt.Value, mt.Distance, variant, provenanceText(mt))
	}
}

// matchQuery turns an argument into a query: a file is hashed, anything
// else must be a hash.
func matchQuery(arg string, bare vigil.SignalType, quality int) (vigil.MatchQuery, error) {
	var q vigil.MatchQuery
	if st, err := os.Stat(arg); err == nil && st.Mode().IsRegular() {
		res, err := hashing.HashFile(arg, hashing.Options{Dihedral: true})
		if !res.Digested {
			return q, err
		}
		// A file that is not an image still has its digests.
		q.MD5, q.SHA1, q.SHA256 = hex.EncodeToString(res.MD5[:]), hex.EncodeToString(res.SHA1[:]), hex.EncodeToString(res.SHA256[:])
		if err == nil {
			q.PDQ, q.Quality = res.PDQ.String(), res.Quality
			if res.Dihedral != nil {
				for _, h := range res.Dihedral {
					q.Dihedral = append(q.Dihedral, h.String())
				}
			}
		}
		return q, nil
	}
	var typ vigil.SignalType
	value := arg
	if t, v, ok := strings.Cut(arg, ":"); ok {
		pt, err := vigil.ParseSignalType(t)
		if err != nil {
			return q, err
		}
		typ, value = pt, v
	} else {
		switch len(strings.TrimSpace(value)) {
		case 32:
			typ = vigil.SignalMD5
		case 40:
			typ = vigil.SignalSHA1
		case 64:
			if typ = bare; typ == "" {
				return q, vigil.Errorf(vigil.EINVALID, "a 64-digit hash may be SHA-256 or PDQ: say --type or write pdq:HEX or sha256:HEX")
			}
		default:
			return q, vigil.Errorf(vigil.EINVALID, "not a file, nor a hash of 32, 40 or 64 hex digits")
		}
	}
	v, err := vigil.NormalizeSignalValue(typ, value)
	if err != nil {
		return q, err
	}
	q.Set(typ, v)
	if typ == vigil.SignalPDQ {
		q.Quality = quality
	}
	return q, nil
}

// provenanceText says which exchange entry a match came from ("" when the
// entry came from no exchange).
func provenanceText(mt vigil.Match) string {
	if mt.ExchangeID == 0 {
		return ""
	}
	name := mt.ExchangeName
	if name == "" {
		name = fmt.Sprintf("#%d (removed)", mt.ExchangeID)
	}
	s := " from exchange " + name
	if mt.UpstreamID != "" {
		s += " upstream id " + mt.UpstreamID
	}
	if mt.UpstreamClassification != "" {
		s += fmt.Sprintf(" upstream classification %q", mt.UpstreamClassification)
	}
	return s
}
