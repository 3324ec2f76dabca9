package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
)

// GIVEN the DTN charts THEN the envelope limit their pods read is exactly
// edge.MaxEnvelopeBytes: a gateway and adapters that disagree with the edge
// contract would drop (or forward) envelopes the rest of the mesh refuses.
func TestDTNChartsCarryTheEnvelopeLimit(t *testing.T) {
	for _, svc := range []string{"dtn-gateway", "uplink-satellite", "uplink-lpwan"} {
		raw, err := os.ReadFile(filepath.Join("..", "helm", svc, "values.yaml"))
		require.NoError(t, err, svc)
		var v struct {
			Env map[string]string `yaml:"env"`
		}
		require.NoError(t, yaml.Unmarshal(raw, &v), svc)
		n, err := strconv.Atoi(v.Env["MAX_ENVELOPE_BYTES"])
		require.NoError(t, err, "%s: MAX_ENVELOPE_BYTES must be a number", svc)
		assert.Equal(t, edge.MaxEnvelopeBytes, n, svc)
	}
}

// GIVEN the DTN deploy workflows THEN the gateway builds its own service
// (services/dtn-gateway) and the two uplink adapters build the
// digest-pinned placeholder, as the guide asks; each is scanned and pushed
// like every service and rolled out into edge-sync, the namespace the
// service deploy role may edit; the gateway's service account gets the
// edge stack's irsa-dtn-gateway role and its bucket and queue in each env.
func TestDTNDeployWorkflows(t *testing.T) {
	df, err := os.ReadFile(filepath.Join("..", "services", "edge-placeholder", "Dockerfile"))
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^FROM docker\.io/traefik/whoami:v1\.12\.0@sha256:[0-9a-f]{64}$`, string(df), "the placeholder is pinned by digest")
	assert.Regexp(t, `(?m)^USER 10001$`, string(df), "the chart runs as 10001 with runAsNonRoot")
	wfs := loadWorkflows(t)
	for _, svc := range []string{"dtn-gateway", "uplink-satellite", "uplink-lpwan"} {
		w, ok := wfs["deploy-"+svc+".yml"]
		require.True(t, ok, "deploy-%s.yml is missing", svc)
		raw, err := os.ReadFile(filepath.Join("..", ".github", "workflows", "deploy-"+svc+".yml"))
		require.NoError(t, err)
		text := string(raw)
		if svc == "dtn-gateway" {
			sharedImageBuild(t, text, svc)
		} else {
			assert.Contains(t, text, "BUILD_CONTEXT: services/edge-placeholder", svc)
			assert.Contains(t, text, `docker build --pull -t "$IMAGE" "$BUILD_CONTEXT"`, svc)
		}
		assert.NotContains(t, text, "spatial-properties", "%s deploys into edge-sync only", svc)
		for _, env := range []string{"dev", "staging", "prod"} {
			helm := serviceDeploy(t, w, env, svc)
			assert.Contains(t, helm, "--namespace edge-sync", "%s/%s", svc, env)
			assert.Contains(t, helm, `image.tag="$IMAGE_TAG"`, "%s/%s", svc, env)
			if svc == "dtn-gateway" {
				names := naming.New("${{ vars.ORG }}", env, "${{ vars.AWS_REGION }}")
				assert.Contains(t, helm, `serviceAccount.roleArn="arn:aws:iam::$account:role/workload/${{ vars.ORG }}-`+env+`-irsa-dtn-gateway"`, env)
				assert.Contains(t, helm, `env.DTN_BUCKET="`+names.DataBucket("dtn")+`"`, env)
				assert.Contains(t, helm, `env.DTN_QUEUE_URL="https://sqs.${{ vars.AWS_REGION }}.amazonaws.com/$account/`+names.DTNOutboxQueue()+`"`, env)
			} else {
				assert.NotContains(t, helm, "roleArn", "%s needs no AWS access", svc)
			}
		}
	}
}

// GIVEN the edge stack THEN the dtn-gateway pods admit only the two uplink
// adapters, on the gateway's container port (the namespace denies the rest).
func TestDTNGatewayAdmitsOnlyTheUplinks(t *testing.T) {
	doc := stack(t, "dev-edge").Doc
	var found bool
	for _, p := range resources(doc, "kubernetes_network_policy_v1") {
		if p.Get("metadata.name").String() != "allow-dtn-gateway-from-uplinks" {
			continue
		}
		found = true
		assert.Equal(t, "edge-sync", p.Get("metadata.namespace").String())
		assert.Equal(t, "dtn-gateway", p.Get(`spec.pod_selector.match_labels.app\.kubernetes\.io/name`).String())
		var from []string
		for _, f := range p.Get("spec.ingress.0.from").Array() {
			assert.False(t, f.Get("namespace_selector").Exists(), "no other namespace reaches the gateway")
			from = append(from, f.Get(`pod_selector.match_labels.app\.kubernetes\.io/name`).String())
		}
		assert.ElementsMatch(t, []string{"uplink-satellite", "uplink-lpwan"}, from)
		assert.Equal(t, "8080", p.Get("spec.ingress.0.ports.0.port").String())
	}
	assert.True(t, found, "allow-dtn-gateway-from-uplinks is missing")
}
