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

// githubTrust returns the exact subjects (StringEquals), the subject
// patterns (StringLike) and the audiences of the GitHub trust statements of
// the role whose trust document id starts with prefix.
func githubTrust(t *testing.T, doc gjson.Result, prefix string) (exact, patterns, aud []string) {
	t.Helper()
	found := false
	doc.Get("data.aws_iam_policy_document").ForEach(func(id, d gjson.Result) bool {
		if !strings.HasPrefix(id.String(), prefix+"_trust") {
			return true
		}
		found = true
		for _, st := range d.Get("statement").Array() {
			for _, c := range st.Get("condition").Array() {
				switch c.Get("variable").String() {
				case "token.actions.githubusercontent.com:sub":
					if c.Get("test").String() == "StringLike" {
						patterns = append(patterns, strs(c.Get("values"))...)
					} else {
						require.Equal(t, "StringEquals", c.Get("test").String())
						exact = append(exact, strs(c.Get("values"))...)
					}
				case "token.actions.githubusercontent.com:aud":
					require.Equal(t, "StringEquals", c.Get("test").String())
					aud = append(aud, strs(c.Get("values"))...)
				}
			}
		}
		return false
	})
	require.True(t, found, "no trust document for %s", prefix)
	return exact, patterns, aud
}

func TestGitHubRoleTrusts(t *testing.T) {
	// Each role trusts exactly one kind of job, and names the workflow file
	// and ref (job_workflow_ref, in the sub through the repository's
	// subject template). A service workflow (environment "<env>-deploy-<svc>")
	// can never present the infra subject ("<env>-infra") or another
	// service's environment or file, so one service's workflow cannot assume
	// another's role; prod's plan role does not trust pull requests at all.
	// Wildcards stand only for a pull request's number.
	repo := "spatialprops/spatialprops-infra"
	sub := func(context, workflow, ref string) string {
		return "repo:" + repo + ":" + context + ":job_workflow_ref:" + repo + "/.github/workflows/" + workflow + "@" + ref
	}
	main := "refs/heads/main"
	drift := sub("ref:"+main, "security.yml", main)
	cases := []struct {
		env, role       string
		exact, patterns []string
	}{
		{"dev", "gha-deploy-pack-service", []string{sub("environment:dev-deploy-pack-service", "deploy-pack-service.yml", main)}, nil},
		{"dev", "gha-deploy-crl-sync", []string{sub("environment:dev-deploy-crl-sync", "deploy-crl-sync.yml", main)}, nil},
		{"dev", "gha-infra-plan", []string{drift}, []string{sub("pull_request", "infra-ci.yml", "refs/pull/*/merge")}},
		{"dev", "gha-infra-deploy", []string{sub("environment:dev-infra", "infra-deploy.yml", main), sub("environment:dev-infra", "security.yml", main)}, nil},
		{"staging", "gha-deploy-beacons", []string{sub("environment:staging-deploy-beacons", "deploy-beacons.yml", main)}, nil},
		{"staging", "gha-infra-deploy", []string{sub("environment:staging-infra", "infra-deploy.yml", main), sub("environment:staging-infra", "security.yml", main)}, nil},
		{"prod", "gha-deploy-marketplace-api", []string{sub("environment:prod-deploy-marketplace-api", "deploy-marketplace-api.yml", main)}, nil},
		{"prod", "gha-infra-plan", []string{drift}, []string{sub("environment:prod-plan", "infra-ci.yml", "refs/pull/*/merge")}},
		{"prod", "gha-infra-deploy", []string{sub("environment:prod-infra", "infra-deploy.yml", main), sub("environment:prod-infra", "security.yml", main)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.env+"/"+tc.role, func(t *testing.T) {
			exact, patterns, aud := githubTrust(t, stack(t, tc.env+"-cicd").Doc, tc.role)
			assert.Equal(t, tc.exact, exact)
			assert.Equal(t, tc.patterns, patterns)
			for _, a := range aud {
				assert.Equal(t, "sts.amazonaws.com", a, "every statement pins the audience")
			}
			assert.NotEmpty(t, aud)
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
	// replay detector (edge-sync), the privileged workloads (crl-sync, the
	// NATS callout, enrollment, the presigner, the provenance gate), plus the marketplace's (billing-stub
	// in dev only)
	assert.ElementsMatch(t, []string{"spatialprops/pack-service", "spatialprops/frontend", "spatialprops/mcp-gateway",
		"spatialprops/dtn-gateway", "spatialprops/uplink-satellite", "spatialprops/uplink-lpwan",
		"spatialprops/beacons", "spatialprops/beacons-admin", "spatialprops/beacon-rotate", "spatialprops/crl-sync", "spatialprops/edge-sync",
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
