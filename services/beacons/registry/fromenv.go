package registry

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
)

// StoreFromEnv is the beacon table both the API (beacons) and the admin
// UI (beacons-admin) serve: BEACON_TABLE in the env's region. ok is false
// when the configuration is incomplete (env has recorded why).
func StoreFromEnv(ctx context.Context, env *kit.Env) (store Store, ok bool, err error) {
	table := env.Required("BEACON_TABLE", "the beacon table, <org>-<env>-beacons (edge stack output beacons_table)")
	if env.Err() != nil {
		return Store{}, false, nil
	}
	cfg, err := awskit.Config(ctx, awskit.Options{Region: env.String("AWS_REGION", "")})
	if err != nil {
		return Store{}, false, err
	}
	return Store{DB: dynamodb.NewFromConfig(cfg), Table: table}, true, nil
}
