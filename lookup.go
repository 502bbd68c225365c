package vigil

import "slices"

// MaxLookupBatch is the most hashes one batch lookup may ask.
const MaxLookupBatch = 1000

// LookupFilter narrows a lookup's answer to some banks and
// classifications; empty lists do not filter.
type LookupFilter struct {
	Banks           []string
	Classifications []string
}

// Apply keeps the matches the filter admits, in order.
func (f LookupFilter) Apply(ms []Match) []Match {
	if len(f.Banks) == 0 && len(f.Classifications) == 0 {
		return ms
	}
	out := ms[:0:0]
	for _, m := range ms {
		if len(f.Banks) > 0 && !slices.Contains(f.Banks, m.BankName) {
			continue
		}
		if len(f.Classifications) > 0 && !slices.Contains(f.Classifications, m.Classification) {
			continue
		}
		out = append(out, m)
	}
	return out
}

// Transformed reports whether a match was found through a rotation or a
// flip of the image rather than the image as it is.
func (m Match) Transformed() bool { return m.Variant != "" && m.Variant != "orig" }

// Set sets the query's value for signal t.
func (q *MatchQuery) Set(t SignalType, v string) {
	switch t {
	case SignalMD5:
		q.MD5 = v
	case SignalSHA1:
		q.SHA1 = v
	case SignalSHA256:
		q.SHA256 = v
	case SignalPDQ:
		q.PDQ = v
	}
}

// Value returns the query's value for signal t.
func (q MatchQuery) Value(t SignalType) string {
	switch t {
	case SignalMD5:
		return q.MD5
	case SignalSHA1:
		return q.SHA1
	case SignalSHA256:
		return q.SHA256
	case SignalPDQ:
		return q.PDQ
	}
	return ""
}
