// Command beacons is the beacon registry API (package registry) on the
// service kit: register and look up beacon -> packet pointers, no PII.
//
// Configuration (environment), beside the kit's PORT, OPS_PORT, ...:
//
//	BEACON_TABLE  the beacon table, <org>-<env>-beacons (edge stack)
//	AWS_REGION
package main

import (
	"context"

	"github.com/spatialprops/spatialprops-infra/services/beacons/registry"
	"github.com/spatialprops/spatialprops-infra/services/kit"
)

func main() { kit.Program{Name: "beacons", Setup: setup}.Main() }

func setup(ctx context.Context, env *kit.Env, s *kit.Service) error {
	store, ok, err := registry.StoreFromEnv(ctx, env)
	if !ok {
		return err
	}
	api := &registry.API{Store: store, Log: s.Log}
	api.Register(s.Metrics)
	api.Routes(s)
	return nil
}
