package main

import (
	"context"
	"html/template"
	"net/http"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/services/kit"
)

// Reader is what the UI reads: the registry store's read side. It has no
// write method, so no page can write.
type Reader interface {
	Venues(ctx context.Context) ([]string, error)
	Venue(ctx context.Context, venue string) ([]edge.Beacon, error)
}

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Beacon registry</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;background:#111;color:#eee}a{color:#7fd6d0}td,th{padding:.3rem .8rem;text-align:left}</style></head><body>
<h1>Beacon registry <small>(read-only)</small></h1>{{end}}
{{define "venues"}}{{template "head"}}<h2>Venues</h2><ul>{{range .}}<li><a href="/venues/{{.}}">{{.}}</a></li>{{else}}<li>No beacons registered.</li>{{end}}</ul></body></html>{{end}}
{{define "venue"}}{{template "head"}}<h2>Venue {{.Venue}}</h2><p><a href="/">All venues</a></p>
<table><tr><th>Beacon</th><th>Packet</th><th>Rotates at</th><th>Expires at</th><th>Successor</th></tr>
{{range .Beacons}}<tr><td>{{.BeaconID}}</td><td>{{.Packet}}</td><td>{{.RotatesAt}}</td><td>{{.ExpiresAt}}</td><td>{{.SuccessorID}}</td></tr>{{end}}
</table></body></html>{{end}}`))

// Routes adds the read-only pages: GET / (venues) and GET /venues/{venue}.
func Routes(s *kit.Service, r Reader) {
	s.Handle("GET /{$}", func(w http.ResponseWriter, req *http.Request) {
		venues, err := r.Venues(req.Context())
		if err != nil {
			s.Log.ErrorContext(req.Context(), "venues", "error", err.Error())
			http.Error(w, "the registry cannot be read; retry", http.StatusServiceUnavailable)
			return
		}
		render(w, "venues", venues)
	})
	s.Handle("GET /venues/{venue}", func(w http.ResponseWriter, req *http.Request) {
		bs, err := r.Venue(req.Context(), req.PathValue("venue"))
		if err != nil {
			s.Log.ErrorContext(req.Context(), "venue", "error", err.Error())
			http.Error(w, "the registry cannot be read; retry", http.StatusServiceUnavailable)
			return
		}
		render(w, "venue", map[string]any{"Venue": req.PathValue("venue"), "Beacons": bs})
	})
}

func render(w http.ResponseWriter, page string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_ = pages.ExecuteTemplate(w, page, data)
}
