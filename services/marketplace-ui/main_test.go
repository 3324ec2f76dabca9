package main

import (
	"io/fs"
	"strings"
	"testing"
)

// The image carries the storefront, whose script reads the catalogue from
// the api on the same origin, at the path the marketplace ALB routes to
// marketplace-api (serving files is the kit's, tested there).
func TestTheStorefrontReadsTheAPI(t *testing.T) {
	page, err := fs.ReadFile(site, "site/index.html")
	if err != nil || !strings.Contains(string(page), `<script src="/app.js" defer>`) {
		t.Fatalf("index.html: %v", err)
	}
	script, err := fs.ReadFile(site, "site/app.js")
	if err != nil || !strings.Contains(string(script), `fetch("/api/v1/packs")`) {
		t.Fatalf("app.js: %v %q", err, script)
	}
}
