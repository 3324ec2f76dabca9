package tests

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

// GIVEN deploy-crl-sync.yml THEN it builds services/crl-sync from the
// repository root (its tests take internal/motoserver from the root module),
// scans before it pushes, and never touches the cluster: crl-sync swaps the
// device trust store's revocation list, so only the infra stacks deploy it
// (by digest, into cdn-presigner) and its role may push its image only.
func TestCRLSyncWorkflowOnlyBuildsAndPushes(t *testing.T) {
	w, ok := loadWorkflows(t)["deploy-crl-sync.yml"]
	require.True(t, ok, "deploy-crl-sync.yml is missing")
	raw, err := os.ReadFile(filepath.Join("..", ".github", "workflows", "deploy-crl-sync.yml"))
	require.NoError(t, err)
	text := string(raw)
	sharedImageBuild(t, text, "crl-sync")
	assert.Contains(t, text, `      - "services/crl-sync/**"`+"\n", "a change to the program rebuilds it")
	assert.FileExists(t, filepath.Join("..", "services", "crl-sync", "go.mod"))
	assert.NotContains(t, text, "helm ", "no helm step: the edge stack installs it")
	assert.NotContains(t, text, "kubectl", "no cluster access at all")
	for _, env := range []string{"dev", "staging", "prod"} {
		require.Contains(t, w.Jobs, env+"-image")
		assert.NotContains(t, w.Jobs, env, "no deploy job for %s", env)
		order := stepOrder(w.Jobs[env+"-image"].Steps)
		assert.True(t, order["credentials"] < order["login"] && order["login"] < order["build"] &&
			order["build"] < order["scan"] && order["scan"] < order["push"], "%s: scanned before it is pushed", env)
	}
}

// GIVEN the identity stack THEN the crl-sync role is trusted by
// cdn-presigner/crl-sync only (the chart's service account), carries the
// workload boundary, may swap revocations on this env's trust store only,
// write PEM CRLs under trust/crl/ only, and read nothing of the bucket but
// the CRLs, the CA bundle and its own objects.
func TestCRLSyncRole(t *testing.T) {
	doc := stack(t, "dev-identity").Doc
	var v struct {
		ServiceAccount struct{ Name string } `yaml:"serviceAccount"`
	}
	chartValues(t, "crl-sync", &v)
	assert.Equal(t, stacks.CRLSyncAccount, v.ServiceAccount.Name)
	var subs []string
	for _, pair := range irsaTrusts(doc) {
		subs = append(subs, pair[0]...)
	}
	assert.Contains(t, subs, "system:serviceaccount:"+naming.NamespacePresigner+":"+stacks.CRLSyncAccount)

	role := resources(doc, "aws_iam_role")
	var found bool
	for _, r := range role {
		if r.Get("name").String() == "spatialprops-dev-irsa-crl-sync" {
			found = true
			assert.Contains(t, r.Get("permissions_boundary").String(), "spatialprops-dev-workload-boundary", "the CI deploy role may only create bounded roles")
		}
	}
	require.True(t, found, "role spatialprops-dev-irsa-crl-sync")
	assert.Contains(t, naming.RolePurposes, stacks.CRLSyncRolePurpose)
	assert.True(t, doc.Get("output.crl_sync_role_arn").Exists(), "the deploy workflow and docs name this output")

	bucket := "arn:aws:s3:::spatial-pki-spatialprops-dev-ap-southeast-2"
	perms := policyDoc(t, doc, "crl-sync-irsa_permissions")
	require.True(t, perms.Exists())
	var sids []string
	for _, st := range perms.Get("statement").Array() {
		actions, res := strs(st.Get("actions")), strs(st.Get("resources"))
		sids = append(sids, st.Get("sid").String())
		for _, a := range actions {
			assert.NotContains(t, a, "*", "no wildcard actions")
		}
		switch {
		case slices.Contains(actions, "elasticloadbalancing:AddTrustStoreRevocations"):
			assert.Equal(t, []string{"arn:aws:elasticloadbalancing:ap-southeast-2:${data.aws_caller_identity.caller.account_id}:truststore/spatialprops-dev-devices/*"}, res,
				"this env's trust store only (by name: the edge stack creates it after the PKI ceremony)")
		case slices.Contains(actions, "elasticloadbalancing:DescribeTrustStoreRevocations"):
			assert.Equal(t, []string{"elasticloadbalancing:DescribeTrustStoreRevocations"}, actions, "only the action without a resource type takes *")
			assert.Equal(t, []string{"*"}, res)
		case slices.Contains(actions, "s3:PutObject"):
			assert.Equal(t, []string{bucket + "/trust/crl/*"}, res, "it writes its PEM copies and nothing else (never the CA bundle)")
		case slices.Contains(actions, "s3:GetObject"):
			assert.ElementsMatch(t, []string{bucket + "/crl/*", bucket + "/trust/device-ca.pem"}, res, "the device CA's CRLs and certificate")
		case slices.Contains(actions, "s3:ListBucket"):
			assert.Equal(t, []string{bucket}, res)
		case slices.Contains(actions, "kms:GenerateDataKey"):
			assert.Equal(t, []string{"${aws_kms_key.pki-key_3F74CC3D.arn}"}, res, "the PKI key only")
			assert.Equal(t, "kms:ViaService", st.Get("condition.0.variable").String(), "and only through S3")
		default:
			t.Errorf("unexpected statement %s %v", st.Get("sid"), actions)
		}
	}
	assert.Len(t, sids, 6)
	assert.Empty(t, resources(doc, "aws_lb_trust_store_revocation"), "the job owns the revocation list; Terraform would attach one CRL once")
}

