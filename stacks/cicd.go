package stacks

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/eksaccessentry"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/eksaccesspolicyassociation"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// EKS access policies granted to GitHub roles.
const (
	EKSEditPolicyArn      = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
	EKSAdminViewPolicyArn = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
	ReadOnlyAccessArn     = "arn:aws:iam::aws:policy/ReadOnlyAccess"
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

// InfraDeployServices are the AWS services the stacks manage; the deploy
// role may act on them, never on "*:*". IAM is not in this list: it is
// scoped to this environment's names below.
var InfraDeployServices = []string{
	"acm", "autoscaling", "cloudfront", "ec2", "ecr", "eks", "elasticloadbalancing",
	"kms", "logs", "route53", "sqs", "wafv2",
}

// InfraDeployS3Actions manage bucket configuration. There is deliberately
// no s3:* : the deploy role cannot read or delete the objects in the data
// buckets, only shape the buckets.
var InfraDeployS3Actions = []string{
	"s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:DeleteBucketOwnershipControls",
	"s3:GetAccelerateConfiguration", "s3:GetBucket*", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
	"s3:GetReplicationConfiguration", "s3:ListBucket", "s3:ListAllMyBuckets",
	"s3:PutBucket*", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
}

// CICDOutputs are the role ARNs the GitHub repository is configured with.
type CICDOutputs struct {
	Repositories      map[string]*sp.EcrRepository
	ServiceDeployRole *string
	InfraPlanRole     *string
	InfraDeployRole   *string
}

// NewCICDStack creates the ECR repositories, the GitHub Actions OIDC
// provider (or a reference to it), the three GitHub roles and their EKS
// access. It is deployed by a human with the bootstrap admin role: the
// infra-deploy role cannot change its own permissions (see docs/cicd.md).
func NewCICDStack(scope constructs.Construct, cfg *envs.Config, cluster *ClusterOutputs) (*CICDOutputs, error) {
	b, err := newBase(scope, cfg, CICD)
	if err != nil {
		return nil, err
	}
	ci := cfg.CICD
	account := *b.accountID()
	key, err := sp.NewKmsKey(b.stack, "ecr-key", &sp.KmsKeyProps{
		Alias: "alias/" + b.names.Prefix() + "-ecr", Description: "Encrypts container images of " + b.names.Prefix(),
		Protect: cfg.Protect(), AccountID: b.accountID(),
	})
	if err != nil {
		return nil, err
	}
	out := &CICDOutputs{Repositories: map[string]*sp.EcrRepository{}}
	var repoArns []string
	for _, svc := range ci.Services {
		repo, err := sp.NewEcrRepository(b.stack, "ecr-"+svc, &sp.EcrRepositoryProps{
			Name: b.names.EcrRepository(svc), KmsKeyArn: key.KeyArn, KeepTaggedImages: ci.KeepTaggedImages,
			UntaggedExpireDays: UntaggedImageDays, Protect: cfg.Protect(),
		})
		if err != nil {
			return nil, err
		}
		out.Repositories[svc] = repo
		repoArns = append(repoArns, *repo.Arn)
		b.output("ecr_"+svc, "ECR repository URL of "+svc, repo.URL, false)
	}

	provider := sp.NewGitHubOIDCProvider(b.stack, "github-oidc", ci.CreateOIDCProvider)
	repo := ci.GitHubOrg + "/" + ci.GitHubRepo
	deploySubject := GitHubDeploySubject(cfg)

	serviceDeploy, err := sp.NewGitHubRole(b.stack, "gha-service-deploy", &sp.GitHubRoleProps{
		RoleName: b.names.Role("gha-service-deploy"), OidcProviderArn: provider, Subjects: []string{deploySubject},
		Statements: []sp.Statement{
			{Sid: "EcrLogin", Actions: []string{"ecr:GetAuthorizationToken"}, Resources: []string{"*"}},
			{Sid: "PushServiceImages", Actions: EcrPushActions, Resources: repoArns},
			{Sid: "FindTheCluster", Actions: []string{"eks:DescribeCluster"}, Resources: []string{*cluster.Arn}},
		},
	})
	if err != nil {
		return nil, err
	}

	stateBucketArn := "arn:aws:s3:::" + b.names.StateBucket()
	lockTableArn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", cfg.Region, account, b.names.LockTable())
	stateKey := sp.Statement{
		Sid: "UseTheStateKey", Actions: []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"},
		Resources: []string{fmt.Sprintf("arn:aws:kms:%s:%s:key/*", cfg.Region, account)},
		Conditions: []sp.Condition{{Test: "ForAnyValue:StringEquals", Variable: "kms:ResourceAliases",
			Values: []string{"alias/" + b.names.Prefix() + "-tfstate"}}},
	}
	// The S3 backend locks with a "<key>.tflock" object next to the state
	// (use_lockfile); even a plan takes the lock.
	lockState := sp.Statement{
		Sid: "LockState", Actions: []string{"s3:PutObject", "s3:DeleteObject"},
		Resources: []string{stateBucketArn + "/*" + sp.LockFileSuffix},
	}

	plan, err := sp.NewGitHubRole(b.stack, "gha-infra-plan", &sp.GitHubRoleProps{
		RoleName: b.names.Role("gha-infra-plan"), OidcProviderArn: provider,
		// Pull requests run `cdktf diff`; scheduled drift detection runs on
		// main. Both only read.
		Subjects: []string{"repo:" + repo + ":pull_request", "repo:" + repo + ":ref:refs/heads/main"},
		// Read everything the plan refreshes; change nothing.
		ManagedPolicyArns: []string{ReadOnlyAccessArn},
		Statements: []sp.Statement{
			{Sid: "ReadState", Actions: []string{"s3:ListBucket", "s3:GetObject"}, Resources: []string{stateBucketArn, stateBucketArn + "/*"}},
			lockState, stateKey,
		},
	})
	if err != nil {
		return nil, err
	}

	prefixArn := func(kind string) string {
		return fmt.Sprintf("arn:aws:iam::%s:%s/%s-*", account, kind, b.names.Prefix())
	}
	var serviceActions []string
	for _, s := range InfraDeployServices {
		serviceActions = append(serviceActions, s+":*")
	}
	serviceActions = append(serviceActions, InfraDeployS3Actions...)
	deploy, err := sp.NewGitHubRole(b.stack, "gha-infra-deploy", &sp.GitHubRoleProps{
		RoleName: b.names.Role("gha-infra-deploy"), OidcProviderArn: provider, Subjects: []string{deploySubject},
		Statements: []sp.Statement{
			{Sid: "ManageStackServices", Actions: serviceActions, Resources: []string{"*"}},
			{Sid: "ManageThisEnvironmentsIam", Actions: []string{"iam:*"}, Resources: []string{
				prefixArn("role"), prefixArn("policy"), prefixArn("instance-profile"),
				fmt.Sprintf("arn:aws:iam::%s:oidc-provider/*", account),
			}},
			{Sid: "ReadIam", Actions: []string{"iam:Get*", "iam:List*"}, Resources: []string{"*"}},
			{Sid: "ServiceLinkedRoles", Actions: []string{"iam:CreateServiceLinkedRole"}, Resources: []string{"*"}},
			{Sid: "WhoAmI", Actions: []string{"sts:GetCallerIdentity"}, Resources: []string{"*"}},
			{Sid: "WriteState", Actions: []string{"s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
				Resources: []string{stateBucketArn, stateBucketArn + "/*"}},
			lockState, stateKey,
			{
				// CI must not widen its own access: the GitHub roles and the
				// state store change only through a human deploy.
				Sid: "NoSelfEscalation", Effect: "Deny", Actions: []string{"iam:*"},
				Resources: []string{fmt.Sprintf("arn:aws:iam::%s:role/%s-gha-*", account, b.names.Prefix())},
			},
			{Sid: "StateStoreIsHumanOnly", Effect: "Deny",
				Actions:    []string{"s3:DeleteBucket", "s3:PutBucketPolicy", "dynamodb:DeleteTable", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"},
				Resources:  []string{stateBucketArn, lockTableArn, fmt.Sprintf("arn:aws:kms:%s:%s:key/*", cfg.Region, account)},
				Conditions: []sp.Condition{{Test: "ForAnyValue:StringEquals", Variable: "aws:ResourceTag/Service", Values: []string{State}}},
			},
		},
	})
	if err != nil {
		return nil, err
	}

	// Cluster access: deploys may touch only their namespace; plans may
	// read (including Helm's release Secrets); infra deploys administer.
	access := []struct {
		id, arn, policy string
		namespaces      []string
	}{
		{"service-deploy", *serviceDeploy.Arn, EKSEditPolicyArn, []string{naming.NamespaceServices}},
		{"infra-plan", *plan.Arn, EKSAdminViewPolicyArn, nil},
		{"infra-deploy", *deploy.Arn, sp.ClusterAdminPolicyArn, nil},
	}
	for _, a := range access {
		entry := eksaccessentry.NewEksAccessEntry(b.stack, jsii.String("access-"+a.id), &eksaccessentry.EksAccessEntryConfig{
			ClusterName: cluster.NameRef, PrincipalArn: jsii.String(a.arn), Type: jsii.String("STANDARD"),
		})
		scope := &eksaccesspolicyassociation.EksAccessPolicyAssociationAccessScope{Type: jsii.String("cluster")}
		if len(a.namespaces) > 0 {
			scope = &eksaccesspolicyassociation.EksAccessPolicyAssociationAccessScope{Type: jsii.String("namespace"), Namespaces: jsii.Strings(a.namespaces...)}
		}
		eksaccesspolicyassociation.NewEksAccessPolicyAssociation(b.stack, jsii.String("access-"+a.id+"-policy"), &eksaccesspolicyassociation.EksAccessPolicyAssociationConfig{
			ClusterName: cluster.NameRef, PrincipalArn: entry.PrincipalArn(), PolicyArn: jsii.String(a.policy), AccessScope: scope,
		})
	}

	b.output("service_deploy_role_arn", "Role for deploy-<service> workflows (secret AWS_SERVICE_DEPLOY_ROLE_ARN)", serviceDeploy.Arn, false)
	b.output("infra_plan_role_arn", "Role for infra-ci.yml (secret AWS_INFRA_PLAN_ROLE_ARN)", plan.Arn, false)
	b.output("infra_deploy_role_arn", "Role for infra-deploy.yml (secret AWS_INFRA_DEPLOY_ROLE_ARN)", deploy.Arn, false)
	out.ServiceDeployRole, out.InfraPlanRole, out.InfraDeployRole = serviceDeploy.Arn, plan.Arn, deploy.Arn
	return out, nil
}

// GitHubDeploySubject is the sub claim deploy roles trust: the main branch,
// or, where the env sets cicd.deployEnvironment, that GitHub environment
// (whose required reviewers then gate every deploy).
func GitHubDeploySubject(cfg *envs.Config) string {
	repo := "repo:" + cfg.CICD.GitHubOrg + "/" + cfg.CICD.GitHubRepo
	if cfg.CICD.DeployEnvironment != "" {
		return repo + ":environment:" + cfg.CICD.DeployEnvironment
	}
	return repo + ":ref:refs/heads/main"
}
