package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iampolicy"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// UntaggedImageDays is how long an untagged image (a failed or superseded
// push) is kept.
const UntaggedImageDays = 7

// EcrPushActions are what `docker push` and a Trivy pull need on a
// repository; GetAuthorizationToken is account-wide by AWS's design.
var EcrPushActions = []string{
	"ecr:BatchCheckLayerAvailability",
	"ecr:BatchGetImage",
	"ecr:CompleteLayerUpload",
	"ecr:DescribeImages",
	"ecr:GetDownloadUrlForLayer",
	"ecr:InitiateLayerUpload",
	"ecr:PutImage",
	"ecr:UploadLayerPart",
}

// CICDOutputs are the role ARNs the GitHub repository is configured with.
type CICDOutputs struct {
	Repositories map[string]*sp.EcrRepository
	// ServiceDeployRoles are the per-service deploy roles, by service.
	ServiceDeployRoles map[string]serviceDeployRole
	InfraPlanRole      *string
	InfraDeployRole    *string
	// RunnerProject is the CodeBuild project of the in-VPC runners.
	RunnerProject string
	// RevocationRole is the operators' device-revocation role.
	RevocationRole *string
	// RootKeyArn is the offline root CA's KMS key; CeremonyRole the only
	// role that signs with it (newPKIRoot).
	RootKeyArn, CeremonyRole *string
}

