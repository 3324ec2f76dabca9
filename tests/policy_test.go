package tests

import (
	"context"
	"encoding/json"
	"sort"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// policies compiles tests/policy/*.rego once; the same files run with
// `opa eval -d tests/policy -i <cdk.tf.json> data.spatialprops.deny`.
func policies(t *testing.T) rego.PreparedEvalQuery {
	t.Helper()
	q, err := rego.New(rego.Query("data.spatialprops.deny"), rego.Load([]string{"policy"}, nil)).
		PrepareForEval(context.Background())
	require.NoError(t, err)
	return q
}

// deny evaluates the policies against one stack document.
func deny(t *testing.T, q rego.PreparedEvalQuery, doc []byte) []string {
	t.Helper()
	var input any
	require.NoError(t, json.Unmarshal(doc, &input))
	rs, err := q.Eval(context.Background(), rego.EvalInput(input))
	require.NoError(t, err)
	var out []string
	for _, r := range rs {
		for _, e := range r.Expressions {
			for _, m := range e.Value.([]any) {
				out = append(out, m.(string))
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestPoliciesPassOnEveryStack(t *testing.T) {
	q := policies(t)
	for _, s := range allStacks(t) {
		t.Run(s.ID, func(t *testing.T) {
			assert.Empty(t, deny(t, q, s.Raw))
		})
	}
}

// fiveTags is a complete set of required tags for the fixtures.
const fiveTags = `{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}`

// The policies must catch what they claim to: each case breaks one rule.
func TestPoliciesCatchViolations(t *testing.T) {
	q := policies(t)
	cases := map[string]struct {
		doc  string
		want []string
	}{
		"missing default tag": {`{"//":{"metadata":{"stackName":"dev-x"}},"terraform":{"backend":{"s3":{"encrypt":true,"dynamodb_table":"t"}}},
			"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c"}}]}]}}`,
			[]string{"tags: AWS provider 0 (alias default) has no default tag Owner"}},
		"blanked tag": {`{"//":{"metadata":{"stackName":"dev-x"}},"terraform":{"backend":{"s3":{"encrypt":true,"dynamodb_table":"t"}}},
			"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}}]}]},
			"resource":{"aws_sqs_queue":{"q":{"tags":{"CostCenter":""}}}}}`,
			[]string{"tags: aws_sqs_queue.q blanks required tag CostCenter"}},
		"no backend": {`{"//":{"metadata":{"stackName":"dev-network"}},"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}}]}]}}`,
			[]string{"backend: stack dev-network has no S3 backend"}},
		"unencrypted backend": {`{"//":{"metadata":{"stackName":"dev-network"}},"terraform":{"backend":{"s3":{"dynamodb_table":"t"}}}}`,
			[]string{"backend: stack dev-network does not encrypt its state"}},
		"bare bucket": {`{"//":{"metadata":{"stackName":"dev-state"}},"terraform":{"backend":{"local":{"path":"x"}}},
			"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}}]}]},
			"resource":{"aws_s3_bucket":{"b":{}},
			  "aws_s3_bucket_public_access_block":{"p":{"bucket":"${aws_s3_bucket.b.id}","block_public_acls":true,"block_public_policy":true,"ignore_public_acls":true,"restrict_public_buckets":false}},
			  "aws_s3_bucket_versioning":{"v":{"bucket":"${aws_s3_bucket.b.id}","versioning_configuration":{"status":"Suspended"}}}}}`,
			[]string{"s3: bucket b has no default encryption", "s3: bucket b is not versioned", "s3: bucket b lacks a public access block with all four settings on"}},
		"admin policy": {`{"//":{"metadata":{"stackName":"dev-state"}},
			"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}}]}]},
			"data":{"aws_iam_policy_document":{"d":{"statement":[{"actions":["*"],"resources":["*"]}]}}},
			"resource":{"aws_iam_role_policy":{"p":{"policy":"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*:*\",\"Resource\":\"*\"}}"}},
			  "aws_iam_role":{"r":{"managed_policy_arns":["arn:aws:iam::aws:policy/AdministratorAccess"]}}}}`,
			[]string{"iam: aws_iam_role.r attaches AdministratorAccess", "iam: aws_iam_role_policy.p allows *:* on *", "iam: policy document d allows * on *"}},
		"launch template tags instances only": {`{"//":{"metadata":{"stackName":"dev-cluster"}},"terraform":{"backend":{"s3":{"encrypt":true,"dynamodb_table":"t"}}},
			"provider":{"aws":[{"default_tags":[{"tags":` + fiveTags + `}]}]},
			"resource":{"aws_launch_template":{"lt":{"tag_specifications":[{"resource_type":"instance","tags":{"Name":"n"}}]}}}}`,
			[]string{"tags: aws_launch_template.lt does not tag network-interface", "tags: aws_launch_template.lt does not tag volume",
				"tags: aws_launch_template.lt tags instance without CostCenter", "tags: aws_launch_template.lt tags instance without Environment",
				"tags: aws_launch_template.lt tags instance without Owner", "tags: aws_launch_template.lt tags instance without Project",
				"tags: aws_launch_template.lt tags instance without Service"}},
		"load balancer controller without an Owner default tag": {`{"//":{"metadata":{"stackName":"dev-platform"}},"terraform":{"backend":{"s3":{"encrypt":true,"dynamodb_table":"t"}}},
			"provider":{"aws":[{"default_tags":[{"tags":` + fiveTags + `}]}]},
			"resource":{"helm_release":{"lbc":{"chart":"aws-load-balancer-controller","values":["defaultTags:\n  Environment: dev\n  Project: p\n  Service: ingress\n  CostCenter: c\n"]}}}}`,
			[]string{"tags: helm_release.lbc (aws-load-balancer-controller) has no defaultTags.Owner"}},
		"EBS CSI without volume tags": {`{"//":{"metadata":{"stackName":"dev-cluster"}},"terraform":{"backend":{"s3":{"encrypt":true,"dynamodb_table":"t"}}},
			"provider":{"aws":[{"default_tags":[{"tags":` + fiveTags + `}]}]},
			"resource":{"aws_eks_addon":{"ebs":{"addon_name":"aws-ebs-csi-driver","configuration_values":"{\"controller\":{\"extraVolumeTags\":{\"Environment\":\"dev\",\"Project\":\"p\",\"Service\":\"cluster\",\"Owner\":\"o@x.io\"}}}"}}}}`,
			[]string{"tags: aws_eks_addon.ebs (aws-ebs-csi-driver) has no controller.extraVolumeTags.CostCenter"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, deny(t, q, []byte(tc.doc)))
		})
	}
}
