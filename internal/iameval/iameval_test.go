package iameval

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testModel loads two hand-written stacks: "test-base" (a bucket and a
// key, as outputs) and "test-app" (a role on a path under a boundary that
// reads them through terraform_remote_state).
func testModel(t *testing.T) *Model {
	t.Helper()
	docs := map[string][]byte{}
	for id, file := range map[string]string{"test-base": "testdata/base-stack.json", "test-app": "testdata/one-stack.json"} {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		docs[id] = raw
	}
	env, err := LoadEnv("test", docs)
	require.NoError(t, err)
	m, err := NewModel(env)
	require.NoError(t, err)
	return m
}

func TestReferencesResolveToConcreteArns(t *testing.T) {
	m := testModel(t)
	role := m.Role("test-app")
	require.NotNil(t, role, "the role is found by name")
	assert.Equal(t, "arn:aws:iam::111122223333:role/workload/test-app", role.Arn, "the path is part of the ARN")
	assert.Equal(t, "arn:aws:iam::111122223333:policy/test-boundary", role.Boundary)
	assert.Equal(t, "test", role.Tags["Environment"], "default tags reach the role")
	require.Len(t, role.Inline, 1)
	stmts := role.Inline[0].Document["Statement"].([]any)
	read := stmts[0].(map[string]any)
	assert.Equal(t, []any{"arn:aws:s3:::packs-test/*"}, read["Resource"], "a remote state output resolves to the other stack's ARN")
	key := stmts[1].(map[string]any)["Resource"].([]any)[0].(string)
	assert.Regexp(t, `^arn:aws:kms:ap-southeast-2:111122223333:key/[0-9a-f-]{36}$`, key)
	assert.Contains(t, m.ResourcePolicies, "arn:aws:s3:::packs-test", "the bucket policy is found through replace()")
	assert.Contains(t, m.ResourcePolicies, key, "the key policy (jsonencode) is attached to the key's ARN")

	again, err := m.Env.Attr("test-base", "aws_kms_key.packs", "arn")
	require.NoError(t, err)
	assert.Equal(t, key, again, "computed ids are stable")
	_, err = m.Env.Attr("test-base", "aws_kms_key.packs", "no_such_attribute")
	assert.ErrorContains(t, err, "no_such_attribute", "an unknown attribute is an error naming it, not a guess")
}

func TestDecisions(t *testing.T) {
	m := testModel(t)
	key := m.Role("test-app").Inline[0].Document["Statement"].([]any)[1].(map[string]any)["Resource"].([]any)[0].(string)
	results := Expect(t, m,
		Allow("test-app", "s3:GetObject", "arn:aws:s3:::packs-test/a.pmtiles").Because("identity allows, boundary allows"),
		Deny("test-app", "s3:GetObject", "arn:aws:s3:::other/a.pmtiles").Because("no identity statement"),
		Deny("test-app", "s3:DeleteObject", "arn:aws:s3:::packs-test/a.pmtiles").Because("the bucket policy denies"),
		Deny("test-app", "sqs:SendMessage", "arn:aws:sqs:ap-southeast-2:111122223333:q").Because("the boundary has no sqs"),
		Deny("test-app", "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:ap-southeast-2:111122223333:secret:x-AbCdEf"),
		Allow("test-app", "kms:Decrypt", key, "kms:ViaService", "s3.ap-southeast-2.amazonaws.com").Because("condition met, key policy delegates to IAM"),
		Deny("test-app", "kms:Decrypt", key, "kms:ViaService", "sqs.ap-southeast-2.amazonaws.com"),
		Allow("arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com", "sts:AssumeRoleWithWebIdentity", m.Role("test-app").Arn,
			"token.actions.githubusercontent.com:sub", "repo:o/r:environment:test", "token.actions.githubusercontent.com:aud", "sts.amazonaws.com"),
		Deny("arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com", "sts:AssumeRoleWithWebIdentity", m.Role("test-app").Arn,
			"token.actions.githubusercontent.com:sub", "repo:o/r:pull_request", "token.actions.githubusercontent.com:aud", "sts.amazonaws.com"),
		Allow("arn:aws:iam::111122223333:role/anything", "sqs:SendMessage", "arn:aws:sqs:ap-southeast-2:111122223333:q").As("", AllowAll),
		Deny("arn:aws:iam::111122223333:role/anything", "sqs:SendMessage", "arn:aws:sqs:ap-southeast-2:111122223333:q").
			As("arn:aws:iam::111122223333:policy/test-boundary", AllowAll).Because("a boundary caps any inline policy"),
	)
	assert.Equal(t, ExplicitlyDenied, results[2].Decision, "the bucket policy's Deny is explicit")
	assert.Equal(t, ImplicitlyDenied, results[3].Decision)
	assert.Contains(t, results[4].Explain(), "NoSecrets", "the reason names the deciding statement")
}

func TestWrongRequestsAreReported(t *testing.T) {
	m := testModel(t)
	results, err := m.Evaluate([]Request{
		{Principal: "test-app", Action: "s3:GetObjekt", Resource: "arn:aws:s3:::packs-test/a"},
		{Principal: "nobody", Action: "s3:GetObject", Resource: "arn:aws:s3:::packs-test/a"},
		{Principal: "test-app", Action: "s3:GetObject", Resource: "arn:aws:s3:::packs-test/a", Context: map[string]any{"ec2:Vpc": "vpc-1"}},
	})
	require.NoError(t, err)
	assert.NotEmpty(t, results[0].Err, "an unknown action is not silently denied")
	assert.True(t, strings.Contains(results[1].Err, "nobody"), results[1].Err)
	assert.Equal(t, []string{"ec2:Vpc"}, results[2].Ignored, "a condition key that does not apply is reported")
}
