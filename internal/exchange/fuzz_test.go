package exchange

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/vigil-hotline/vigil"
)

// storable says whether the store would take a fetched entry as it is.
func storable(t *testing.T, e Entry) {
	t.Helper()
	if e.Deleted && e.Signal == "" {
		if e.UpstreamID == "" {
			t.Fatalf("a deletion with neither id nor hash: %+v", e)
		}
		return
	}
	be := vigil.BankEntry{Signal: e.Signal, Value: e.Value, Frames: e.Frames, UpstreamID: e.UpstreamID,
		UpstreamClassification: e.Classification, Tags: e.Tags}
	if err := be.Validate(nil); err != nil {
		t.Fatalf("entry %+v refused by the store: %v", e, err)
	}
}

// FuzzNCMECPage: any body is a page or an error, never a panic, and its
// entries are storable. Seeds in testdata/fuzz/FuzzNCMECPage.
func FuzzNCMECPage(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><images count="1" maxTimestamp="2017-10-24T14:00:00Z"><image><member id="42">Example</member><timestamp>2017-10-24T14:00:00Z</timestamp><id>image1</id><classification>A1</classification><fingerprints><md5>d41d8cd98f00b204e9800998ecf8427e</md5><pdna>aa</pdna></fingerprints></image><deletedImage><id>image2</id></deletedImage></images><paging><next>/v2/entries?from=x</next></paging></queryResult>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := parseNCMECPage(body)
		if err != nil {
			return
		}
		for _, e := range p.entries {
			storable(t, e)
		}
	})
}

type bodyTransport struct {
	ct   string
	body []byte
}

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {b.ct}}, Request: r,
		Body: io.NopCloser(bytes.NewReader(b.body)), ContentLength: int64(len(b.body))}, nil
}

// FuzzHTTPListPage: any list body, as CSV, TSV or JSON lines, gives pages
// or an error in bounded steps, never a panic, and storable entries.
// Seeds in testdata/fuzz/FuzzHTTPListPage (the first byte picks the type).
func FuzzHTTPListPage(f *testing.F) {
	f.Add([]byte("0type,value,classification,id\npdq," + string(bytes.Repeat([]byte("ab"), 32)) + ",A1,7\nmd5,zz,,8\n"))
	f.Add([]byte(`2{"type":"md5","value":"d41d8cd98f00b204e9800998ecf8427e","classification":"b","id":9}` + "\n{bad\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		ct := []string{"text/csv", "text/tab-separated-values", "application/x-ndjson"}[int(in[0])%3]
		l, err := newHTTPList(Config{Kind: KindHTTPList, URL: "https://lists.example/list",
			HTTP: &http.Client{Transport: bodyTransport{ct, in[1:]}}, PageSize: 50})
		if err != nil {
			t.Fatal(err)
		}
		cp := ""
		for range len(in) + 2 {
			p, err := l.FetchPage(context.Background(), cp)
			if err != nil {
				return
			}
			for _, e := range p.Entries {
				storable(t, e)
			}
			if p.Done {
				return
			}
			cp = p.Checkpoint
		}
		t.Fatalf("a list of %d bytes did not end", len(in))
	})
}
