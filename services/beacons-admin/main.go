// Command beacons-admin is the beacon registry's admin UI on the service
// kit: read-only HTML pages of the venues and their beacons. It has no
// route that writes, and runs under the read-only role irsa-beacons-admin;
// who may open it is decided in front of it (its internal ALB, and the
// authentication the trust lane adds there), not here.
//
// Configuration (environment), beside the kit's PORT, OPS_PORT, ...:
//
//	BEACON_TABLE  the beacon table, <org>-<env>-beacons
//	AWS_REGION
package main

import (
	"context"

	"github.com/spatialprops/spatialprops-infra/services/beacons/registry"
	"github.com/spatialprops/spatialprops-infra/services/kit"
)

func main() { kit.Program{Name: "beacons-admin", Setup: setup}.Main() }

func setup(ctx context.Context, env *kit.Env, s *kit.Service) error {
	store, ok, err := registry.StoreFromEnv(ctx, env)
	if !ok {
		return err
	}
	Routes(s, store)
	return nil
}
