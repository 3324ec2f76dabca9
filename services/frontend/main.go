// Command frontend is the Spatial Properties web frontend's walking
// skeleton on the service kit: a static page (site/, embedded) pointing at
// the CDN's open packs and the marketplace. The product team's frontend
// replaces site/; health, readiness, metrics, traces and the drain on
// SIGTERM stay the kit's.
package main

import (
	"embed"

	"github.com/spatialprops/spatialprops-infra/services/kit"
)

//go:embed site
var site embed.FS

// program is the service: the embedded site on the kit.
var program = kit.StaticSite("frontend", site, "site")

func main() { program.Main() }
