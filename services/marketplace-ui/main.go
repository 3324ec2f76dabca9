// Command marketplace-ui is the marketplace storefront on the service kit:
// a static page (site/, embedded) that lists the published packs from
// the marketplace api on the same origin (the ALB routes /api to the api,
// everything else here).
package main

import (
	"embed"

	"github.com/spatialprops/spatialprops-infra/services/kit"
)

//go:embed site
var site embed.FS

// program is the service: the embedded site on the kit.
var program = kit.StaticSite("marketplace-ui", site, "site")

func main() { program.Main() }
