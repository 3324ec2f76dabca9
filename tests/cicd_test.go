package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

// githubTrust returns the sub and aud of the GitHub trust statement of the
// role whose trust document id starts with prefix.
func githubTrust(t *testing.T, doc gjson.Result, prefix string) (sub, aud []string) {
	t.Helper()
	found := false
	doc.Get("data.aws_iam_policy_document").ForEach(func(id, d gjson.Result) bool {
		if !strings.HasPrefix(id.String(), prefix+"_trust") {
			return true
		}
		found = true
		for _, c := range d.Get("statement.0.condition").Array() {
			require.Equal(t, "StringEquals", c.Get("test").String(), "wildcard-capable tests widen the trust")
			switch c.Get("variable").String() {
			case "token.actions.githubusercontent.com:sub":
				sub = strs(c.Get("values"))
			case "token.actions.githubusercontent.com:aud":
				aud = strs(c.Get("values"))
			}
		}
		return false
	})
	require.True(t, found, "no trust document for %s", prefix)
	return sub, aud
}

func TestGitHubRoleTrusts(t *testing.T) {
	// Each role trusts exactly one kind of job. A service workflow
	// (environment "<env>-deploy-<svc>") can never present the infra
	// subject ("<env>-infra") or another service's environment, so one
	// service's workflow cannot assume another's role; dev trusts
	// environments, not a branch; prod's plan role does not trust pull
	// requests at all.
	repo := "repo:spatialprops/spatialprops-infra"
	cases := []struct {
		env, role string
		sub       []string
	}{
		{"dev", "gha-deploy-pack-service", []string{repo + ":environment:dev-deploy-pack-service"}},
		{"dev", "gha-deploy-crl-sync", []string{repo + ":environment:dev-deploy-crl-sync"}},
		{"dev", "gha-infra-plan", []string{repo + ":pull_request", repo + ":ref:refs/heads/main"}},
		{"dev", "gha-infra-deploy", []string{repo + ":environment:dev-infra"}},
		{"staging", "gha-deploy-beacons", []string{repo + ":environment:staging-deploy-beacons"}},
		{"staging", "gha-infra-deploy", []string{repo + ":environment:staging-infra"}},
		{"prod", "gha-deploy-marketplace-api", []string{repo + ":environment:prod-deploy-marketplace-api"}},
		{"prod", "gha-infra-plan", []string{repo + ":environment:prod-plan", repo + ":ref:refs/heads/main"}},
		{"prod", "gha-infra-deploy", []string{repo + ":environment:prod-infra"}},
	}
	for _, tc := range cases {
		t.Run(tc.env+"/"+tc.role, func(t *testing.T) {
			sub, aud := githubTrust(t, stack(t, tc.env+"-cicd").Doc, tc.role)
			assert.Equal(t, tc.sub, sub)
			assert.Equal(t, []string{"sts.amazonaws.com"}, aud)
		})
	}
}

func TestOIDCProviderIsOwnedOncePerAccount(t *testing.T) {
	// One account per env: each creates its own GitHub provider.
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-cicd").Doc
		assert.Len(t, resources(doc, "aws_iam_openid_connect_provider"), 1, env)
		assert.False(t, doc.Get("data.aws_iam_openid_connect_provider").Exists(), env)
	}
}

