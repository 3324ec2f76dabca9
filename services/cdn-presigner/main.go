// Command cdn-presigner signs CloudFront URLs for published packs, for
// devices that reached it through the presigner ALB's mutual TLS, on the
// service kit. The rules are package presign's; docs/edge-identity.md is
// the operator's page.
//
//	GET /v1/presign?path=/licensed/<pack>/<version>/<file>
//
// Configuration (environment), beside the kit's PORT, OPS_PORT, ...:
//
//	CDN_BASE_URL         the CDN, e.g. https://cdn.spatial.properties
//	CDN_SIGNING_KEY_ID   the KMS signing key (ECC_NIST_P256) ARN
//	CDN_KEY_PAIR_ID      the CloudFront public key id of its public half
//	CDN_URL_TTL          signed URL lifetime, at most 5m (default 5m)
//	LEDGER_TABLE, DEVICES_TABLE, ENTITLEMENTS_TABLE, AWS_REGION
package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/spatialprops/spatialprops-infra/services/cdn-presigner/presign"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
)

func main() { kit.Program{Name: "cdn-presigner", Setup: setup}.Main() }

func setup(ctx context.Context, env *kit.Env, s *kit.Service) error {
	p := &presign.Service{
		BaseURL:           env.Required("CDN_BASE_URL", "the CDN's https:// URL (cdn stack)"),
		KeyID:             env.Required("CDN_SIGNING_KEY_ID", "the CDN signing key's ARN, alias/<org>-<env>-cdn-signer (cdn stack)"),
		KeyPairID:         env.Required("CDN_KEY_PAIR_ID", "the CloudFront public key id of the signing key (cdn stack)"),
		LedgerTable:       env.Required("LEDGER_TABLE", "the device ledger, <org>-<env>-device-ledger"),
		DevicesTable:      env.Required("DEVICES_TABLE", "the devices table, <org>-<env>-devices"),
		EntitlementsTable: env.Required("ENTITLEMENTS_TABLE", "the entitlements table, <org>-<env>-entitlements"),
		TTL:               env.Duration("CDN_URL_TTL", presign.MaxTTL, 10*time.Second, presign.MaxTTL),
		Now:               time.Now, Log: s.Log,
	}
	if p.BaseURL != "" && !strings.HasPrefix(p.BaseURL, "https://") {
		env.Fail(fmt.Errorf("CDN_BASE_URL=%q must be an https:// URL", p.BaseURL))
	}
	if env.Err() != nil {
		return nil
	}
	cfg, err := awskit.Config(ctx, awskit.Options{Region: env.String("AWS_REGION", "")})
	if err != nil {
		return err
	}
	p.DB, p.KMS = dynamodb.NewFromConfig(cfg), kms.NewFromConfig(cfg)
	p.Register(s.Metrics)
	presign.Routes(s, p)
	return nil
}
