package naming

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestGuideNames(t *testing.T) {
	// The setup guide's commands (aws s3 ls | grep spatial, aws eks
	// update-kubeconfig --name ...) only work if these match exactly.
	n := New("spatialprops", "dev", "ap-southeast-2")
	assert.Equal(t, "spatialprops-dev-vpc", n.Vpc())
	assert.Equal(t, "spatialprops-dev-eks", n.Cluster())
	assert.Equal(t, "tfstate-spatialprops-dev-ap-southeast-2", n.StateBucket())
	assert.Equal(t, "tf-lock-spatialprops-dev-ap-southeast-2", n.LockTable())
	assert.Equal(t, "dev/network.tfstate", n.StateKey("network"))
	assert.Equal(t, "dev-network", n.StackID("network"))
	assert.Equal(t, "spatial-packs-spatialprops-dev-ap-southeast-2", n.DataBucket("packs"))
	assert.Equal(t, "spatial-stac-spatialprops-dev-ap-southeast-2", n.DataBucket("stac"))
	assert.Equal(t, "spatial-logs-spatialprops-dev-ap-southeast-2", n.DataBucket("logs"))
	assert.Equal(t, "spatialprops-dev-oac", n.OAC())
	assert.Equal(t, "spatialprops/pack-service", n.EcrRepository("pack-service"))
	assert.Equal(t, "alias/spatialprops-dev-data", n.DataKeyAlias())
}

func TestEveryDerivedNameFitsAWSLimits(t *testing.T) {
	// The longest shipped combination must stay inside the limits the
	// config loader enforces, or prod would fail at apply time.
	n := New("spatialprops", "staging", "ap-southeast-2")
	for _, b := range n.Buckets() {
		assert.LessOrEqual(t, len(b), MaxBucketName, b)
	}
	for _, r := range n.Roles() {
		assert.LessOrEqual(t, len(r), MaxRoleName, r)
	}
	assert.Len(t, n.Buckets(), 10, "state and its access-log bucket, the audit bucket, packs, stac, logs, loki, tempo, the edge DTN bucket and the PKI bucket")
}

func TestAccountGlobalNamesCarryTheEnvWhenShared(t *testing.T) {
	// One account per env keeps the guide's ECR names; in a shared account
	// two envs would otherwise create the same repository.
	n := New("spatialprops", "staging", "ap-southeast-2")
	if got := n.EcrRepository("pack-service"); got != "spatialprops/pack-service" {
		t.Errorf("own account: got %q", got)
	}
	n.SharedAccount = true
	if got := n.EcrRepository("pack-service"); got != "spatialprops/staging/pack-service" {
		t.Errorf("shared account: got %q", got)
	}
	for got, want := range map[string]string{
		n.WorkloadBoundary(): "spatialprops-staging-workload-boundary",
		n.RunnerProject():    "spatialprops-staging-gha-runner",
		n.GitHubConnection(): "spatialprops-staging-github",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// GIVEN the services outside the shared namespace THEN each maps to the
// namespace its workflow deploys it to, and unknown ones to the default.
func TestServiceNamespace(t *testing.T) {
	for svc, want := range map[string]string{
		"pack-service": NamespaceServices, "dtn-gateway": NamespaceEdge, "beacon-rotate": NamespaceEdge,
		"marketplace-api": NamespaceMarketplace, "billing-stub": NamespaceMarketplace, "not-a-service": NamespaceServices,
	} {
		if got := ServiceNamespace(svc); got != want {
			t.Errorf("ServiceNamespace(%q) = %q, want %q", svc, got, want)
		}
	}
}