func TestEcrRepositories(t *testing.T) {
	doc := stack(t, "dev-cicd").Doc
	var names []string
	for _, r := range resources(doc, "aws_ecr_repository") {
		names = append(names, r.Get("name").String())
		assert.True(t, r.Get("image_scanning_configuration.scan_on_push").Bool())
		assert.Equal(t, "IMMUTABLE", r.Get("image_tag_mutability").String())
		assert.Equal(t, "KMS", r.Get("encryption_configuration.0.encryption_type").String())
		assert.Contains(t, r.Get("encryption_configuration.0.kms_key").String(), "aws_kms_key.")
	}
	// the guide's three, the DTN services, the beacon registry's, the
	// privileged workloads (crl-sync, the NATS callout, enrollment, the
	// presigner, the provenance gate), plus the marketplace's (billing-stub
	// in dev only)
	assert.ElementsMatch(t, []string{"spatialprops/pack-service", "spatialprops/frontend", "spatialprops/mcp-gateway",
		"spatialprops/dtn-gateway", "spatialprops/uplink-satellite", "spatialprops/uplink-lpwan",
		"spatialprops/beacons", "spatialprops/beacons-admin", "spatialprops/beacon-rotate", "spatialprops/crl-sync",
		"spatialprops/nats-auth", "spatialprops/device-enrollment", "spatialprops/cdn-presigner", "spatialprops/provenance-gate",
		"spatialprops/marketplace-api", "spatialprops/marketplace-ui", "spatialprops/billing-stub"}, names)
	assert.Len(t, resources(doc, "aws_ecr_lifecycle_policy"), len(names), "every repository expires old images")
	assert.Empty(t, resources(doc, "aws_ecr_repository_policy"))
	for _, r := range resources(stack(t, "prod-cicd").Doc, "aws_ecr_repository") {
		assert.True(t, r.Get("lifecycle.prevent_destroy").Bool(), "prod images survive a destroy")
	}
}

// GIVEN the per-service deploy roles THEN each pushes to its own repository
// only; a service its workflow deploys may find the cluster and edit its
// own namespace; a privileged workload's role has no cluster access at all
// (the infra stacks deploy it), and no role reaches a privileged namespace.
func TestServiceDeployRolesAreOnePerServiceAndScoped(t *testing.T) {
	doc := stack(t, "dev-cicd").Doc
	cfg, err := envs.Load("dev", envs.Overrides{})
	require.NoError(t, err)
	entries := map[string][]string{}
	for _, a := range resources(doc, "aws_eks_access_policy_association") {
		if a.Get("policy_arn").String() == stacks.EKSEditPolicyArn {
			assert.Equal(t, "namespace", a.Get("access_scope.type").String())
			entries[a.Get("principal_arn").String()] = strs(a.Get("access_scope.namespaces"))
		}
	}
	for _, svc := range cfg.CICD.Services {
		perms := policyDoc(t, doc, "gha-deploy-"+svc+"_permissions")
		require.True(t, perms.Exists(), svc)
		sids := map[string][]string{}
		for _, st := range perms.Get("statement").Array() {
			sids[st.Get("sid").String()] = strs(st.Get("resources"))
		}
		assert.Equal(t, []string{"*"}, sids["EcrLogin"], "%s: the one ECR action AWS does not let you scope", svc)
		require.Len(t, sids["PushThisServicesImages"], 1, svc)
		assert.Contains(t, sids["PushThisServicesImages"][0], "aws_ecr_repository.ecr-"+svc+"_repository", "%s pushes to its own repository only", svc)
		ns, hasEntry := entries["${aws_eks_access_entry.access-gha-deploy-"+svc+".principal_arn}"]
		if stacks.IsPrivilegedWorkload(svc) {
			assert.NotContains(t, sids, "FindTheCluster", "%s is deployed by the infra stacks", svc)
			assert.False(t, hasEntry, "%s: no access entry", svc)
			continue
		}
		assert.Len(t, sids, 3, svc)
		require.True(t, hasEntry, svc)
		assert.Equal(t, []string{naming.ServiceNamespace(svc)}, ns, "%s edits its own namespace only", svc)
		for _, p := range naming.PrivilegedNamespaces {
			assert.NotContains(t, ns, p, "%s reaches privileged namespace %s", svc, p)
		}
	}
	deployed := 0
	for _, svc := range cfg.CICD.Services {
		if !stacks.IsPrivilegedWorkload(svc) {
			deployed++
		}
	}
	assert.Len(t, entries, deployed, "one Edit entry per service its workflow deploys, none for a privileged workload")
}
