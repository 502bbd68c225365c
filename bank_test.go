package vigil

import "testing"

func TestBankValidate(t *testing.T) {
	ok := Bank{Name: "iwf-2026.01", Source: SourceIWF, Kind: BankBlock, PDQThreshold: DefaultPDQThreshold}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mod := range []func(*Bank){
		func(b *Bank) { b.Name = "" },
		func(b *Bank) { b.Name = "Upper" },
		func(b *Bank) { b.Source = "unknown" },
		func(b *Bank) { b.Kind = "" },
		func(b *Bank) { b.PDQThreshold = MaxPDQThreshold + 1 },
		func(b *Bank) { b.Terms = "\xff" },
	} {
		b := ok
		mod(&b)
		if err := b.Validate(); ErrorCode(err) != EINVALID {
			t.Errorf("%+v: %v", b, err)
		}
	}
	if s, err := ParseBankSource(" INHOPE-Partner "); err != nil || s != SourceINHOPEPartner {
		t.Errorf("source: %q %v", s, err)
	}
	if k, err := ParseBankKind("Allow"); err != nil || k != BankAllow {
		t.Errorf("kind: %q %v", k, err)
	}
}

func TestVocabulary(t *testing.T) {
	v, err := ParseVocabulary("")
	if err != nil || len(v) != len(DefaultVocabulary) {
		t.Fatalf("default: %v %v", v, err)
	}
	for in, want := range map[string]string{"IWF A": "iwf-a", "iwf_b": "iwf-b", " baseline ": "baseline", "": ""} {
		if got, err := v.Normalize(in); err != nil || got != want {
			t.Errorf("Normalize(%q) = %q %v", in, got, err)
		}
	}
	if _, err := v.Normalize("category-x"); ErrorCode(err) != EINVALID {
		t.Errorf("unknown classification: %v", err)
	}
	custom, err := ParseVocabulary("A1, B2,a1")
	if err != nil || len(custom) != 2 || custom[0] != "a1" {
		t.Fatalf("custom: %v %v", custom, err)
	}
	if _, err := ParseVocabulary("ok,no way!"); err == nil {
		t.Error("bad vocabulary accepted")
	}
	// nil: any well-formed classification (the store's check).
	if c, err := Vocabulary(nil).Normalize("Local Law 7"); err != nil || c != "local-law-7" {
		t.Errorf("nil vocabulary: %q %v", c, err)
	}
	if _, err := Vocabulary(nil).Normalize("<b>"); err == nil {
		t.Error("malformed classification accepted")
	}
}

func TestBankEntryValidate(t *testing.T) {
	e := BankEntry{Signal: "SHA-1", Value: "0123456789ABCDEF0123456789abcdef01234567", Classification: "IWF C"}
	if err := e.Validate(DefaultVocabulary); err != nil || e.Signal != SignalSHA1 || e.Value != "0123456789abcdef0123456789abcdef01234567" || e.Classification != "iwf-c" {
		t.Fatalf("%+v %v", e, err)
	}
	for _, bad := range []BankEntry{
		{Signal: "crc32", Value: "00"},
		{Signal: SignalPDQ, Value: "00"},
		{Signal: SignalMD5, Value: "0123456789abcdef0123456789abcdef", Classification: "nope"},
		{Signal: SignalMD5, Value: "0123456789abcdef0123456789abcdef", Note: string(make([]byte, MaxEntryNote+1))},
	} {
		if err := bad.Validate(DefaultVocabulary); ErrorCode(err) != EINVALID {
			t.Errorf("%+v: %v", bad.Signal, err)
		}
	}
}
