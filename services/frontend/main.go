// Command frontend is the Spatial Properties web frontend's walking
// skeleton on the service kit: a static page (site/, embedded) pointing at
// the CDN's open packs and the marketplace. The product team's frontend
// replaces site/; health, readiness, metrics, traces and the drain on
// SIGTERM stay the kit's.
package main

import (
	"context"
	"embed"
	"io/fs"

	"github.com/spatialprops/spatialprops-infra/services/kit"
)

//go:embed site
var site embed.FS

func main() { kit.Program{Name: "frontend", Setup: setup}.Main() }

func setup(_ context.Context, _ *kit.Env, s *kit.Service) error {
	files, err := fs.Sub(site, "site")
	if err != nil {
		return err
	}
	kit.Static(s, files)
	return nil
}
