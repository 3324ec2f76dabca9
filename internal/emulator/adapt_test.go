package emulator

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func decode(t *testing.T, s string) Doc {
	t.Helper()
	var d Doc
	require.NoError(t, json.Unmarshal([]byte(s), &d))
	return d
}

// GIVEN a bucket policy with the TLS-only deny and an allow WHEN adapted
// THEN only the conditional deny goes: the allow is what the deploy needs.
func TestConditionalDenyIsDroppedAllowsStay(t *testing.T) {
	d := decode(t, `{
	  "data": {"aws_iam_policy_document": {"logs_doc": {"statement": [
	    {"sid": "DenyInsecureTransport", "effect": "Deny", "actions": ["s3:*"], "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]},
	    {"sid": "AllowAccessLogsFromPacks", "effect": "Allow", "actions": ["s3:PutObject"]},
	    {"sid": "DenyEverything", "effect": "Deny", "actions": ["s3:DeleteBucket"]}
	  ]}}},
	  "resource": {"aws_s3_bucket_policy": {"logs_policy": {"policy": "${data.aws_iam_policy_document.logs_doc.json}"}}}
	}`)
	changes, err := Apply(d)
	require.NoError(t, err)
	assert.Equal(t, []Change{{Adaptation: "bucket-policy-conditions", Address: "data.aws_iam_policy_document.logs_doc"}}, changes)
	var sids []string
	for _, st := range d["data"].(map[string]any)["aws_iam_policy_document"].(map[string]any)["logs_doc"].(map[string]any)["statement"].([]any) {
		sids = append(sids, st.(map[string]any)["sid"].(string))
	}
	// An unconditional deny means what it says, in moto as in AWS: keep it.
	assert.Equal(t, []string{"AllowAccessLogsFromPacks", "DenyEverything"}, sids)
}

// A policy that was only the TLS deny would be empty, which moto refuses:
// both the policy and its document go, and nothing points at them after.
func TestEmptiedPolicyIsRemovedWithItsDependents(t *testing.T) {
	d := decode(t, `{
	  "data": {"aws_iam_policy_document": {"state_doc": {"statement": [
	    {"effect": "Deny", "actions": ["s3:*"], "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]}
	  ]}}},
	  "resource": {
	    "aws_s3_bucket_policy": {"state_policy": {"policy": "${data.aws_iam_policy_document.state_doc.json}"}},
	    "aws_s3_bucket_logging": {"l": {"bucket": "b", "depends_on": ["aws_s3_bucket_policy.state_policy"]}}
	  }
	}`)
	changes, err := Apply(d)
	require.NoError(t, err)
	assert.Len(t, changes, 2)
	assert.NotContains(t, d["resource"], "aws_s3_bucket_policy")
	assert.NotContains(t, d, "data.aws_iam_policy_document")
	assert.NotContains(t, d["resource"].(map[string]any)["aws_s3_bucket_logging"].(map[string]any)["l"], "depends_on")
}

// Removing a resource that something still interpolates would make
// Terraform fail far from the cause, so Apply refuses.
func TestDanglingReferenceIsAnError(t *testing.T) {
	d := decode(t, `{"resource": {
	  "aws_eks_addon": {"vpc_cni": {"addon_name": "vpc-cni"}},
	  "aws_ssm_parameter": {"p": {"value": "${aws_eks_addon.vpc_cni.arn}"}}
	}}`)
	_, err := Apply(d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "aws_eks_addon.vpc_cni")
}

