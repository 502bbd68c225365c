//go:build !nodemo

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestFileDemoReport: the demo reads the report form with an HTML parser,
// so attribute order, other forms on the page and the form's own action do
// not matter; it posts the form's hidden fields with the reporter's.
func TestFileDemoReport(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><form action="/lang"><input name="csrf" value="wrong" type="hidden"></form>
<form novalidate id="report-form" method="post" action="/intake?lang=fr">
<input value="tok&amp;en" type="hidden" name="csrf"><input name="lang" type="hidden" value="fr"><textarea name="urls"></textarea></form>`)
	})
	mux.HandleFunc("POST /intake", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("csrf") != "tok&en" || r.FormValue("lang") != "fr" || r.URL.Query().Get("lang") != "fr" ||
			r.FormValue("urls") != "https://example.org/x" || r.FormValue("saw_images") != "1" {
			http.Error(w, "bad form "+r.Form.Encode(), http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, `<main><p class="code" id="tracking-code">
  ABCD-2345 </p></main>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	code, err := fileDemoReport(context.Background(), srv.URL, "fr", "https://example.org/x")
	if err != nil || code != "ABCD-2345" {
		t.Fatalf("fileDemoReport = %q, %v", code, err)
	}
	if _, err := fileDemoReport(context.Background(), srv.URL+"/missing", "fr", "https://example.org/x"); err == nil {
		t.Error("a page without the form gave a code")
	}
}
