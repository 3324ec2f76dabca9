package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
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
	// subject template). A service workflow (environment "<env>") can never
	// present the infra subject ("<env>-infra"); prod's plan role does not
	// trust pull requests at all. Wildcards stand only for a pull
	// request's number and for the service deploy workflow family.
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
		{"dev", "gha-service-deploy", nil, []string{sub("environment:dev", "deploy-*.yml", main)}},
		{"dev", "gha-infra-plan", []string{drift}, []string{sub("pull_request", "infra-ci.yml", "refs/pull/*/merge")}},
		{"dev", "gha-infra-deploy", []string{sub("environment:dev-infra", "infra-deploy.yml", main), sub("environment:dev-infra", "security.yml", main)}, nil},
		{"staging", "gha-service-deploy", nil, []string{sub("environment:staging", "deploy-*.yml", main)}},
		{"staging", "gha-infra-deploy", []string{sub("environment:staging-infra", "infra-deploy.yml", main), sub("environment:staging-infra", "security.yml", main)}, nil},
		{"prod", "gha-service-deploy", nil, []string{sub("environment:prod", "deploy-*.yml", main)}},
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
	// the guide's three, the DTN services, the beacon registry's, crl-sync, enrollment, the presigner, the replay
	// detector, plus the marketplace's (billing-stub in dev only)
	assert.ElementsMatch(t, []string{"spatialprops/pack-service", "spatialprops/frontend", "spatialprops/mcp-gateway",
		"spatialprops/dtn-gateway", "spatialprops/uplink-satellite", "spatialprops/uplink-lpwan",
		"spatialprops/beacons", "spatialprops/beacons-admin", "spatialprops/beacon-rotate", "spatialprops/crl-sync",
		"spatialprops/device-enrollment", "spatialprops/cdn-presigner", "spatialprops/edge-sync",
		"spatialprops/marketplace-api", "spatialprops/marketplace-ui", "spatialprops/provenance-gate", "spatialprops/billing-stub"}, names)
	assert.Len(t, resources(doc, "aws_ecr_lifecycle_policy"), len(names), "every repository expires old images")
	assert.Empty(t, resources(doc, "aws_ecr_repository_policy"))
	for _, r := range resources(stack(t, "prod-cicd").Doc, "aws_ecr_repository") {
		assert.True(t, r.Get("lifecycle.prevent_destroy").Bool(), "prod images survive a destroy")
	}
}

func TestServiceDeployRoleIsScopedToReposAndCluster(t *testing.T) {
	doc := stack(t, "dev-cicd").Doc
	perms := policyDoc(t, doc, "gha-service-deploy_permissions")
	for _, st := range perms.Get("statement").Array() {
		actions, res := strs(st.Get("actions")), strs(st.Get("resources"))
		switch st.Get("sid").String() {
		case "EcrLogin":
			// the one action AWS does not let you scope
			assert.Equal(t, []string{"ecr:GetAuthorizationToken"}, actions)
		case "PushServiceImages":
			require.Len(t, res, 17, "the seventeen dev repositories, nothing else")
			for _, r := range res {
				assert.Regexp(t, `^\$\{aws_ecr_repository\.ecr-[\w-]+_repository_\w+\.arn\}$`, r)
			}
			for _, a := range actions {
				assert.True(t, strings.HasPrefix(a, "ecr:"), a)
			}
		case "FindTheCluster":
			assert.Equal(t, []string{"eks:DescribeCluster"}, actions)
			require.Len(t, res, 1)
			assert.Contains(t, res[0], "cross-stack-reference-input-dev-cluster", "the cluster ARN, from the cluster stack")
		default:
			t.Errorf("unexpected statement %s", st.Get("sid"))
		}
	}
}

func TestServiceDeployAccessIsNamespaceScoped(t *testing.T) {
	doc := stack(t, "dev-cicd").Doc
	byPolicy := map[string]gjson.Result{}
	for _, a := range resources(doc, "aws_eks_access_policy_association") {
		byPolicy[a.Get("policy_arn").String()] = a
	}
	edit := byPolicy["arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"]
	require.True(t, edit.Exists())
	assert.Equal(t, "namespace", edit.Get("access_scope.type").String())
	assert.Equal(t, []string{"spatial-properties", "edge-sync", "cdn-presigner", "marketplace"}, strs(edit.Get("access_scope.namespaces")),
		"cdn-presigner: deploy-crl-sync.yml installs the CronJob there")
	assert.Contains(t, edit.Get("principal_arn").String(), "aws_eks_access_entry.access-service-deploy")
	// the namespace exists before any deploy (the role cannot create it)
	found := false
	for _, ns := range resources(stack(t, "dev-platform").Doc, "kubernetes_namespace_v1") {
		if ns.Get("metadata.name").String() == "spatial-properties" {
			found = true
		}
	}
	assert.True(t, found)
}
