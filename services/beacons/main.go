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

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/spatialprops/spatialprops-infra/services/beacons/registry"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
)

func main() { kit.Program{Name: "beacons", Setup: setup}.Main() }

func setup(ctx context.Context, env *kit.Env, s *kit.Service) error {
	table := env.Required("BEACON_TABLE", "the beacon table, <org>-<env>-beacons (edge stack output beacons_table)")
	if env.Err() != nil {
		return nil
	}
	cfg, err := awskit.Config(ctx, awskit.Options{Region: env.String("AWS_REGION", "")})
	if err != nil {
		return err
	}
	api := &registry.API{Store: registry.Store{DB: dynamodb.NewFromConfig(cfg), Table: table}, Log: s.Log}
	api.Register(s.Metrics)
	api.Routes(s)
	return nil
}
