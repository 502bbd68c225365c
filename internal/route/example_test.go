package route_test

import (
	"encoding/json"
	"testing"

	"github.com/vigil-hotline/vigil/internal/route"
)

func TestExampleProblems(t *testing.T) {
	if p := route.Default().ExampleProblems(); len(p) == 0 {
		t.Fatal("the built-in example routing is not recognised as an example")
	}
	cfg := route.Default().Config()
	cfg.Police.Email, cfg.Police.PublicKey = "fccu@police.be", "age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq"
	cfg.Hotlines = nil
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := route.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if p := r.ExampleProblems(); len(p) != 0 {
		t.Errorf("real routing taken for an example: %v", p)
	}
	for addr, want := range map[string]bool{"a@b.invalid": true, "x@EXAMPLE.org": true, "x@mail.example.com": true,
		"x@police.be": false, "x@notexample.com": false, "bad": false} {
		if got := route.IsExampleAddress(addr); got != want {
			t.Errorf("IsExampleAddress(%q) = %v", addr, got)
		}
	}
}
