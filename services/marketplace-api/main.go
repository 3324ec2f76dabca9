// Command marketplace-api is the marketplace's api (package shop) on the
// service kit: GET /api/v1/packs, POST /api/v1/purchases,
// POST /api/v1/packs/{pack}/versions/{version}/delist.
//
// Configuration (environment), beside the kit's PORT, OPS_PORT, ...:
//
//	PACKS_BUCKET, PROVENANCE_KEY_ID     the catalogue (as pack-service)
//	ENTITLEMENTS_TABLE                  <org>-<env>-entitlements
//	BILLING_QUEUE_URL                   <org>-<env>-billing-events
//	GATE_URL                            the provenance gate, e.g. http://provenance-gate.marketplace.svc
//	AWS_REGION
package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
	"github.com/spatialprops/spatialprops-infra/services/marketplace-api/shop"
	"github.com/spatialprops/spatialprops-infra/services/pack-service/catalog"
)

func main() { kit.Program{Name: "marketplace-api", Setup: setup}.Main() }

func setup(ctx context.Context, env *kit.Env, s *kit.Service) error {
	bucket := env.Required("PACKS_BUCKET", "the packs bucket, spatial-packs-<org>-<env>-<region>")
	keyID := env.Required("PROVENANCE_KEY_ID", "the provenance key, alias/<org>-<env>-provenance")
	sh := &shop.Shop{
		EntitlementsTable: env.Required("ENTITLEMENTS_TABLE", "the entitlements table, <org>-<env>-entitlements (marketplace stack)"),
		BillingQueueURL:   env.Required("BILLING_QUEUE_URL", "the billing queue URL (marketplace stack output billing_events_queue_url)"),
		Gate:              env.Required("GATE_URL", "the provenance gate's in-cluster URL"),
		Client:            kit.NewClient(), Now: time.Now, Log: s.Log,
	}
	if env.Err() != nil {
		return nil
	}
	cfg, err := awskit.Config(ctx, awskit.Options{Region: env.String("AWS_REGION", "")})
	if err != nil {
		return err
	}
	sh.Catalog = &catalog.Catalog{Store: awskit.Bucket{S3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = awskit.PathStyle(cfg) }), Name: bucket},
		KMS: kms.NewFromConfig(cfg), KeyID: keyID, Log: s.Log}
	sh.DB, sh.Queue = dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	sh.Register(s.Metrics)
	sh.Routes(s)
	return nil
}
