package vigil

import "testing"

func TestClassificationMap(t *testing.T) {
	m, err := ParseClassificationMap("", DefaultVocabulary)
	if err != nil {
		t.Fatal(err)
	}
	for label, want := range map[string]string{"A": "iwf-a", "b": "iwf-b", " C ": "iwf-c", "Category A": "iwf-a",
		"A1": "ncmec-a1", "a2": "ncmec-a2", "B1": "ncmec-b1", "B2": "ncmec-b2", "IWF A": "iwf-a", "baseline": "baseline", "": ""} {
		if got, known, err := m.Classify(label, DefaultVocabulary); err != nil || !known || got != want {
			t.Errorf("Classify(%q) = %q %v %v, want %q", label, got, known, err, want)
		}
	}
	if got, known, err := m.Classify("Category X", DefaultVocabulary); err != nil || known || got != "category-x" {
		t.Errorf("unknown label: %q %v %v, want it kept", got, known, err)
	}
	if _, _, err := m.Classify("<script>", DefaultVocabulary); err == nil {
		t.Error("a malformed label was kept")
	}
	// A deployment's own mapping wins, and the defaults it cannot hold go.
	v, _ := ParseVocabulary("baseline,national")
	m, err = ParseClassificationMap("A=baseline, B=national", v)
	if err != nil {
		t.Fatal(err)
	}
	if got, known, _ := m.Classify("a", v); !known || got != "baseline" {
		t.Errorf("custom A: %q %v", got, known)
	}
	if _, known, _ := m.Classify("A1", v); known {
		t.Error("a default mapping into a class outside the vocabulary survived")
	}
	for _, bad := range []string{"A", "A=nope", "=baseline"} {
		if _, err := ParseClassificationMap(bad, v); err == nil {
			t.Errorf("mapping %q accepted", bad)
		}
	}
}
