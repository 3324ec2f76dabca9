package tests

import (
	"strings"
	"testing"

	"github.com/spatialprops/spatialprops-infra/envs"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// The github stack is the repository's side of the deploy roles' trust
// (finding 5 of issue 21): the environments those roles name exist, admit
// only main where they deploy, and need a reviewer who is not the author;
// and the OIDC subject carries the workflow file and ref the roles pin.
func TestGitHubStackBacksTheRolesTrust(t *testing.T) {
	doc := stack(t, "github").Doc
	tmpl := doc.Get("resource.github_actions_repository_oidc_subject_claim_customization_template.@values.0")
	assert.False(t, tmpl.Get("use_default").Bool(), "the default template has no job_workflow_ref")
	assert.Equal(t, []string{"repo", "context", "job_workflow_ref"}, strs(tmpl.Get("include_claim_keys")),
		"the order of the keys is the order of the sub claim the roles trust")

	environments := map[string]gjson.Result{}
	doc.Get("resource.github_repository_environment").ForEach(func(_, e gjson.Result) bool {
		environments[e.Get("environment").String()] = e
		return true
	})
	mainOnly := map[string]bool{}
	doc.Get("resource.github_repository_environment_deployment_policy").ForEach(func(_, p gjson.Result) bool {
		name := strings.TrimSuffix(strings.TrimPrefix(p.Get("environment").String(), "${github_repository_environment.environment-"), ".environment}")
		assert.Equal(t, "main", p.Get("branch_pattern").String(), name)
		mainOnly[name] = true
		return true
	})

	// every environment a role's trust names exists in the stack
	trusted := map[string]bool{}
	for _, env := range []string{"dev", "staging", "prod"} {
		cfg, err := envs.Load(env, envs.Overrides{})
		require.NoError(t, err)
		roles := []string{"gha-infra-plan", "gha-infra-deploy"}
		for _, svc := range cfg.CICD.Services {
			roles = append(roles, "gha-deploy-"+svc)
		}
		for _, role := range roles {
			exact, patterns, _ := githubTrust(t, stack(t, env+"-cicd").Doc, role)
			for _, sub := range append(exact, patterns...) {
				if _, rest, ok := strings.Cut(sub, ":environment:"); ok {
					name, _, _ := strings.Cut(rest, ":")
					trusted[name] = true
				}
			}
		}
	}
	require.NotEmpty(t, trusted)
	for name := range trusted {
		e, ok := environments[name]
		require.True(t, ok, "the roles trust environment %s, which the github stack does not manage", name)
		assert.False(t, e.Get("can_admins_bypass").Bool(), "%s: admins are held to the rules", name)
		deploys := strings.HasSuffix(name, "-infra") || strings.Contains(name, "-deploy-")
		if deploys {
			assert.True(t, mainOnly[name], "%s: only main may deploy", name)
			assert.True(t, e.Get("deployment_branch_policy.custom_branch_policies").Bool(), name)
			assert.False(t, e.Get("deployment_branch_policy.protected_branches").Bool(), name)
		}
		if strings.HasPrefix(name, "prod") || strings.HasPrefix(name, "staging") {
			assert.True(t, e.Get("prevent_self_review").Bool(), "%s: no self-review", name)
			assert.Contains(t, e.Get("reviewers.0.teams").String(), "data.github_team.reviewers.id", "%s: the reviewer team must approve", name)
		}
	}
	assert.False(t, mainOnly["prod-plan"], "the prod plan reviews pull requests, which run on refs/pull/...")
	assert.True(t, environments["prod-plan"].Get("prevent_self_review").Bool())
	assert.Equal(t, "github/github.tfstate", doc.Get("terraform.backend.s3.key").String())
	assert.Equal(t, "integrations/github", doc.Get("terraform.required_providers.github.source").String())
	assert.Empty(t, doc.Get("provider.github.0.token").String(), "the token comes from GITHUB_TOKEN, never the configuration")
}
