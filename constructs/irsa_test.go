package constructs

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func irsaProps() *IrsaRoleProps {
	return &IrsaRoleProps{
		RoleName:        "spatialprops-dev-irsa-test",
		OidcProviderArn: jsii.String("arn:aws:iam::111122223333:oidc-provider/oidc.eks.ap-southeast-2.amazonaws.com/id/ABC"),
		OidcIssuerURL:   jsii.String("https://oidc.eks.ap-southeast-2.amazonaws.com/id/ABC"),
		Namespace:       "kube-system",
		ServiceAccount:  "cluster-autoscaler",
		Statements:      []Statement{{Actions: []string{"autoscaling:DescribeAutoScalingGroups"}, Resources: []string{"*"}}},
	}
}

func TestIrsaTrustPinsOneServiceAccount(t *testing.T) {
	stack := newTestStack(t)
	role, err := NewIrsaRole(stack, "ca", irsaProps())
	require.NoError(t, err)
	doc := synth(t, stack)
	trust := statementBySid(t, doc, "ServiceAccountOnly")

	assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, strs(trust.Get("actions")))
	assert.Equal(t, "Federated", trust.Get("principals.0.type").String())
	assert.Equal(t, []string{*irsaProps().OidcProviderArn}, strs(trust.Get("principals.0.identifiers")))
	conds := trust.Get("condition").Array()
	require.Len(t, conds, 2, "exactly sub and aud: any other shape would widen or break the trust")
	// sub: only this namespace/service account, matched exactly
	assert.Equal(t, "StringEquals", conds[0].Get("test").String())
	assert.Equal(t, `${replace("https://oidc.eks.ap-southeast-2.amazonaws.com/id/ABC", "https://", "")}:sub`, conds[0].Get("variable").String())
	assert.Equal(t, []string{"system:serviceaccount:kube-system:cluster-autoscaler"}, strs(conds[0].Get("values")))
	// aud: tokens minted for STS only
	assert.Equal(t, "StringEquals", conds[1].Get("test").String())
	assert.Equal(t, `${replace("https://oidc.eks.ap-southeast-2.amazonaws.com/id/ABC", "https://", "")}:aud`, conds[1].Get("variable").String())
	assert.Equal(t, []string{"sts.amazonaws.com"}, strs(conds[1].Get("values")))

	assert.Equal(t, "spatialprops-dev-irsa-test", one(t, doc, "aws_iam_role").Get("name").String())
	assert.Len(t, resources(doc, "aws_iam_role_policy"), 1)
	assert.Contains(t, role.Annotation, "eks.amazonaws.com/role-arn")
}

func TestIrsaRejectsBadProps(t *testing.T) {
	cases := map[string]struct {
		edit func(*IrsaRoleProps)
		want string
	}{
		"wildcard service account": {func(p *IrsaRoleProps) { p.ServiceAccount = "*" },
			`ca: serviceAccount "*" is not a Kubernetes name; wildcards are not allowed`},
		"no permissions": {func(p *IrsaRoleProps) { p.Statements = nil },
			"ca: a role with no permissions is not needed; give statements or managedPolicyArns"},
		"star action": {func(p *IrsaRoleProps) { p.Statements = []Statement{{Actions: []string{"*"}, Resources: []string{"*"}}} },
			"ca: statements[0] grants every action; list the actions the workload calls"},
		"missing issuer": {func(p *IrsaRoleProps) { p.OidcIssuerURL = nil },
			"ca: oidcProviderArn and oidcIssuerUrl are required (from the cluster stack)"},
		"long name": {func(p *IrsaRoleProps) {
			p.RoleName = "spatialprops-staging-irsa-a-role-name-that-is-far-too-long-for-iam"
		},
			`ca: roleName "spatialprops-staging-irsa-a-role-name-that-is-far-too-long-for-iam" must be 1-64 characters`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := irsaProps()
			tc.edit(p)
			_, err := NewIrsaRole(newTestStack(t), "ca", p)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}
