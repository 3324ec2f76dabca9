package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-github-go/github/v14/actionsrepositoryoidcsubjectclaimcustomizationtemplate"
	"github.com/cdktf/cdktf-provider-github-go/github/v14/datagithubteam"
	githubprovider "github.com/cdktf/cdktf-provider-github-go/github/v14/provider"
	"github.com/cdktf/cdktf-provider-github-go/github/v14/repositoryenvironment"
	"github.com/cdktf/cdktf-provider-github-go/github/v14/repositoryenvironmentdeploymentpolicy"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// GitHubStackID is the id of the env-independent stack that manages the
// repository's side of CI: its deployment environments and its OIDC
// subject template. A person with a GitHub token applies it
// (docs/cicd.md, "The GitHub side"); CI never does.
const GitHubStackID = "github"

// ReviewerTeam is the GitHub team (slug) whose members approve deploys to
// staging and prod and the prod plan of a pull request.
const ReviewerTeam = "sre"

// GitHubEnvironment is one deployment environment of the repository.
type GitHubEnvironment struct {
	Name string
	// Reviewed: a member of ReviewerTeam must approve each job, never the
	// person who started it.
	Reviewed bool
	// MainOnly: only jobs on main may enter (deployment branch policy).
	MainOnly bool
}

// GitHubEnvironments are the repository's deployment environments for the
// given envs, in a stable order: per env one "<env>-deploy-<service>" per
// service (that service's deploy workflow alone) and "<env>-infra" (infra
// deploys, the cluster baseline), all main only and
// reviewed outside dev, and the plan environment where one is set
// (reviewed, any branch: pull requests run on refs/pull/...).
func GitHubEnvironments(cfgs []*envs.Config) []GitHubEnvironment {
	var out []GitHubEnvironment
	for _, cfg := range cfgs {
		reviewed := cfg.Env != "dev"
		for _, svc := range cfg.CICD.Services {
			out = append(out, GitHubEnvironment{Name: cfg.ServiceEnvironment(svc), Reviewed: reviewed, MainOnly: true})
		}
		out = append(out, GitHubEnvironment{Name: cfg.InfraEnvironment(), Reviewed: reviewed, MainOnly: true})
		if cfg.CICD.PlanEnvironment != "" {
			out = append(out, GitHubEnvironment{Name: cfg.CICD.PlanEnvironment, Reviewed: true})
		}
	}
	return out
}

// NewGitHubStack creates the github stack from every env's configuration
// (all of envs.Order: the environments of all three live in one
// repository). Its state lives in the last env's state bucket (prod's)
// under github/github.tfstate.
func NewGitHubStack(scope constructs.Construct, cfgs []*envs.Config) error {
	if len(cfgs) != len(envs.Order) {
		return fmt.Errorf("%s: needs the configuration of every env (%s), got %d", GitHubStackID, strings.Join(envs.Order, ", "), len(cfgs))
	}
	owner, repo := cfgs[0].CICD.GitHubOrg, cfgs[0].CICD.GitHubRepo
	for _, cfg := range cfgs {
		if cfg.CICD.GitHubOrg != owner || cfg.CICD.GitHubRepo != repo {
			return fmt.Errorf("%s: %s names %s/%s, %s names %s/%s; every env deploys from one repository",
				GitHubStackID, cfgs[0].File(), owner, repo, cfg.File(), cfg.CICD.GitHubOrg, cfg.CICD.GitHubRepo)
		}
	}
	home := cfgs[len(cfgs)-1]
	stack := cdktf.NewTerraformStack(scope, jsii.String(GitHubStackID))
	if _, err := sp.NewRemoteBackend(stack, &sp.RemoteBackendProps{
		Bucket: fmt.Sprintf("tfstate-%s-%s-%s", home.Org, home.Env, home.Region), Key: GitHubStackID + "/" + GitHubStackID + ".tfstate", Region: home.Region,
	}); err != nil {
		return err
	}
	// The token comes from GITHUB_TOKEN in the environment of whoever
	// applies the stack: nothing secret in the configuration or state.
	githubprovider.NewGithubProvider(stack, jsii.String("github"), &githubprovider.GithubProviderConfig{Owner: jsii.String(owner)})

	// The sub claim names the job's workflow file and ref
	// (job_workflow_ref), so the AWS roles trust reviewed workflow files on
	// main rather than an environment name (stacks/cicd_roles.go).
	actionsrepositoryoidcsubjectclaimcustomizationtemplate.NewActionsRepositoryOidcSubjectClaimCustomizationTemplate(stack, jsii.String("oidc-subject"),
		&actionsrepositoryoidcsubjectclaimcustomizationtemplate.ActionsRepositoryOidcSubjectClaimCustomizationTemplateConfig{
			Repository: jsii.String(repo), UseDefault: jsii.Bool(false), IncludeClaimKeys: jsii.Strings(SubjectClaimKeys...),
		})

	team := datagithubteam.NewDataGithubTeam(stack, jsii.String("reviewers"), &datagithubteam.DataGithubTeamConfig{
		Slug: jsii.String(ReviewerTeam), SummaryOnly: jsii.Bool(true),
	})
	for _, e := range GitHubEnvironments(cfgs) {
		cfg := &repositoryenvironment.RepositoryEnvironmentConfig{
			Repository: jsii.String(repo), Environment: jsii.String(e.Name),
			// Admins are held to the same rules.
			CanAdminsBypass: jsii.Bool(false),
		}
		if e.Reviewed {
			cfg.PreventSelfReview = jsii.Bool(true)
			// One list expression rather than a list of number tokens:
			// cdktf synth --hcl renders the latter as "$ { … }", which
			// neither Trivy nor TFLint can parse.
			cfg.Reviewers = &[]*repositoryenvironment.RepositoryEnvironmentReviewers{{
				Teams: cdktf.Token_AsNumberList(cdktf.Fn_Tolist(&[]any{cdktf.Fn_Tonumber(team.Id())})),
			}}
		}
		if e.MainOnly {
			cfg.DeploymentBranchPolicy = &repositoryenvironment.RepositoryEnvironmentDeploymentBranchPolicy{
				ProtectedBranches: jsii.Bool(false), CustomBranchPolicies: jsii.Bool(true),
			}
		}
		env := repositoryenvironment.NewRepositoryEnvironment(stack, jsii.String("environment-"+e.Name), cfg)
		if e.Reviewed {
			// The reviewer team's id goes in as a string expression: the
			// binding's number list renders as invalid HCL ("$ { … }") in
			// cdktf synth --hcl, which make scan and make tflint read.

		}
		if e.MainOnly {
			repositoryenvironmentdeploymentpolicy.NewRepositoryEnvironmentDeploymentPolicy(stack, jsii.String("environment-"+e.Name+"-main"),
				&repositoryenvironmentdeploymentpolicy.RepositoryEnvironmentDeploymentPolicyConfig{
					Repository: jsii.String(repo), Environment: env.Environment(), BranchPattern: jsii.String(MainRef[len("refs/heads/"):]),
				})
		}
	}
	return nil
}
