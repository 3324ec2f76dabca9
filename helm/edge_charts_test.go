package helm

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chartutil"
)

func podEnv(t *testing.T, r *rendered) map[string]string {
	t.Helper()
	require.NotNil(t, r.Deployment)
	env := map[string]string{}
	for _, e := range r.Deployment.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	return env
}

// GIVEN every chart THEN none runs the whoami or pause placeholder except
// the two uplink adapters, which the guide asks to stay placeholders; and
// only their workflows build services/edge-placeholder.
func TestOnlyTheUplinksRunAPlaceholder(t *testing.T) {
	placeholder := regexp.MustCompile(`(?i)whoami|registry\.k8s\.io/pause|WHOAMI_PORT_NUMBER`)
	dirs, err := filepath.Glob("*/values.yaml")
	require.NoError(t, err)
	seen := 0
	for _, f := range dirs {
		chart := filepath.Dir(f)
		for _, file := range []string{f, filepath.Join(chart, "ci", "ci-values.yaml")} {
			raw, err := os.ReadFile(file)
			if os.IsNotExist(err) {
				continue
			}
			require.NoError(t, err)
			uses := placeholder.Match(stripComments(raw))
			uplink := chart == "uplink-satellite" || chart == "uplink-lpwan"
			assert.False(t, uses && !uplink, "%s runs a placeholder", file)
			assert.False(t, uplink && file == f && !uses, "%s: the uplink adapters stay placeholders, as the guide asks", file)
		}
		seen++
	}
	assert.GreaterOrEqual(t, seen, len(allCharts()))
	workflows, err := filepath.Glob("../.github/workflows/deploy-*.yml")
	require.NoError(t, err)
	for _, w := range workflows {
		raw, err := os.ReadFile(w)
		require.NoError(t, err)
		builds := strings.Contains(string(raw), "BUILD_CONTEXT: services/edge-placeholder")
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(w), "deploy-"), ".yml")
		assert.Equal(t, name == "uplink-satellite" || name == "uplink-lpwan", builds, "%s builds the placeholder", w)
	}
}

func stripComments(raw []byte) []byte {
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			out = append(out, line)
		}
	}
	return []byte(strings.Join(out, "\n"))
}

// GIVEN the uplink adapter charts THEN every pod carries the envelope
// limit, the gateway's in-cluster address, the placeholder listens on the
// probed port, nothing scrapes it (it serves no metrics) and it has no AWS
// access.
func TestUplinkPlaceholders(t *testing.T) {
	for _, svc := range placeholders {
		r, err := render(t, svc, nil)
		require.NoError(t, err, svc)
		env := podEnv(t, r)
		assert.Equal(t, "51200", env["MAX_ENVELOPE_BYTES"], svc)
		assert.Equal(t, "8080", env["WHOAMI_PORT_NUMBER"], "%s: the placeholder must listen where the probes look", svc)
		assert.Equal(t, int32(8080), r.Deployment.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort, svc)
		assert.Equal(t, svc, r.ServiceAccount.Name, svc)
		assert.Nil(t, r.ServiceMonitor, "%s: the placeholder serves no metrics, so nothing scrapes it", svc)
		assert.Nil(t, r.Ingress, "%s: DTN services are cluster-internal", svc)
		assert.Equal(t, "http://dtn-gateway.edge-sync.svc:80", env["DTN_GATEWAY_ADDR"], svc)
		assert.Empty(t, r.ServiceAccount.Annotations["eks.amazonaws.com/role-arn"], "%s: adapters need no AWS access", svc)
		res := lint(svc, deployValues(svc))
		assert.Empty(t, res.Errors, svc)
		assertRestrictedPod(t, r.Deployment.Spec.Template.Spec, r.Deployment.Spec.Template.Spec.Containers[0])
	}
}

