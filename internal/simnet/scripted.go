package simnet

import (
	"fmt"
	"net/http"
	"strconv"
)

// Scripted is the site whose pages JavaScript builds.
//
//	/            a gallery whose <img> elements a script creates from
//	             /feed.json, only after the page is scrolled
//	/feed.json   ScriptedSeeds as /img/SEED.jpg, and /known.png
//	/known.png   KnownPicture
//	/hostile     a page whose script tries the internal service (the
//	             canary: InternalHits), 169.254.169.254 and a private
//	             address, directly, by name and through redirects, by
//	             fetch, image, iframe and WebSocket; it shows ScriptedSafe
//	/redirect?to=URL   302 to URL
const Scripted = "script.example"

// ScriptedSeeds are the pictures the scripted gallery builds; ScriptedSafe
// the one picture /hostile shows.
var (
	ScriptedSeeds = []uint64{9601, 9602}
	ScriptedSafe  = uint64(9603)
)

func (n *Net) serveScripted(w http.ResponseWriter, r *http.Request) bool {
	switch r.URL.Path {
	case "/":
		writeHTML(w, `<title>Gallery</title><style>body{min-height:4000px}</style>
<h1>Gallery</h1><p>Scroll down to see the pictures.</p><div id=g></div>
<script>
addEventListener('scroll', () => {
  fetch('/feed.json').then(r => r.json()).then(d => d.images.forEach(src => {
    const i = document.createElement('img'); i.src = src; i.width = 64;
    document.getElementById('g').appendChild(i);
  }));
}, {once: true});
</script>`)
	case "/feed.json":
		feed := `{"images": [`
		for _, s := range ScriptedSeeds {
			feed += strconv.Quote(ImagePath(s, Variant{})) + ","
		}
		feed += `"/known.png"]}`
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(feed))
	case "/known.png":
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(KnownPicture)
	case "/redirect":
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	case "/hostile":
		canary := n.InternalURL("/canary")
		targets := []string{
			canary, "http://169.254.169.254/latest/meta-data/", "http://10.0.0.7/",
			"http://" + Private + "/", "http://" + Metadata + "/latest/meta-data/",
			n.URL(Scripted, "/redirect?to="+canary), n.URL(Tricks, "/redirect/loopback"),
			n.URL(Tricks, "/redirect/metadata"), n.URL(Tricks, "/redirect/private"),
		}
		js := ""
		for _, t := range targets {
			js += fmt.Sprintf("fetch(%q).catch(() => {}); new Image().src = %[1]q;\n", t)
		}
		writeHTML(w, fmt.Sprintf(`<title>Hostile</title><img src="%s">
<iframe src="%s"></iframe>
<script>
%s
try { new WebSocket("ws://%s/ws"); } catch (e) {}
</script>`, ImagePath(ScriptedSafe, Variant{}), canary, js, n.InternalAddr))
	default:
		return false
	}
	return true
}
