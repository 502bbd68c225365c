package vigil

import (
	"slices"
	"sort"
	"strings"
)

// ClassificationMap turns the labels other organisations put on their hash
// lists into the deployment's vocabulary: the IWF's categories A, B and C,
// NCMEC's A1, A2, B1 and B2 (prepubescent or pubescent; sex act or
// lascivious exhibition). Keys are normalised labels.
type ClassificationMap map[string]string

// DefaultClassificationMap maps the IWF's and NCMEC's labels onto the
// default vocabulary.
func DefaultClassificationMap() ClassificationMap {
	return ClassificationMap{
		"a": "iwf-a", "b": "iwf-b", "c": "iwf-c",
		"category-a": "iwf-a", "category-b": "iwf-b", "category-c": "iwf-c",
		"a1": "ncmec-a1", "a2": "ncmec-a2", "b1": "ncmec-b1", "b2": "ncmec-b2",
	}
}

// ParseClassificationMap reads "LABEL=CLASS,LABEL=CLASS" over the default
// map (an empty string gives the default); every CLASS must be in v.
func ParseClassificationMap(s string, v Vocabulary) (ClassificationMap, error) {
	m := DefaultClassificationMap()
	for _, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		label, class, ok := strings.Cut(pair, "=")
		l := normalizeClassification(label)
		if !ok || l == "" || !classificationRE.MatchString(l) {
			return nil, Errorf(EINVALID, "classification mapping %q: want LABEL=CLASSIFICATION", strings.TrimSpace(pair))
		}
		c, err := v.Normalize(class)
		if err != nil {
			return nil, err
		}
		m[l] = c
	}
	// Drop the default entries whose classification this vocabulary lacks,
	// so that a custom vocabulary never receives a class it did not name.
	for l, c := range m {
		if v != nil && !slices.Contains(v, c) {
			delete(m, l)
		}
	}
	return m, nil
}

// Classify returns the classification stored for a label: its mapping, or
// the label itself when it is in the vocabulary. A well-formed label that
// is neither is kept as it is, with known false, so that nothing a source
// said is lost and staff see it; only a malformed label is an error.
func (m ClassificationMap) Classify(label string, v Vocabulary) (class string, known bool, err error) {
	l := normalizeClassification(label)
	if l == "" {
		return "", true, nil
	}
	if c, ok := m[l]; ok {
		return c, true, nil
	}
	if c, err := v.Normalize(l); err == nil {
		return c, true, nil
	}
	c, err := Vocabulary(nil).Normalize(l)
	return c, false, err
}

// String lists the mapping as ParseClassificationMap reads it.
func (m ClassificationMap) String() string {
	pairs := make([]string, 0, len(m))
	for l, c := range m {
		pairs = append(pairs, l+"="+c)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}
