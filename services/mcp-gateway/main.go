// Command mcp-gateway is a minimal MCP (Model Context Protocol) endpoint
// on the service kit (package mcp): POST /mcp, one tool, list_packs,
// served from pack-service.
//
// Configuration (environment), beside the kit's PORT, OPS_PORT, ...:
//
//	PACK_SERVICE_URL  pack-service, e.g. http://pack-service.spatial-properties.svc
package main

import (
	"context"

	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/mcp-gateway/mcp"
)

func main() { kit.Program{Name: "mcp-gateway", Setup: setup}.Main() }

func setup(_ context.Context, env *kit.Env, s *kit.Service) error {
	m := &mcp.Server{PackService: env.Required("PACK_SERVICE_URL", "pack-service's in-cluster URL"), Client: kit.NewClient(), Log: s.Log}
	m.Routes(s)
	return nil
}
