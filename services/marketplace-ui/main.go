// Command marketplace-ui is the marketplace storefront on the service kit:
// a static page (site/, embedded) that lists the published packs from
// the marketplace api on the same origin (the ALB routes /api to the api,
// everything else here).
package main

import (
	"context"
	"embed"
	"io/fs"

	"github.com/spatialprops/spatialprops-infra/services/kit"
)

//go:embed site
var site embed.FS

func main() { kit.Program{Name: "marketplace-ui", Setup: setup}.Main() }

func setup(_ context.Context, _ *kit.Env, s *kit.Service) error {
	files, err := fs.Sub(site, "site")
	if err != nil {
		return err
	}
	kit.Static(s, files)
	return nil
}
