// Command provenance-gate attests and publishes packs (package gate) on the
// service kit: POST /v1/publish moves a verified upload from staging/ to
// published/ with a KMS-signed attestation; POST /v1/delist removes one.
// It runs under the only role that may kms:Sign with the provenance key
// and write published/ (the packs bucket policy denies everyone else).
//
// Configuration (environment), beside the kit's PORT, OPS_PORT, ...:
//
//	PACKS_BUCKET       spatial-packs-<org>-<env>-<region>
//	PROVENANCE_KEY_ID  alias/<org>-<env>-provenance
//	LICENCES           licence=access,... e.g. CC-BY-4.0=open,spatialprops-commercial-1.0=licensed
//	PUBLISHERS         registered publisher ids, comma-separated
//	AWS_REGION
package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/spatialprops/spatialprops-infra/marketplace"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
	"github.com/spatialprops/spatialprops-infra/services/provenance-gate/gate"
)

func main() { kit.Program{Name: "provenance-gate", Setup: setup}.Main() }

func setup(ctx context.Context, env *kit.Env, s *kit.Service) error {
	g := &gate.Gate{
		Bucket:   env.Required("PACKS_BUCKET", "the packs bucket, spatial-packs-<org>-<env>-<region> (storage stack)"),
		KeyID:    env.Required("PROVENANCE_KEY_ID", "the provenance key, alias/<org>-<env>-provenance (marketplace stack)"),
		Licences: map[string]string{}, Publishers: map[string]bool{}, Now: time.Now, Log: s.Log,
	}
	for _, spec := range env.List("LICENCES") {
		id, access, ok := strings.Cut(spec, "=")
		if !ok || (access != marketplace.AccessOpen && access != marketplace.AccessLicensed) || id == "" {
			env.Fail(fmt.Errorf("LICENCES entry %q must be <licence id>=open or <licence id>=licensed", spec))
			continue
		}
		g.Licences[id] = access
	}
	for _, p := range env.List("PUBLISHERS") {
		if !marketplace.ValidID(p) {
			env.Fail(fmt.Errorf("PUBLISHERS entry %q is not a valid publisher id", p))
		}
		g.Publishers[p] = true
	}
	if len(g.Licences) == 0 {
		env.Fail(fmt.Errorf("LICENCES is required: the licences the marketplace sells under, e.g. CC-BY-4.0=open"))
	}
	if len(g.Publishers) == 0 {
		env.Fail(fmt.Errorf("PUBLISHERS is required: the registered publisher ids"))
	}
	if env.Err() != nil {
		return nil
	}
	cfg, err := awskit.Config(ctx, awskit.Options{Region: env.String("AWS_REGION", ""), AttemptTimeout: 60 * time.Second, OperationTimeout: 3 * time.Minute})
	if err != nil {
		return err
	}
	g.S3 = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = awskit.PathStyle(cfg) })
	g.KMS = kms.NewFromConfig(cfg)
	g.Register(s.Metrics)
	g.Routes(s)
	return nil
}
