package constructs

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/sqsqueue"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

func eksAddonsProps(t *testing.T) *EksAddonsProps {
	stack := newTestStack(t)
	return &EksAddonsProps{
		ClusterName: jsii.String("spatialprops-dev-eks"), OidcProviderArn: jsii.String("arn:aws:iam::111122223333:oidc-provider/x"),
		OidcIssuerURL: jsii.String("https://oidc.eks.ap-southeast-2.amazonaws.com/id/X"), EbsCsiRoleName: "spatialprops-dev-irsa-ebs-csi",
		VolumeTags: map[string]string{"Environment": "dev", "Project": "spatial-properties", "Service": "cluster",
			"CostCenter": "platform", "Owner": "sre@spatial.properties"},
		Nodes:    sqsqueue.NewSqsQueue(stack, jsii.String("stand-in-for-nodes"), &sqsqueue.SqsQueueConfig{}),
		Versions: map[string]string{"vpc-cni": "v1.0.0-eksbuild.1", "kube-proxy": "v1.0.1-eksbuild.1", "coredns": "v1.0.2-eksbuild.1", "aws-ebs-csi-driver": "v1.0.3-eksbuild.1"},
	}
}

// GIVEN pinned versions THEN each addon carries its own; GIVEN one
// missing THEN the construct refuses rather than leave it to EKS's default.
func TestEksAddonsArePinned(t *testing.T) {
	stack := newTestStack(t)
	p := eksAddonsProps(t)
	_, err := NewEksAddons(stack, "addons", p)
	require.NoError(t, err)
	got := map[string]string{}
	for _, a := range resources(synth(t, stack), "aws_eks_addon") {
		got[a.Get("addon_name").String()] = a.Get("addon_version").String()
	}
	assert.Equal(t, p.Versions, got)

	delete(p.Versions, "coredns")
	_, err = NewEksAddons(newTestStack(t), "addons", p)
	require.EqualError(t, err, "addons: no version pinned for addon coredns")
}

func TestEbsCsiTagsEveryVolumeItCreates(t *testing.T) {
	// GIVEN the addons WHEN synthesized THEN the EBS CSI driver's
	// extraVolumeTags carry the required tags: PVC volumes are created by
	// the driver at run time, out of reach of provider default_tags.
	stack := newTestStack(t)
	p := eksAddonsProps(t)
	_, err := NewEksAddons(stack, "addons", p)
	require.NoError(t, err)
	var cfg string
	for _, a := range resources(synth(t, stack), "aws_eks_addon") {
		if a.Get("addon_name").String() == "aws-ebs-csi-driver" {
			cfg = a.Get("configuration_values").String()
		}
	}
	require.NotEmpty(t, cfg, "the EBS CSI addon must carry configuration_values")
	tags := gjson.Get(cfg, "controller.extraVolumeTags")
	for _, k := range RequiredTagKeys {
		assert.Equal(t, p.VolumeTags[k], tags.Get(k).String(), k)
	}
}

func TestEksAddonsRefuseMissingVolumeTags(t *testing.T) {
	p := eksAddonsProps(t)
	delete(p.VolumeTags, "CostCenter")
	_, err := NewEksAddons(newTestStack(t), "addons", p)
	require.EqualError(t, err, "addons: volumeTags lacks required tag(s) [CostCenter]; every EBS volume must carry [Environment Project Service CostCenter Owner]")
}
