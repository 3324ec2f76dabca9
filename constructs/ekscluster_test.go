package constructs

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func clusterProps() *EksClusterProps {
	return &EksClusterProps{
		Name: "spatialprops-dev-eks", Version: "1.35",
		SubnetIDs:            []*string{jsii.String("subnet-a"), jsii.String("subnet-b"), jsii.String("subnet-c")},
		EnablePublicEndpoint: true, PublicAccessCidrs: []string{"203.0.113.0/24"},
		BreakGlassRoleArn:   "arn:aws:iam::111122223333:role/platform-break-glass",
		PermissionsBoundary: jsii.String("arn:aws:iam::111122223333:policy/spatialprops-dev-workload-boundary"),
		LogRetentionDays:    30, RoleName: "spatialprops-dev-eks-cluster", SecretsKeyAlias: "alias/spatialprops-dev-eks-secrets",
		Region: "ap-southeast-2",
	}
}

func TestEksClusterIsHardened(t *testing.T) {
	stack := newTestStack(t)
	_, err := NewEksCluster(stack, "eks", clusterProps())
	require.NoError(t, err)
	doc := synth(t, stack)
	c := one(t, doc, "aws_eks_cluster")

	assert.Equal(t, "spatialprops-dev-eks", c.Get("name").String())
	assert.Equal(t, "1.35", c.Get("version").String())
	assert.Equal(t, []string{"subnet-a", "subnet-b", "subnet-c"}, strs(c.Get("vpc_config.subnet_ids")))
	assert.True(t, c.Get("vpc_config.endpoint_private_access").Bool(), "nodes reach the API inside the VPC")
	assert.True(t, c.Get("vpc_config.endpoint_public_access").Bool())
	assert.Equal(t, []string{"203.0.113.0/24"}, strs(c.Get("vpc_config.public_access_cidrs")), "public endpoint limited to config CIDRs")
	// Secrets are envelope-encrypted with our own rotating key
	assert.Equal(t, []string{"secrets"}, strs(c.Get("encryption_config.resources")))
	assert.Contains(t, c.Get("encryption_config.provider.key_arn").String(), "aws_kms_key.")
	for _, k := range resources(doc, "aws_kms_key") {
		assert.True(t, k.Get("enable_key_rotation").Bool())
	}
	// control-plane logs with a retention period
	assert.Equal(t, ControlPlaneLogTypes, strs(c.Get("enabled_cluster_log_types")))
	lg := one(t, doc, "aws_cloudwatch_log_group")
	assert.Equal(t, "/aws/eks/spatialprops-dev-eks/cluster", lg.Get("name").String())
	assert.Equal(t, int64(30), lg.Get("retention_in_days").Int())
	// access entries only: a ConfigMap edit grants nothing, and the
	// creator holds no hidden admin; the break-glass role is the one admin
	assert.Equal(t, "API", c.Get("access_config.authentication_mode").String())
	assert.False(t, c.Get("access_config.bootstrap_cluster_creator_admin_permissions").Bool())
	assert.True(t, c.Get("access_config.bootstrap_cluster_creator_admin_permissions").Exists(), "must be set false explicitly; the provider default is true")
	entry := one(t, doc, "aws_eks_access_entry")
	assert.Equal(t, "arn:aws:iam::111122223333:role/platform-break-glass", entry.Get("principal_arn").String())
	// CI may create this role only with the boundary attached
	assert.Equal(t, "arn:aws:iam::111122223333:policy/spatialprops-dev-workload-boundary", one(t, doc, "aws_iam_role").Get("permissions_boundary").String())
	assoc := one(t, doc, "aws_eks_access_policy_association")
	assert.Equal(t, ClusterAdminPolicyArn, assoc.Get("policy_arn").String())
	assert.Equal(t, "cluster", assoc.Get("access_scope.type").String())
	// IRSA: the issuer's OIDC provider for STS, no placeholder thumbprint
	oidc := one(t, doc, "aws_iam_openid_connect_provider")
	assert.Equal(t, []string{"sts.amazonaws.com"}, strs(oidc.Get("client_id_list")))
	assert.Contains(t, oidc.Get("url").String(), ".identity[0].oidc[0].issuer")
	assert.False(t, oidc.Get("thumbprint_list").Exists())
	// the AWS managed cluster policy
	assert.Equal(t, "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", one(t, doc, "aws_iam_role_policy_attachment").Get("policy_arn").String())
}

func TestEksClusterPrivateOnly(t *testing.T) {
	stack := newTestStack(t)
	p := clusterProps()
	p.EnablePublicEndpoint, p.PublicAccessCidrs = false, nil
	_, err := NewEksCluster(stack, "eks", p)
	require.NoError(t, err)
	c := one(t, synth(t, stack), "aws_eks_cluster")
	assert.False(t, c.Get("vpc_config.endpoint_public_access").Bool())
	assert.False(t, c.Get("vpc_config.public_access_cidrs").Exists())
}

func TestEksClusterRejectsAnOpenPublicEndpoint(t *testing.T) {
	p := clusterProps()
	p.PublicAccessCidrs = nil
	_, err := NewEksCluster(newTestStack(t), "eks", p)
	require.EqualError(t, err, "eks: enablePublicEndpoint needs publicAccessCidrs; an empty list would mean 0.0.0.0/0")

	p = clusterProps()
	p.SubnetIDs = p.SubnetIDs[:1]
	_, err = NewEksCluster(newTestStack(t), "eks", p)
	require.EqualError(t, err, "eks: subnetIds has 1 subnet(s); EKS needs subnets in at least 2 AZs")
}

func TestEksClusterNeedsABreakGlassRole(t *testing.T) {
	// with no bootstrap admin, a cluster without the break-glass entry has
	// no human way in when CI is broken
	p := clusterProps()
	p.BreakGlassRoleArn = ""
	_, err := NewEksCluster(newTestStack(t), "eks", p)
	require.EqualError(t, err, "eks: breakGlassRoleArn is required: with no bootstrap admin it is the only human way in")
}
