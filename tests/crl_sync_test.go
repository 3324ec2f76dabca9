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
// repository root (its tests take internal/motoserver from the root module), scans before it pushes, and
// installs each env's release into cdn-presigner with the role, bucket and
// region named by the same naming code the identity stack uses (a typo here
// is an AccessDenied every 10 minutes, and revoked devices stay in).
func TestCRLSyncDeployWorkflow(t *testing.T) {
	w, ok := loadWorkflows(t)["deploy-crl-sync.yml"]
	require.True(t, ok, "deploy-crl-sync.yml is missing")
	raw, err := os.ReadFile(filepath.Join("..", ".github", "workflows", "deploy-crl-sync.yml"))
	require.NoError(t, err)
	text := string(raw)
	sharedImageBuild(t, text, "crl-sync")
	assert.Contains(t, text, `      - "helm/crl-sync/**"`+"\n")
	assert.Equal(t, naming.NamespacePresigner, naming.ServiceNamespace("crl-sync"), "teardown uninstalls it where the workflow installs it")
	for _, env := range []string{"dev", "staging", "prod"} {
		helm := serviceDeploy(t, w, env, "crl-sync")
		names := naming.New("${{ vars.ORG }}", env, "${{ vars.AWS_REGION }}")
		assert.Contains(t, helm, "--namespace "+naming.ServiceNamespace("crl-sync"), env)
		assert.Contains(t, helm, "--atomic --wait", env)
		assert.Contains(t, helm, `serviceAccount.roleArn="arn:aws:iam::$account:role/workload/`+names.Role(stacks.CRLSyncRolePurpose)+`"`, env)
		assert.Contains(t, helm, `awsRegion="${{ vars.AWS_REGION }}"`, env)
		assert.NotContains(t, helm, "vars.CA_ARN", "%s: the ARNs come from the edge stack's ConfigMap, not from hand-copied variables", env)
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
			assert.Equal(t, []string{"${aws_lb_trust_store.device-trust-store.arn}"}, res, "this env's trust store only")
		case slices.Contains(actions, "elasticloadbalancing:DescribeTrustStoreRevocations"):
			assert.Equal(t, []string{"elasticloadbalancing:DescribeTrustStoreRevocations"}, actions, "only the action without a resource type takes *")
			assert.Equal(t, []string{"*"}, res)
		case slices.Contains(actions, "s3:PutObject"):
			assert.Equal(t, []string{bucket + "/trust/crl/*"}, res, "it writes its PEM copies and nothing else (never the CA bundle)")
		case slices.Contains(actions, "s3:GetObject"):
			assert.ElementsMatch(t, []string{bucket + "/crl/*", bucket + "/trust/ca-bundle.pem"}, res)
		case slices.Contains(actions, "s3:ListBucket"):
			assert.Equal(t, []string{bucket}, res)
		case slices.Contains(actions, "kms:GenerateDataKey"):
			assert.Equal(t, []string{"${aws_kms_key.pki-key_3F74CC3D.arn}"}, res, "the PKI key only")
		default:
			t.Errorf("unexpected statement %s %v", st.Get("sid"), actions)
		}
	}
	assert.Len(t, sids, 6)
	assert.Empty(t, resources(doc, "aws_lb_trust_store_revocation"), "the job owns the revocation list; Terraform would attach one CRL once")
}

// GIVEN the edge stack THEN it writes the ConfigMap the crl-sync chart reads
// its bucket and ARNs from, in cdn-presigner, straight from the identity
// stack's outputs (no hand-copied ARN to go stale when the CA is replaced),
// and the chart names that ConfigMap and exactly those keys.
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
			stacks.CRLSyncKeyPKIBucket: "aws_s3_bucket", stacks.CRLSyncKeyCAArn: "aws_acmpca_certificate_authority",
			stacks.CRLSyncKeyTrustStore: "aws_lb_trust_store",
		} {
			assert.Contains(t, cm[key], "data.terraform_remote_state.cross-stack-reference-input-"+env+"-identity", "%s: %s", env, key)
			assert.Contains(t, cm[key], output, "%s: %s", env, key)
		}
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
