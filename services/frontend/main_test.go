package main

import (
	"io/fs"
	"strings"
	"testing"
)

// The image carries the page (serving it is the kit's, tested there).
func TestTheSiteIsEmbedded(t *testing.T) {
	page, err := fs.ReadFile(site, "site/index.html")
	if err != nil || !strings.Contains(string(page), "Spatial Packs: PMTiles") {
		t.Fatalf("index.html: %v %q", err, page)
	}
	if _, err := fs.Stat(site, "site/style.css"); err != nil {
		t.Fatal(err)
	}
}
