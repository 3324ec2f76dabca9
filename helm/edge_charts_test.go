package helm

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// edgeServices are the DTN charts in edge-sync. Their images belong to the
// edge team; until those exist each runs the digest-pinned placeholder.
var edgeServices = []string{"dtn-gateway", "uplink-satellite", "uplink-lpwan"}

func podEnv(t *testing.T, r *rendered) map[string]string {
	t.Helper()
	require.NotNil(t, r.Deployment)
	env := map[string]string{}
	for _, e := range r.Deployment.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	return env
}

// GIVEN the DTN charts THEN every pod carries the envelope limit
// (tests/edge_dtn_test.go proves 51200 is edge.MaxEnvelopeBytes), the
// adapters carry the gateway's in-cluster address, the placeholder listens
// on the probed port, and the service account names are the ones IAM trusts.
func TestDTNChartsWiring(t *testing.T) {
	for _, svc := range edgeServices {
		r, err := render(t, svc, nil)
		require.NoError(t, err, svc)
		env := podEnv(t, r)
		assert.Equal(t, "51200", env["MAX_ENVELOPE_BYTES"], svc)
		assert.Equal(t, "8080", env["WHOAMI_PORT_NUMBER"], "%s: the placeholder must listen where the probes look", svc)
		assert.Equal(t, int32(8080), r.Deployment.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort, svc)
		assert.Equal(t, svc, r.ServiceAccount.Name, svc)
		assert.Nil(t, r.ServiceMonitor, "%s: the placeholder serves no metrics, so nothing scrapes it", svc)
		assert.Nil(t, r.Ingress, "%s: DTN services are cluster-internal", svc)
		if svc == "dtn-gateway" {
			assert.NotContains(t, env, "DTN_GATEWAY_ADDR")
			continue
		}
		assert.Equal(t, "http://dtn-gateway.edge-sync.svc:80", env["DTN_GATEWAY_ADDR"], svc)
		assert.Empty(t, r.ServiceAccount.Annotations["eks.amazonaws.com/role-arn"], "%s: adapters need no AWS access", svc)
	}
	// The gateway's Service is what the adapters' address names.
	gw, err := render(t, "dtn-gateway", nil)
	require.NoError(t, err)
	assert.Equal(t, "dtn-gateway", gw.Service.Name)
	assert.Equal(t, int32(80), gw.Service.Spec.Ports[0].Port)
}

// GIVEN the gateway's IRSA role ARN (the edge stack's dtn_gateway_role_arn)
// THEN its service account carries it; an adapter given none has none.
func TestDTNGatewayServiceAccountTakesItsRole(t *testing.T) {
	arn := "arn:aws:iam::111122223333:role/spatialprops-dev-irsa-dtn-gateway"
	r, err := render(t, "dtn-gateway", map[string]any{"serviceAccount": map[string]any{"roleArn": arn, "name": "dtn-gateway", "automountToken": false}})
	require.NoError(t, err)
	assert.Equal(t, arn, r.ServiceAccount.Annotations["eks.amazonaws.com/role-arn"])
}

// GIVEN the workflow's values THEN each DTN chart lints strictly, runs as
// non-root on a read-only root filesystem, and the CI values match the
// workflow's --set (so lint proves something).
func TestDTNChartsLintAndAreLocked(t *testing.T) {
	for _, svc := range edgeServices {
		res := lint(svc, deployValues(svc))
		assert.Empty(t, res.Errors, svc)
		assert.Equal(t, deployValues(svc), ciValues(t, svc), svc)
		r, err := render(t, svc, nil)
		require.NoError(t, err)
		c := r.Deployment.Spec.Template.Spec.Containers[0]
		require.NotNil(t, c.SecurityContext)
		assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem, svc)
		assert.True(t, *c.SecurityContext.RunAsNonRoot, svc)
	}
	_, err := render(t, "uplink-lpwan", map[string]any{"image": map[string]any{"repository": "x", "tag": ""}})
	assert.ErrorContains(t, err, "image.tag is required")
}
