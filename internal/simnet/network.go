package simnet

import (
	"fmt"
	"net/http"
	"strings"
)

// The network: two sites that look unrelated and are one operation, for
// the network map (the demo's "two reports, one network").
//
//	go.example/r/7        a short link: 302 to pics-one.example/set/
//	pics-one.example/set/ pictures NetworkShared, NetworkNear and one of
//	                      its own
//	board-two.example/t/9 the same file NetworkShared, NetworkNear
//	                      re-encoded (another file, a near-duplicate), and
//	                      one of its own
//
// Neither page links anywhere: only what they show joins them.
const (
	Redirector = "go.example"
	PicsOne    = "pics-one.example"
	BoardTwo   = "board-two.example"
)

// Seeds of the network's pictures.
const (
	NetworkShared = 701
	NetworkNear   = 702
)

// NetworkReports are the two URLs reported separately.
func (n *Net) NetworkReports() (shortLink, board string) {
	return n.URL(Redirector, "/r/7"), n.URL(BoardTwo, "/t/9")
}

func (n *Net) renderNetwork() {
	img := func(host string, seed uint64, v Variant) string { return n.URL(host, ImagePath(seed, v)) }
	p := n.newPage(PicsOne, "/set/", "Set")
	p.w("</head><body>\n")
	for _, seed := range []uint64{NetworkShared, NetworkNear, 703} {
		p.w(`<img src="%s" alt="">`+"\n", ImagePath(seed, Variant{}))
		p.place(img(PicsOne, seed, Variant{}), seed, Variant{})
	}
	n.pages[PicsOne+"/set/"] = p.done()

	p = n.newPage(BoardTwo, "/t/9", "Thread 9")
	p.w("</head><body>\n")
	near := Variant{Quality: 60}
	p.w(`<img src="%s" alt="">`+"\n", ImagePath(NetworkShared, Variant{}))
	p.place(img(BoardTwo, NetworkShared, Variant{}), NetworkShared, Variant{})
	p.w(`<img src="%s" alt="">`+"\n", ImagePath(NetworkNear, near))
	p.place(img(BoardTwo, NetworkNear, near), NetworkNear, near)
	p.w(`<img src="%s" alt="">`+"\n", ImagePath(704, Variant{}))
	p.place(img(BoardTwo, 704, Variant{}), 704, Variant{})
	n.pages[BoardTwo+"/t/9"] = p.done()
}

// serveRedirector answers the short links of go.example.
func (n *Net) serveRedirector(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, "/r/") {
		return false
	}
	target := map[string]string{"/r/7": n.URL(PicsOne, "/set/")}[r.URL.Path]
	if target == "" {
		http.NotFound(w, r)
		return true
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusFound)
	fmt.Fprintf(w, "<a href=%q>moved</a>\n", target)
	return true
}
