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

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/spatialprops/spatialprops-infra/services/beacons/registry"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
)

func main() { kit.Program{Name: "beacons-admin", Setup: setup}.Main() }

func setup(ctx context.Context, env *kit.Env, s *kit.Service) error {
	table := env.Required("BEACON_TABLE", "the beacon table, <org>-<env>-beacons (edge stack output beacons_table)")
	if env.Err() != nil {
		return nil
	}
	cfg, err := awskit.Config(ctx, awskit.Options{Region: env.String("AWS_REGION", "")})
	if err != nil {
		return err
	}
	Routes(s, registry.Store{DB: dynamodb.NewFromConfig(cfg), Table: table})
	return nil
}
