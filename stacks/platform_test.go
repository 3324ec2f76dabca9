package stacks

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/envs"
)

func TestPlatformRefusesAClusterVersionWithoutAnAutoscalerPin(t *testing.T) {
	// GIVEN a cluster upgraded to a minor no autoscaler image is pinned for
	cfg, err := envs.Load("dev", envs.Overrides{})
	require.NoError(t, err)
	cfg.Cluster.Version = "1.36"
	app := cdktf.Testing_App(nil)
	cluster := &ClusterOutputs{Name: "spatialprops-dev-eks", Endpoint: jsii.String("https://x"), CertificateAuthority: jsii.String("Y2E=")}

	// WHEN the platform stack is built THEN it names the field and the fix,
	// instead of running an autoscaler built for another minor.
	_, err = NewPlatformStack(app, cfg, &NetworkOutputs{VpcID: jsii.String("vpc-1")}, cluster)
	require.Error(t, err)
	assert.Equal(t, "cluster.version 1.36 is not supported; use one of 1.35", err.Error())
}

func TestClusterRefusesAVersionWithoutPinnedAddons(t *testing.T) {
	// GIVEN a cluster upgraded to a minor no addon versions are pinned for
	// THEN the cluster stack names the field and the fix, instead of
	// leaving the addons to whatever EKS installs by default.
	cfg, err := envs.Load("dev", envs.Overrides{})
	require.NoError(t, err)
	cfg.Cluster.Version = "1.36"
	_, err = NewClusterStack(cdktf.Testing_App(nil), cfg, &NetworkOutputs{VpcID: jsii.String("vpc-1")})
	require.Error(t, err)
	assert.Equal(t, "cluster.version 1.36 has no pinned EKS add-on versions; add them to KubernetesVersions in envs/kubernetes.go (known: 1.35)", err.Error())
}