// Every adaptation names its moto limitation and source, and on the real
// synthesized stacks touches only the types it declares. A new edit of an
// undeclared type fails here, so the list stays honest and short.
func TestAdaptationsTouchOnlyDeclaredTypes(t *testing.T) {
	for _, a := range Adaptations {
		assert.NotEmpty(t, a.Limitation, a.Name)
		assert.True(t, strings.HasPrefix(a.Source, "moto/"), "%s must name the moto source file read", a.Name)
		assert.NotEmpty(t, a.Touches, a.Name)
	}
	assert.LessOrEqual(t, len(Adaptations), 14, "the adaptation list is meant to stay short")

	stacks, _ := filepath.Glob(filepath.Join("..", "..", "tests", "testdata", "dev", "*.json"))
	require.NotEmpty(t, stacks, "the dev golden snapshots are the real stacks to adapt")
	allowed := map[string][]string{}
	for _, a := range Adaptations {
		allowed[a.Name] = a.Touches
	}
	touched := map[string]bool{}
	for _, path := range stacks {
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		var d Doc
		require.NoError(t, json.Unmarshal(raw, &d))
		changes, err := Apply(d)
		require.NoError(t, err, path)
		for _, c := range changes {
			touched[c.Adaptation] = true
			assert.True(t, slices.Contains(allowed[c.Adaptation], TypeOf(c.Address)),
				"%s: adaptation %s touched %s, a type it does not declare", path, c.Adaptation, c.Address)
		}
	}
	for _, a := range Adaptations {
		assert.True(t, touched[a.Name], "adaptation %s changes nothing in today's stacks: delete it", a.Name)
	}
}

// GIVEN a stack with a Kubernetes half THEN the Kubernetes resources and
// providers go, the AWS half stays, and a record that pointed at an
// Ingress's load balancer points at the stand-in hostname.
func TestKubernetesHalfIsLeftOut(t *testing.T) {
	d := decode(t, `{
	  "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws"}, "kubernetes": {"source": "hashicorp/kubernetes"}, "helm": {"source": "hashicorp/helm"}}},
	  "provider": {"aws": [{}], "kubernetes": [{}], "helm": [{}]},
	  "resource": {
	    "kubernetes_ingress_v1": {"i": {"metadata": {"name": "x"}}},
	    "helm_release": {"h": {"name": "nats"}},
	    "aws_dynamodb_table": {"t": {"name": "devices", "depends_on": ["helm_release.h"]}},
	    "aws_route53_record": {"r": {"records": ["${kubernetes_ingress_v1.i.status[0].load_balancer[0].ingress[0].hostname}"]}}
	  }}`)
	changes, err := Apply(d)
	require.NoError(t, err)
	res := d["resource"].(map[string]any)
	assert.NotContains(t, res, "kubernetes_ingress_v1")
	assert.NotContains(t, res, "helm_release")
	assert.Contains(t, res, "aws_dynamodb_table", "the AWS half is applied")
	assert.NotContains(t, res["aws_dynamodb_table"].(map[string]any)["t"], "depends_on")
	assert.Equal(t, []any{StandInHostname}, res["aws_route53_record"].(map[string]any)["r"].(map[string]any)["records"])
	assert.NotContains(t, d["provider"], "kubernetes")
	assert.NotContains(t, d["terraform"].(map[string]any)["required_providers"], "helm")
	var touched []string
	for _, c := range changes {
		if c.Adaptation == "kubernetes-half" {
			touched = append(touched, c.Address)
		}
	}
	assert.ElementsMatch(t, []string{"helm_release.h", "kubernetes_ingress_v1.i", "aws_route53_record.r"}, touched)

	// a reference inside a longer expression is not guessed at: Apply refuses
	d = decode(t, `{"resource": {
	  "kubernetes_service_v1": {"s": {}},
	  "aws_ssm_parameter": {"p": {"value": "${join(\",\", kubernetes_service_v1.s.spec[0].port)}"}}
	}}`)
	_, err = Apply(d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kubernetes_service_v1.s")
}

// docs/emulated-deploy.md lists every adaptation by name.
func TestEveryAdaptationIsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "emulated-deploy.md"))
	require.NoError(t, err)
	for _, a := range Adaptations {
		assert.Contains(t, string(doc), "| `"+a.Name+"` |", "docs/emulated-deploy.md has no row for %s", a.Name)
	}
}
