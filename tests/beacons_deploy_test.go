package tests

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

// beaconServiceRoles are the beacon registry's deploy workflows and the
// edge stack's IRSA role each sets on its chart's service account.
var beaconServiceRoles = map[string]string{
	"beacons":       "irsa-beacons",
	"beacons-admin": "irsa-beacons-admin",
	"beacon-rotate": "irsa-beacon-rotate",
}

// chartValues decodes helm/<svc>/values.yaml into v.
func chartValues(t *testing.T, svc string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "helm", svc, "values.yaml"))
	require.NoError(t, err, svc)
	require.NoError(t, yaml.Unmarshal(raw, v), svc)
}

// GIVEN the beacon registry's deploy workflows THEN each builds its own
// service with the shared recipe; each image is scanned before it is pushed, and
// each env's release goes into edge-sync with the role the edge stack made
// for exactly that service account and the table named by the same naming
// code the stack uses (a typo here is an AccessDenied at 3 a.m.).
func TestBeaconDeployWorkflows(t *testing.T) {
	wfs := loadWorkflows(t)
	for svc, purpose := range beaconServiceRoles {
		w, ok := wfs["deploy-"+svc+".yml"]
		require.True(t, ok, "deploy-%s.yml is missing", svc)
		raw, err := os.ReadFile(filepath.Join("..", ".github", "workflows", "deploy-"+svc+".yml"))
		require.NoError(t, err)
		text := string(raw)
		// each takes the beacon contract from the root module: the context
		// is the repository root, and a contract change redeploys
		sharedImageBuild(t, text, svc)
		for _, p := range []string{"edge", "internal/beacondb"} {
			assert.Contains(t, text, `      - "`+p+`/**"`+"\n", "%s: a contract change redeploys it", svc)
		}
		assert.NotContains(t, text, "spatial-properties", "%s deploys into edge-sync only", svc)
		for _, env := range []string{"dev", "staging", "prod"} {
			helm := serviceDeploy(t, w, env, svc)
			assert.Contains(t, helm, "--namespace "+naming.ServiceNamespace(svc), "%s/%s", svc, env)
			assert.Contains(t, helm, "--atomic --wait", "%s/%s", svc, env)
			assert.Contains(t, helm, `image.tag="$IMAGE_TAG"`, "%s/%s", svc, env)
			// ${{ vars.ORG }} stands for the org; the rest is naming's.
			names := naming.New("${{ vars.ORG }}", env, "ap-southeast-2")
			assert.Contains(t, helm, `serviceAccount.roleArn="arn:aws:iam::$account:role/workload/`+names.Role(purpose)+`"`, "%s/%s", svc, env)
			table := `env.BEACON_TABLE="` + names.BeaconTable() + `"`
			if svc != "beacon-rotate" {
				assert.Contains(t, helm, `env.AWS_REGION="${{ vars.AWS_REGION }}"`, "%s/%s", svc, env)
			}
			if svc == "beacon-rotate" {
				table = `beaconTable="` + names.BeaconTable() + `"`
				assert.Contains(t, helm, `awsRegion="${{ vars.AWS_REGION }}"`, "%s/%s", svc, env)
			}
			assert.Contains(t, helm, table, "%s/%s", svc, env)
		}
	}
}

// GIVEN the beacon charts and the edge stack THEN they agree on every name
// the other side relies on: the service accounts the IRSA roles trust, the
// container port the NetworkPolicies open, the NATS URL the edge stack
// outputs, and the client-certificate Secret its cert-manager Certificate
// writes for NATS user beacon-rotate.
func TestBeaconChartsMatchTheEdgeStack(t *testing.T) {
	doc := stack(t, "dev-edge").Doc
	trusted := map[string]bool{}
	for _, pair := range irsaTrusts(doc) {
		for _, sub := range pair[0] {
			trusted[sub] = true
		}
	}
	for svc, account := range map[string]string{"beacons": stacks.BeaconsAccount, "beacons-admin": stacks.BeaconsAdminAccount, "beacon-rotate": stacks.BeaconRotateAccount} {
		var v struct {
			ServiceAccount struct{ Name string } `yaml:"serviceAccount"`
			Service        struct {
				TargetPort int `yaml:"targetPort"`
			} `yaml:"service"`
		}
		chartValues(t, svc, &v)
		assert.Equal(t, account, v.ServiceAccount.Name, svc)
		assert.True(t, trusted["system:serviceaccount:"+naming.NamespaceEdge+":"+account], "%s: an IRSA role trusts edge-sync/%s", svc, account)
		if svc != "beacon-rotate" {
			assert.Equal(t, stacks.BeaconsPort, v.Service.TargetPort, "%s: the port its NetworkPolicy opens", svc)
		}
	}

	var rotate struct {
		NATS struct {
			URL        string `yaml:"url"`
			SecretName string `yaml:"secretName"`
		} `yaml:"nats"`
	}
	chartValues(t, "beacon-rotate", &rotate)
	assert.Equal(t, doc.Get("output.nats_url.value").String(), rotate.NATS.URL, "the edge stack's in-cluster NATS URL")
	assert.Equal(t, stacks.NATSUserSecret(edge.UserBeaconRotate), rotate.NATS.SecretName)
	cert := manifestByKindName(t, doc, "Certificate", rotate.NATS.SecretName)
	assert.Equal(t, rotate.NATS.SecretName, cert.Get("manifest.spec.secretName").String(), "cert-manager writes the Secret the job mounts")
	assert.Equal(t, edge.ServiceUserName(edge.UserBeaconRotate), cert.Get("manifest.spec.uris.0").String(), "the certificate maps to NATS user beacon-rotate")
}

// GIVEN edge-sync's policies THEN nothing admits traffic to the rotation
// job's pods (it serves nothing; the namespace default-deny covers it), and
// the NATS client port it dials is open to it.
func TestBeaconRotateIsReachableByNothing(t *testing.T) {
	doc := stack(t, "dev-edge").Doc
	natsOpen := false
	for _, p := range resources(doc, "kubernetes_network_policy_v1") {
		name := p.Get("metadata.name").String()
		sel := p.Get(`spec.pod_selector.match_labels.app\.kubernetes\.io/name`).String()
		if name == "default-deny-ingress" {
			continue
		}
		assert.NotEqual(t, "beacon-rotate", sel, "%s must not admit anything to the rotation job", name)
		assert.True(t, p.Get("spec.pod_selector.match_labels").Exists() || p.Get("spec.pod_selector.match_expressions").Exists(),
			"%s selects every pod in edge-sync, the rotation job included", name)
		if name == "allow-nats-clients" {
			natsOpen = p.Get("spec.ingress.0.ports.0.port").String() == "4222"
		}
	}
	assert.True(t, natsOpen, "the job reaches NATS through allow-nats-clients")
}