// NewCICDStack creates the ECR repositories, the GitHub Actions OIDC
// provider (or a reference to it), the infra plan and deploy roles and one
// deploy role per service, with their EKS access, the operators'
// device-revocation role, the offline root CA with its ceremony role, and
// the in-VPC CodeBuild
// runners. It is deployed by a human with
// the bootstrap admin role: the infra-deploy role cannot change its own
// permissions (see docs/cicd.md).
func NewCICDStack(scope constructs.Construct, cfg *envs.Config, net *NetworkOutputs, cluster *ClusterOutputs) (*CICDOutputs, error) {
	b, err := newBase(scope, cfg, CICD)
	if err != nil {
		return nil, err
	}
	ci := cfg.CICD
	key, err := sp.NewKmsKey(b.stack, "ecr-key", &sp.KmsKeyProps{
		Alias: "alias/" + b.names.Prefix() + "-ecr", Description: "Encrypts container images of " + b.names.Prefix(),
		Protect: cfg.Protect(), AccountID: b.accountID(),
	})
	if err != nil {
		return nil, err
	}
	out := &CICDOutputs{Repositories: map[string]*sp.EcrRepository{}}
	for _, svc := range ci.Services {
		repo, err := sp.NewEcrRepository(b.stack, "ecr-"+svc, &sp.EcrRepositoryProps{
			Name: b.names.EcrRepository(svc), KmsKeyArn: key.KeyArn, KeepTaggedImages: ci.KeepTaggedImages,
			UntaggedExpireDays: UntaggedImageDays, Protect: cfg.Protect(),
		})
		if err != nil {
			return nil, err
		}
		out.Repositories[svc] = repo
		b.output("ecr_"+svc, "ECR repository URL of "+svc, repo.URL, false)
	}

	provider := sp.NewGitHubOIDCProvider(b.stack, "github-oidc", ci.CreateOIDCProvider)
	arns := newRoleARNs(cfg, b.names, *b.accountID())

	serviceRoles, err := newServiceDeployRoles(b, provider, cluster, out.Repositories)
	if err != nil {
		return nil, err
	}
	planExact, planPatterns := PlanSubjects(cfg)
	plan, err := sp.NewGitHubRole(b.stack, "gha-infra-plan", &sp.GitHubRoleProps{
		RoleName: b.names.Role("gha-infra-plan"), OidcProviderArn: provider, Subjects: planExact, SubjectPatterns: planPatterns,
		Statements: arns.planStatements(),
	})
	if err != nil {
		return nil, err
	}
	// IAM caps a role's inline policies at 10,240 characters, so the EC2
	// grants and the denies are managed policies of their own.
	network := newManagedPolicy(b, "gha-infra-deploy-network", "EC2 changes of the infra deploy role, scoped by the Environment tag", arns.deployNetworkStatements())
	guardrails := newManagedPolicy(b, "gha-infra-deploy-guardrails", "Denies that keep the infra deploy role off the state store, the GitHub roles, the boundary and device certificates", arns.deployDenies())
	identity := newManagedPolicy(b, "gha-infra-deploy-identity", "Private CA, CA bundle and device trust store changes of the infra deploy role", arns.deployIdentityStatements())
	services := newManagedPolicy(b, "gha-infra-deploy-services", "DynamoDB tables, alarms, WAF logging, queues and secrets of the infra deploy role", arns.deployServiceStatements())
	cdn := newManagedPolicy(b, "gha-infra-deploy-cdn", "CloudFront, ACM, WAF and Route 53 changes of the infra deploy role", arns.deployCdnStatements())
	deploy, err := sp.NewGitHubRole(b.stack, "gha-infra-deploy", &sp.GitHubRoleProps{
		RoleName: b.names.Role("gha-infra-deploy"), OidcProviderArn: provider, Subjects: InfraDeploySubjects(cfg),
		Statements: arns.deployStatements(), ManagedPolicyArns: []string{*network, *guardrails, *identity, *services, *cdn},
	})
	if err != nil {
		return nil, err
	}
	grantClusterAccess(b, cluster, []clusterAccess{
		{"infra-plan", *plan.Arn, EKSViewPolicyArn, nil},
		{"infra-deploy", *deploy.Arn, sp.ClusterAdminPolicyArn, nil},
	})

	revoke := newRevocationRole(b)
	b.output("device_revocation_role_arn", "Role operators assume (with MFA) to revoke device certificates", revoke, false)
	out.RevocationRole = revoke
	out.RootKeyArn, out.CeremonyRole = newPKIRoot(b)
	b.output("root_key_arn", "KMS key that is the offline root CA's private key (kms:Sign by the PKI ceremony role only)", out.RootKeyArn, false)
	b.output("pki_ceremony_role_arn", "Role operators assume (with MFA) to run spctl pki ceremony", out.CeremonyRole, false)

	runner, planRunner, err := newRunners(b, net, cluster)
	if err != nil {
		return nil, err
	}

	b.output("infra_plan_role_arn", "Role for infra-ci.yml and drift (secret AWS_INFRA_PLAN_ROLE_ARN)", plan.Arn, false)
	b.output("infra_deploy_role_arn", "Role for infra-deploy.yml (secret AWS_INFRA_DEPLOY_ROLE_ARN)", deploy.Arn, false)
	b.output("runner_project", "CodeBuild project of the in-VPC deploy runners, main only (runs-on: codebuild-<project>-...)", runner.ProjectName, false)
	b.output("plan_runner_project", "CodeBuild project of the in-VPC pull-request plan runners", planRunner.ProjectName, false)
	b.output("github_connection_arn", "CodeConnections connection; complete its GitHub handshake once in the console", runner.ConnectionArn, false)
	out.ServiceDeployRoles, out.InfraPlanRole, out.InfraDeployRole = serviceRoles, plan.Arn, deploy.Arn
	out.RunnerProject = runner.ProjectName
	return out, nil
}

// newManagedPolicy creates a customer managed policy "<org>-<env>-<purpose>"
// from typed statements and returns its ARN.
func newManagedPolicy(b *base, purpose, description string, statements []sp.Statement) *string {
	return iampolicy.NewIamPolicy(b.stack, jsii.String(purpose), &iampolicy.IamPolicyConfig{
		Name:        jsii.String(b.names.Role(purpose)),
		Description: jsii.String(description),
		Policy:      sp.NewPolicyDocument(b.stack, purpose+"-document", statements...).Json(),
	}).Arn()
}