// GIVEN dtn-gateway THEN it carries the 50 KB envelope limit and names the
// two uplink adapters by their Services (in its own namespace); the
// gateway's Service is what the adapters' address names.
func TestDTNGatewayWiring(t *testing.T) {
	r, err := render(t, "dtn-gateway", nil)
	require.NoError(t, err)
	env := podEnv(t, r)
	assert.Equal(t, "51200", env["MAX_ENVELOPE_BYTES"], "edge.MaxEnvelopeBytes (tests/edge_dtn_test.go)")
	var names []string
	for _, spec := range strings.Split(env["UPLINKS"], ",") {
		name, url, ok := strings.Cut(spec, "=")
		require.True(t, ok, spec)
		up, err := render(t, "uplink-"+name, nil)
		require.NoError(t, err)
		assert.Equal(t, "http://"+up.Service.Name, url, "UPLINKS names the adapter's Service")
		names = append(names, name)
	}
	assert.Equal(t, []string{"satellite", "lpwan"}, names)
	for _, k := range []string{"DTN_BUCKET", "DTN_QUEUE_URL", "AWS_REGION"} {
		assert.NotEmpty(t, env[k], "the workflow sets %s", k)
	}
	assert.Equal(t, "dtn-gateway", r.Service.Name)
	assert.Equal(t, int32(80), r.Service.Spec.Ports[0].Port)
}

// GIVEN the kit service charts THEN each pod is named for its traces,
// serves the API on the chart's target port (PORT where it is not the
// kit's 8080) and gets the pod's grace for the kit's drain (10 s) plus
// shutdown grace (15 s); edge-sync mounts its NATS client certificate.
func TestKitServiceWiring(t *testing.T) {
	for _, svc := range services {
		r, err := render(t, svc, nil)
		require.NoError(t, err, svc)
		env := podEnv(t, r)
		c := r.Deployment.Spec.Template.Spec.Containers[0]
		assert.Equal(t, svc, env["OTEL_SERVICE_NAME"], svc)
		assert.Equal(t, "http://opentelemetry-collector.observability.svc:4317", env["OTEL_EXPORTER_OTLP_ENDPOINT"], svc)
		port := c.Ports[0].ContainerPort
		if port != 8080 {
			assert.Equal(t, port, int32(atoi(env["PORT"])), "%s: PORT must match the container port", svc)
		}
		assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path, svc)
		require.NotNil(t, r.Deployment.Spec.Template.Spec.TerminationGracePeriodSeconds)
		assert.GreaterOrEqual(t, *r.Deployment.Spec.Template.Spec.TerminationGracePeriodSeconds, int64(25), svc)
	}
	r, err := render(t, "edge-sync", nil)
	require.NoError(t, err)
	env := podEnv(t, r)
	pod := r.Deployment.Spec.Template.Spec
	var mount string
	for _, m := range pod.Containers[0].VolumeMounts {
		if m.Name == "nats-user" {
			mount = m.MountPath
			assert.True(t, m.ReadOnly)
		}
	}
	for _, k := range []string{"NATS_CA_FILE", "NATS_CERT_FILE", "NATS_KEY_FILE"} {
		assert.True(t, strings.HasPrefix(env[k], mount+"/"), "%s points into the mounted Secret", k)
	}
	for _, v := range pod.Volumes {
		if v.Name == "nats-user" {
			assert.Equal(t, "nats-user-security-detector", v.Secret.SecretName, "stacks.NATSUserSecret(edge.UserSecurityDetector)")
			assert.Equal(t, int32(0o440), *v.Secret.DefaultMode)
		}
	}
	mcp, err := render(t, "mcp-gateway", nil)
	require.NoError(t, err)
	pack, err := render(t, "pack-service", nil)
	require.NoError(t, err)
	assert.Equal(t, "http://"+pack.Service.Name, podEnv(t, mcp)["PACK_SERVICE_URL"])
	api, err := render(t, "marketplace-api", nil)
	require.NoError(t, err)
	gate, err := render(t, "provenance-gate", nil)
	require.NoError(t, err)
	assert.Equal(t, "http://"+gate.Service.Name, podEnv(t, api)["GATE_URL"])
	vals, err := chartutil.ReadValuesFile(filepath.Join("cdn-presigner", "values.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "5m", vals["env"].(map[string]any)["CDN_URL_TTL"], "signed URLs live at most 5 minutes")
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
