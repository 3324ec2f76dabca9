package kit

import (
	"context"
	"io/fs"
	"net/http"
)

// Static serves a static site from files: GET / is index.html, every other
// file under its path (an embedded directory, so the image carries the
// site and nothing else). Pages get a Content-Security-Policy that allows
// only the site's own scripts and styles, and the API on the same origin.
func Static(s *Service, files fs.FS) {
	server := http.FileServerFS(files)
	s.Handle("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		server.ServeHTTP(w, r)
	})
}

// StaticSite is the whole program of a service that only serves a static
// site: files' directory dir, embedded in the binary (frontend,
// marketplace-ui). It reads no setting of its own.
func StaticSite(name string, files fs.FS, dir string) Program {
	return Program{Name: name, Setup: func(_ context.Context, _ *Env, s *Service) error {
		site, err := fs.Sub(files, dir)
		if err != nil {
			return err
		}
		Static(s, site)
		return nil
	}}
}
