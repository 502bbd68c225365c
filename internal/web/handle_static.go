package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var staticFS embed.FS

// handleStatic serves the embedded style sheet and scripts. Nothing is
// loaded from elsewhere at run time; the one vendored library, Cytoscape.js
// 3.35.0 (the network map's graph, MIT, from the npm registry), is
// static/cytoscape.min.js with its licence beside it.
func (s *Server) handleStatic() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
