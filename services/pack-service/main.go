// Command pack-service is the walking skeleton of the Spatial Packs API, on
// the service kit (services/kit): GET /v1/packs lists the published packs
// whose provenance attestation verifies (what mcp-gateway's list_packs
// tool serves), GET /v1/info says what it is. Health, readiness and
// metrics are on the operations port; SIGTERM fails readiness, drains,
// then closes the listener.
//
// Configuration (environment), beside the kit's PORT, OPS_PORT,
// DRAIN_DELAY, SHUTDOWN_GRACE and OTEL_* settings:
//
//	PACKS_BUCKET       the packs bucket, spatial-packs-<org>-<env>-<region>
//	PROVENANCE_KEY_ID  the provenance key, alias/<org>-<env>-provenance
//	AWS_REGION         the region (IRSA supplies the credentials)
package main

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
	"github.com/spatialprops/spatialprops-infra/services/pack-service/catalog"
)

func main() { kit.Program{Name: "pack-service", Setup: setup}.Main() }

func setup(ctx context.Context, env *kit.Env, s *kit.Service) error {
	bucket := env.Required("PACKS_BUCKET", "the packs bucket, spatial-packs-<org>-<env>-<region> (storage stack)")
	keyID := env.Required("PROVENANCE_KEY_ID", "the provenance signing key, alias/<org>-<env>-provenance (marketplace stack)")
	if env.Err() != nil {
		return nil
	}
	cfg, err := awskit.Config(ctx, awskit.Options{Region: env.String("AWS_REGION", "")})
	if err != nil {
		return err
	}
	c := &catalog.Catalog{
		Store: awskit.Bucket{S3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = awskit.PathStyle(cfg) }), Name: bucket},
		KMS:   kms.NewFromConfig(cfg), KeyID: keyID, Log: s.Log,
	}
	Routes(s, c)
	return nil
}

// Routes adds pack-service's API to s.
func Routes(s *kit.Service, c *catalog.Catalog) {
	s.Handle("GET /v1/info", func(w http.ResponseWriter, _ *http.Request) {
		kit.WriteJSON(w, http.StatusOK, map[string]string{"service": "pack-service", "status": "walking skeleton"})
	})
	s.Handle("GET /v1/packs", c.List)
	s.ReadyWhen("provenance key", func(ctx context.Context) error { _, err := c.PublicKey(ctx); return err })
}
