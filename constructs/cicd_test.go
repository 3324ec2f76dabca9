package constructs

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

func TestEcrRepositoryIsPrivateImmutableScannedEncrypted(t *testing.T) {
	stack := newTestStack(t)
	_, err := NewEcrRepository(stack, "ecr", &EcrRepositoryProps{
		Name: "spatialprops/pack-service", KmsKeyArn: jsii.String("arn:aws:kms:ap-southeast-2:111122223333:key/k"),
		KeepTaggedImages: 20, UntaggedExpireDays: 7,
	})
	require.NoError(t, err)
	doc := synth(t, stack)
	repo := one(t, doc, "aws_ecr_repository")
	assert.Equal(t, "IMMUTABLE", repo.Get("image_tag_mutability").String(), "a tag must always mean the same image")
	assert.True(t, repo.Get("image_scanning_configuration.scan_on_push").Bool())
	assert.Equal(t, "KMS", repo.Get("encryption_configuration.0.encryption_type").String())
	assert.Equal(t, "arn:aws:kms:ap-southeast-2:111122223333:key/k", repo.Get("encryption_configuration.0.kms_key").String())
	assert.Empty(t, resources(doc, "aws_ecr_repository_policy"), "no repository policy, so nothing can make it public")

	policy := gjson.Parse(one(t, doc, "aws_ecr_lifecycle_policy").Get("policy").String())
	assert.Equal(t, "untagged", policy.Get("rules.0.selection.tagStatus").String())
	assert.Equal(t, int64(7), policy.Get("rules.0.selection.countNumber").Int())
	assert.Equal(t, "imageCountMoreThan", policy.Get("rules.1.selection.countType").String())
	assert.Equal(t, int64(20), policy.Get("rules.1.selection.countNumber").Int())

	_, err = NewEcrRepository(newTestStack(t), "ecr", &EcrRepositoryProps{Name: "x/y", KmsKeyArn: jsii.String("k"), KeepTaggedImages: 0, UntaggedExpireDays: 7})
	require.EqualError(t, err, "ecr: keepTaggedImages=0 must be at least 1")
}

func TestGitHubRoleTrustIsExact(t *testing.T) {
	stack := newTestStack(t)
	_, err := NewGitHubRole(stack, "deploy", &GitHubRoleProps{
		RoleName: "spatialprops-dev-gha-service-deploy", OidcProviderArn: jsii.String("arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"),
		Subjects:   []string{"repo:spatialprops/spatialprops-infra:ref:refs/heads/main"},
		Statements: []Statement{{Actions: []string{"eks:DescribeCluster"}, Resources: []string{"arn:aws:eks:ap-southeast-2:111122223333:cluster/x"}}},
	})
	require.NoError(t, err)
	trust := statementBySid(t, synth(t, stack), "GitHubActionsOnly")
	conds := trust.Get("condition").Array()
	require.Len(t, conds, 2)
	assert.Equal(t, "StringEquals", conds[0].Get("test").String())
	assert.Equal(t, "token.actions.githubusercontent.com:aud", conds[0].Get("variable").String())
	assert.Equal(t, []string{"sts.amazonaws.com"}, strs(conds[0].Get("values")))
	assert.Equal(t, "StringEquals", conds[1].Get("test").String())
	assert.Equal(t, "token.actions.githubusercontent.com:sub", conds[1].Get("variable").String())
	assert.Equal(t, []string{"repo:spatialprops/spatialprops-infra:ref:refs/heads/main"}, strs(conds[1].Get("values")))
}

func TestGitHubRoleRefusesWildcardSubjects(t *testing.T) {
	_, err := NewGitHubRole(newTestStack(t), "deploy", &GitHubRoleProps{
		RoleName: "r", OidcProviderArn: jsii.String("arn"), Subjects: []string{"repo:spatialprops/*"},
		Statements: []Statement{{Actions: []string{"eks:DescribeCluster"}, Resources: []string{"*"}}},
	})
	require.EqualError(t, err, `deploy: subject "repo:spatialprops/*" must be an exact sub claim (repo:<org>/<repo>:...) without wildcards`)
}

func TestGitHubOIDCProviderCreateOrReference(t *testing.T) {
	stack := newTestStack(t)
	NewGitHubOIDCProvider(stack, "oidc", true)
	doc := synth(t, stack)
	p := one(t, doc, "aws_iam_openid_connect_provider")
	assert.Equal(t, "https://token.actions.githubusercontent.com", p.Get("url").String())
	assert.Equal(t, []string{"sts.amazonaws.com"}, strs(p.Get("client_id_list")))
	assert.False(t, p.Get("thumbprint_list").Exists(), "no placeholder thumbprint")

	stack = newTestStack(t)
	NewGitHubOIDCProvider(stack, "oidc", false)
	doc = synth(t, stack)
	assert.Empty(t, resources(doc, "aws_iam_openid_connect_provider"), "an env that does not own the provider only references it")
	assert.Equal(t, "https://token.actions.githubusercontent.com", doc.Get("data.aws_iam_openid_connect_provider.@values.0.url").String())
}