// GIVEN the edge stack THEN it writes the ConfigMap the crl-sync chart reads
// its bucket and ARNs from, in cdn-presigner, straight from the identity
// stack's outputs and its own trust store (no hand-copied ARN to go stale
// when a CA is replaced), and the chart names that ConfigMap and exactly
// those keys.
func TestCRLSyncConfigComesFromTheIdentityStack(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-edge").Doc
		var cm map[string]string
		var ns string
		for _, r := range resources(doc, "kubernetes_config_map_v1") {
			if r.Get("metadata.name").String() == stacks.CRLSyncConfigMap {
				ns = r.Get("metadata.namespace").String()
				cm = map[string]string{}
				for k, v := range r.Get("data").Map() {
					cm[k] = v.String()
				}
			}
		}
		require.NotNil(t, cm, "%s: ConfigMap %s", env, stacks.CRLSyncConfigMap)
		assert.Contains(t, ns, "presigner-namespace", "%s: in cdn-presigner, beside the CronJob", env)
		require.Len(t, cm, 3, env)
		for key, output := range map[string]string{
			stacks.CRLSyncKeyPKIBucket: "aws_s3_bucket", stacks.CRLSyncKeyCAArn: "aws_acmpca_certificate_authoritydevice-ca",
		} {
			assert.Contains(t, cm[key], "data.terraform_remote_state.cross-stack-reference-input-"+env+"-identity", "%s: %s", env, key)
			assert.Contains(t, cm[key], output, "%s: %s", env, key)
		}
		assert.Equal(t, "${aws_lb_trust_store.device-trust-store.arn}", cm[stacks.CRLSyncKeyTrustStore], "%s: the edge stack's own trust store", env)
	}
	values, err := os.ReadFile(filepath.Join("..", "helm", "crl-sync", "values.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(values), "\nidentityConfigMap: "+stacks.CRLSyncConfigMap+"\n")
	// helm/crl_sync_chart_test.go renders each of these as a
	// configMapKeyRef whose key is the variable's own name
	tpl, err := os.ReadFile(filepath.Join("..", "helm", "crl-sync", "templates", "_env.tpl"))
	require.NoError(t, err)
	for _, key := range []string{stacks.CRLSyncKeyPKIBucket, stacks.CRLSyncKeyCAArn, stacks.CRLSyncKeyTrustStore} {
		assert.Contains(t, string(tpl), `"`+key+`"`, "the chart reads %s from the ConfigMap", key)
	}
}
