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

// compliantCluster is an EKS cluster that passes the access and detection
// rules, so a case about another rule trips only that one.
const compliantCluster = `"access_config":{"authentication_mode":"API","bootstrap_cluster_creator_admin_permissions":false},
	"enabled_cluster_log_types":["api","audit","authenticator","controllerManager","scheduler"]`

// fiveTags is a complete set of required tags for the fixtures.
const fiveTags = `{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}`

// The policies must catch what they claim to: each case breaks one rule.
func TestPoliciesCatchViolations(t *testing.T) {
	q := policies(t)
	cases := map[string]struct {
		doc  string
		want []string
	}{
		"missing default tag": {`{"//":{"metadata":{"stackName":"dev-x"}},"terraform":{"backend":{"s3":{"encrypt":true,"use_lockfile":true}}},
			"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c"}}]}]}}`,
			[]string{"tags: AWS provider 0 (alias default) has no default tag Owner"}},
		"blanked tag": {`{"//":{"metadata":{"stackName":"dev-x"}},"terraform":{"backend":{"s3":{"encrypt":true,"use_lockfile":true}}},
			"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}}]}]},
			"resource":{"aws_sqs_queue":{"q":{"tags":{"CostCenter":""}}}}}`,
			[]string{"tags: aws_sqs_queue.q blanks required tag CostCenter"}},
		"no backend": {`{"//":{"metadata":{"stackName":"dev-network"}},"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}}]}]}}`,
			[]string{"backend: stack dev-network has no S3 backend"}},
		"unencrypted backend": {`{"//":{"metadata":{"stackName":"dev-network"}},"terraform":{"backend":{"s3":{"use_lockfile":true}}}}`,
			[]string{"backend: stack dev-network does not encrypt its state"}},
		"unlocked backend": {`{"//":{"metadata":{"stackName":"dev-network"}},"terraform":{"backend":{"s3":{"encrypt":true}}}}`,
			[]string{"backend: stack dev-network does not lock its state (use_lockfile)"}},
		"deprecated lock table": {`{"//":{"metadata":{"stackName":"dev-network"}},"terraform":{"backend":{"s3":{"encrypt":true,"use_lockfile":true,"dynamodb_table":"t"}}}}`,
			[]string{"backend: stack dev-network names dynamodb_table, deprecated since Terraform 1.11 (use use_lockfile)"}},
		"local state": {`{"//":{"metadata":{"stackName":"dev-state"}},"terraform":{"backend":{"local":{"path":"x"}}}}`,
			[]string{"backend: stack dev-state has no S3 backend"}},
		"bare bucket": {`{"//":{"metadata":{"stackName":"dev-state"}},"terraform":{"backend":{"s3":{"encrypt":true,"use_lockfile":true}}},
			"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}}]}]},
			"resource":{"aws_s3_bucket":{"b":{}},
			  "aws_s3_bucket_public_access_block":{"p":{"bucket":"${aws_s3_bucket.b.id}","block_public_acls":true,"block_public_policy":true,"ignore_public_acls":true,"restrict_public_buckets":false}},
			  "aws_s3_bucket_versioning":{"v":{"bucket":"${aws_s3_bucket.b.id}","versioning_configuration":{"status":"Suspended"}}}}}`,
			[]string{"s3: bucket b has no default encryption", "s3: bucket b is not versioned", "s3: bucket b lacks a public access block with all four settings on"}},
		"admin policy": {`{"//":{"metadata":{"stackName":"dev-state"}},"terraform":{"backend":{"s3":{"encrypt":true,"use_lockfile":true}}},
			"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}}]}]},
			"data":{"aws_iam_policy_document":{"d":{"statement":[{"actions":["*"],"resources":["*"]}]}}},
			"resource":{"aws_iam_role_policy":{"p":{"policy":"{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*:*\",\"Resource\":\"*\"}}"}},
			  "aws_iam_role":{"r":{"managed_policy_arns":["arn:aws:iam::aws:policy/AdministratorAccess"]}}}}`,
			[]string{"iam: aws_iam_role.r attaches AdministratorAccess", "iam: aws_iam_role_policy.p allows *:* on *", "iam: policy document d allows * on *"}},
		"unprotected prod data": {`{"//":{"metadata":{"stackName":"prod-edge"}},"terraform":{"backend":{"s3":{"encrypt":true,"use_lockfile":true}}},
			"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"prod","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}}]}]},
			"resource":{"aws_kms_key":{"k":{}},
			  "aws_sqs_queue":{"q":{"lifecycle":{"prevent_destroy":false}},"ok":{"lifecycle":{"prevent_destroy":true}}},
			  "aws_eks_cluster":{"c":{"lifecycle":{"create_before_destroy":true},` + compliantCluster + `}},
			  "aws_cloudwatch_log_group":{"l":{"kms_key_id":"${aws_kms_key.k.arn}"}},
			  "aws_ecr_repository":{"r":{}},
			  "aws_acmpca_certificate_authority":{"ca":{"type":"SUBORDINATE","tags":{"CAPurpose":"device","DeviceCertDays":"30"}}},
			  "aws_dynamodb_table":{"unsafe":{},"locked":{"deletion_protection_enabled":true}},
			  "aws_sns_topic":{"not-stateful":{}}}}`,
			[]string{
				"protection: aws_acmpca_certificate_authority.ca in prod-edge has no lifecycle.prevent_destroy",
				"protection: aws_cloudwatch_log_group.l in prod-edge has no lifecycle.prevent_destroy",
				"protection: aws_dynamodb_table.unsafe in prod-edge has no lifecycle.prevent_destroy",
				"protection: aws_ecr_repository.r in prod-edge has no lifecycle.prevent_destroy",
				"protection: aws_eks_cluster.c in prod-edge has no lifecycle.prevent_destroy",
				"protection: aws_kms_key.k in prod-edge has no lifecycle.prevent_destroy",
				"protection: aws_sqs_queue.q in prod-edge has no lifecycle.prevent_destroy",
			}},
		// dev stays cheap to tear down; the rule is about prod
		"unprotected dev data": {`{"//":{"metadata":{"stackName":"dev-edge"}},"terraform":{"backend":{"s3":{"encrypt":true,"use_lockfile":true}}},
			"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}}]}]},
			"resource":{"aws_kms_key":{"k":{}},"aws_eks_cluster":{"c":{` + compliantCluster + `}}}}`,
			nil},
		"launch template tags instances only": {`{"//":{"metadata":{"stackName":"dev-cluster"}},"terraform":{"backend":{"s3":{"encrypt":true,"use_lockfile":true}}},
			"provider":{"aws":[{"default_tags":[{"tags":` + fiveTags + `}]}]},
			"resource":{"aws_launch_template":{"lt":{"tag_specifications":[{"resource_type":"instance","tags":{"Name":"n"}}]}}}}`,
			[]string{"tags: aws_launch_template.lt does not tag network-interface", "tags: aws_launch_template.lt does not tag volume",
				"tags: aws_launch_template.lt tags instance without CostCenter", "tags: aws_launch_template.lt tags instance without Environment",
				"tags: aws_launch_template.lt tags instance without Owner", "tags: aws_launch_template.lt tags instance without Project",
				"tags: aws_launch_template.lt tags instance without Service"}},
		"load balancer controller without an Owner default tag": {`{"//":{"metadata":{"stackName":"dev-platform"}},"terraform":{"backend":{"s3":{"encrypt":true,"use_lockfile":true}}},
			"provider":{"aws":[{"default_tags":[{"tags":` + fiveTags + `}]}]},
			"resource":{"helm_release":{"lbc":{"chart":"aws-load-balancer-controller","values":["defaultTags:\n  Environment: dev\n  Project: p\n  Service: ingress\n  CostCenter: c\n"]}}}}`,
			[]string{"tags: helm_release.lbc (aws-load-balancer-controller) has no defaultTags.Owner"}},
		"EBS CSI without volume tags": {`{"//":{"metadata":{"stackName":"dev-cluster"}},"terraform":{"backend":{"s3":{"encrypt":true,"use_lockfile":true}}},
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

// TestProtectionRuleGuardsRealProdStacks takes today's prod output, removes
// prevent_destroy from one resource of each stateful type present, and
// expects the protection rule to name it. So removing the protection in
// code is caught here even after the golden files are refreshed.
func TestProtectionRuleGuardsRealProdStacks(t *testing.T) {
	q := policies(t)
	covered := map[string]bool{}
	for _, s := range allStacks(t) {
		if s.Env != "prod" {
			continue
		}
		for _, typ := range statefulTypes {
			for name := range s.Doc.Get("resource." + typ).Map() {
				covered[typ] = true
				t.Run(s.ID+"/"+typ+"."+name, func(t *testing.T) {
					var doc map[string]any
					require.NoError(t, json.Unmarshal(s.Raw, &doc))
					r := doc["resource"].(map[string]any)[typ].(map[string]any)[name].(map[string]any)
					delete(r, "lifecycle")
					delete(r, "deletion_protection_enabled")
					raw, err := json.Marshal(doc)
					require.NoError(t, err)
					assert.Equal(t, []string{"protection: " + typ + "." + name + " in " + s.ID + " has no lifecycle.prevent_destroy"}, deny(t, q, raw))
				})
			}
		}
	}
	// The rule must have real work: every stateful type prod builds today.
	for _, typ := range []string{"aws_kms_key", "aws_s3_bucket", "aws_dynamodb_table", "aws_sqs_queue", "aws_ecr_repository", "aws_eks_cluster", "aws_cloudwatch_log_group"} {
		assert.True(t, covered[typ], "prod has no %s; update the list if that is intended", typ)
	}
}

// statefulTypes mirrors stateful_types in tests/policy/protection.rego.
var statefulTypes = []string{"aws_kms_key", "aws_s3_bucket", "aws_dynamodb_table", "aws_sqs_queue", "aws_ecr_repository",
	"aws_eks_cluster", "aws_cloudwatch_log_group", "aws_acmpca_certificate_authority"}
