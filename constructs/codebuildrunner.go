package constructs

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/codebuildproject"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/codebuildwebhook"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/codeconnectionsconnection"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcsecuritygroupegressrule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpcsecuritygroupingressrule"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// RunnerDefaults are used where CodeBuildRunnerProps leave a field empty.
var RunnerDefaults = struct {
	ComputeType, Image string
	TimeoutMinutes     int
}{
	// Small is enough for synth, terraform and helm; jobs that build
	// images stay on GitHub-hosted runners (the project is unprivileged).
	ComputeType: "BUILD_GENERAL1_SMALL",
	Image:       "aws/codebuild/amazonlinux-x86_64-standard:5.0",
	// The longest job (an infra deploy of every stack) has 120 minutes.
	TimeoutMinutes: 150,
}

// RunnerWebhookEvent is the only GitHub event that starts a build: a
// workflow job queued with runs-on: codebuild-<project>-... .
const RunnerWebhookEvent = "WORKFLOW_JOB_QUEUED"

// RunnerAccepts says which queued jobs a runner project starts a build for
// (CodeBuild webhook filters, all of which must match): a job of one of
// Workflows (the workflows' name:), and, when HeadRef is set, only on that
// ref. A job a pull request edits to run on the project but that fails a
// filter is never started: it waits for a runner that never comes.
type RunnerAccepts struct {
	// Workflows are workflow names (the name: of each file); a trailing "*"
	// stands for any rest of the name ("deploy-*").
	Workflows []string
	// HeadRef is a ref such as refs/heads/main; empty accepts any ref.
	HeadRef string
}

// filterGroup is the webhook filter group for a.
func (a RunnerAccepts) filterGroup() []*codebuildwebhook.CodebuildWebhookFilterGroupFilter {
	quoted := make([]string, 0, len(a.Workflows))
	for _, w := range a.Workflows {
		quoted = append(quoted, strings.ReplaceAll(regexp.QuoteMeta(w), `\*`, ".*"))
	}
	out := []*codebuildwebhook.CodebuildWebhookFilterGroupFilter{
		{Type: jsii.String("EVENT"), Pattern: jsii.String(RunnerWebhookEvent)},
		{Type: jsii.String("WORKFLOW_NAME"), Pattern: jsii.String("^(" + strings.Join(quoted, "|") + ")$")},
	}
	if a.HeadRef != "" {
		out = append(out, &codebuildwebhook.CodebuildWebhookFilterGroupFilter{Type: jsii.String("HEAD_REF"), Pattern: jsii.String("^" + regexp.QuoteMeta(a.HeadRef) + "$")})
	}
	return out
}

// CodeBuildRunnerProps describes one env's in-VPC GitHub Actions runners.
type CodeBuildRunnerProps struct {
	// ProjectName is the CodeBuild project, naming.RunnerProject().
	ProjectName string
	// ConnectionName is the CodeConnections connection to GitHub
	// (<= 32 characters). It is created PENDING; an admin completes the
	// GitHub handshake once in the console (docs/cicd.md).
	ConnectionName string
	// ConnectionArn, when set, reuses another runner's connection instead
	// of creating one (one handshake per env).
	ConnectionArn *string
	// Accepts says which jobs the project runs; required.
	Accepts RunnerAccepts
	// RepositoryURL is https://github.com/<org>/<repo>.
	RepositoryURL string
	// VpcID and SubnetIDs place the build containers; use the private
	// subnets, which reach the internet only through NAT.
	VpcID     *string
	SubnetIDs []*string
	// ClusterSecurityGroupID is the EKS cluster security group; it gets one
	// rule admitting 443 from the runners.
	ClusterSecurityGroupID *string
	// RoleName is the CodeBuild service role.
	RoleName string
	// PermissionsBoundary is the env's workload boundary.
	PermissionsBoundary *string
	// Protect keeps the job log group and its key (outside dev).
	Protect bool
	// Region and AccountID build the project ARN the trust policy pins.
	Region    string
	AccountID *string
	// LogRetentionDays for the build logs.
	LogRetentionDays int
	// ComputeType, Image and TimeoutMinutes default to RunnerDefaults.
	ComputeType    string
	Image          string
	TimeoutMinutes int
}

// CodeBuildRunner is what the cicd stack reports.
type CodeBuildRunner struct {
	ProjectName     string
	ConnectionArn   *string
	SecurityGroupID *string
	RoleArn         *string
}

// NewCodeBuildRunner creates a CodeBuild project that GitHub Actions uses as
// an ephemeral self-hosted runner inside the VPC: one fresh container per
// job, nothing running between jobs (it scales to zero), and independent of
// the cluster, so it works before the cluster exists. Its security group
// has no ingress and one egress rule (443); the cluster security group
// admits the runners on 443, so jobs reach the private API endpoint.
//
// The service role can only write the build logs, attach the build ENIs to
// the given subnets and use the GitHub connection: AWS credentials for a
// job come from GitHub OIDC and the env's GitHub roles, never from it.
func NewCodeBuildRunner(scope constructs.Construct, id string, props *CodeBuildRunnerProps) (*CodeBuildRunner, error) {
	if err := props.validate(id); err != nil {
		return nil, err
	}
	p := *props
	if p.ComputeType == "" {
		p.ComputeType = RunnerDefaults.ComputeType
	}
	if p.Image == "" {
		p.Image = RunnerDefaults.Image
	}
	if p.TimeoutMinutes == 0 {
		p.TimeoutMinutes = RunnerDefaults.TimeoutMinutes
	}
	node := constructs.NewConstruct(scope, jsii.String(id))

	connArn := p.ConnectionArn
	if connArn == nil {
		connArn = codeconnectionsconnection.NewCodeconnectionsConnection(node, jsii.String("github"), &codeconnectionsconnection.CodeconnectionsConnectionConfig{
			Name: jsii.String(p.ConnectionName), ProviderType: jsii.String("GitHub"),
		}).Arn()
	}

	sg := securitygroup.NewSecurityGroup(node, jsii.String("sg"), &securitygroup.SecurityGroupConfig{
		Name:        jsii.String(p.ProjectName),
		Description: jsii.String("GitHub Actions runners of " + p.ProjectName + ": egress 443 only, no ingress"),
		VpcId:       p.VpcID,
	})
	vpcsecuritygroupegressrule.NewVpcSecurityGroupEgressRule(node, jsii.String("egress-https"), &vpcsecuritygroupegressrule.VpcSecurityGroupEgressRuleConfig{
		SecurityGroupId: sg.Id(),
		Description:     jsii.String("GitHub, the AWS APIs and the EKS endpoint, all over TLS"),
		IpProtocol:      jsii.String("tcp"), FromPort: jsii.Number(443), ToPort: jsii.Number(443),
		CidrIpv4: jsii.String("0.0.0.0/0"),
	})
	vpcsecuritygroupingressrule.NewVpcSecurityGroupIngressRule(node, jsii.String("cluster-api-from-runners"), &vpcsecuritygroupingressrule.VpcSecurityGroupIngressRuleConfig{
		SecurityGroupId: p.ClusterSecurityGroupID,
		Description:     jsii.String("Kubernetes API from the " + p.ProjectName + " runners"),
		IpProtocol:      jsii.String("tcp"), FromPort: jsii.Number(443), ToPort: jsii.Number(443),
		ReferencedSecurityGroupId: sg.Id(),
	})

	logGroupName := "/aws/codebuild/" + p.ProjectName
	// Job logs can echo plan output: a logs CMK like every log group.
	logsKey, err := NewLogsKey(node, "logs-key", &LogsKeyProps{
		Alias: "alias/" + p.ProjectName + "-logs", Region: p.Region, AccountID: p.AccountID,
		LogGroupNames: []string{logGroupName}, Protect: p.Protect,
	})
	if err != nil {
		return nil, err
	}
	logs, err := NewLogGroup(node, "logs", &LogGroupProps{
		Name: logGroupName, RetentionDays: p.LogRetentionDays, KmsKeyArn: logsKey, Protect: p.Protect,
	})
	if err != nil {
		return nil, err
	}

	projectArn := fmt.Sprintf("arn:aws:codebuild:%s:%s:project/%s", p.Region, *p.AccountID, p.ProjectName)
	trust := NewPolicyDocument(node, "trust", Statement{
		Sid: "ThisProjectOnly", Actions: []string{"sts:AssumeRole"},
		Principals: []Principal{{Type: "Service", Identifiers: []string{"codebuild.amazonaws.com"}}},
		Conditions: []Condition{
			{Test: "StringEquals", Variable: "aws:SourceAccount", Values: []string{*p.AccountID}},
			{Test: "ArnEquals", Variable: "aws:SourceArn", Values: []string{projectArn}},
		},
	})
	role := iamrole.NewIamRole(node, jsii.String("role"), &iamrole.IamRoleConfig{
		Name: jsii.String(p.RoleName), AssumeRolePolicy: trust.Json(), PermissionsBoundary: p.PermissionsBoundary,
		Description: jsii.String("CodeBuild service role of the " + p.ProjectName + " GitHub Actions runners"),
	})
	subnetArns := make([]string, 0, len(p.SubnetIDs))
	for _, s := range p.SubnetIDs {
		subnetArns = append(subnetArns, fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", p.Region, *p.AccountID, *s))
	}
	perms := NewPolicyDocument(node, "permissions",
		Statement{Sid: "WriteBuildLogs", Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			Resources: []string{*logs.Arn(), *logs.Arn() + ":*"}},
		// CodeBuild's documented VPC permissions: the describe calls and ENI
		// create/delete do not support resource-level scoping.
		Statement{Sid: "BuildNetworkInterfaces", Actions: []string{
			"ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeDhcpOptions",
			"ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
		}, Resources: []string{"*"}},
		Statement{Sid: "AttachOnlyToRunnerSubnets", Actions: []string{"ec2:CreateNetworkInterfacePermission"},
			Resources: []string{fmt.Sprintf("arn:aws:ec2:%s:%s:network-interface/*", p.Region, *p.AccountID)},
			Conditions: []Condition{
				{Test: "StringEquals", Variable: "ec2:AuthorizedService", Values: []string{"codebuild.amazonaws.com"}},
				{Test: "ArnEquals", Variable: "ec2:Subnet", Values: subnetArns},
			}},
		Statement{Sid: "UseTheGitHubConnection", Actions: []string{
			"codeconnections:GetConnection", "codeconnections:GetConnectionToken", "codeconnections:UseConnection",
		}, Resources: []string{*connArn}},
	)
	policy := iamrolepolicy.NewIamRolePolicy(node, jsii.String("policy"), &iamrolepolicy.IamRolePolicyConfig{Role: role.Id(), Policy: perms.Json()})

	project := codebuildproject.NewCodebuildProject(node, jsii.String("project"), &codebuildproject.CodebuildProjectConfig{
		Name:         jsii.String(p.ProjectName),
		Description:  jsii.String("Ephemeral GitHub Actions runners inside the VPC for jobs that need the cluster API"),
		ServiceRole:  role.Arn(),
		BuildTimeout: jsii.Number(float64(p.TimeoutMinutes)),
		Artifacts:    &codebuildproject.CodebuildProjectArtifacts{Type: jsii.String("NO_ARTIFACTS")},
		Environment: &codebuildproject.CodebuildProjectEnvironment{
			ComputeType: jsii.String(p.ComputeType), Image: jsii.String(p.Image),
			Type: jsii.String("LINUX_CONTAINER"), ImagePullCredentialsType: jsii.String("CODEBUILD"),
			// No Docker daemon: nothing on these runners builds images.
			PrivilegedMode: jsii.Bool(false),
		},
		Source: &codebuildproject.CodebuildProjectSource{
			Type: jsii.String("GITHUB"), Location: jsii.String(p.RepositoryURL), GitCloneDepth: jsii.Number(1),
			// The connection, not a token: nothing secret lands in state.
			Auth: &codebuildproject.CodebuildProjectSourceAuth{Type: jsii.String("CODECONNECTIONS"), Resource: connArn},
		},
		VpcConfig: &codebuildproject.CodebuildProjectVpcConfig{
			VpcId: p.VpcID, Subnets: &p.SubnetIDs, SecurityGroupIds: jsii.Strings(*sg.Id()),
		},
		LogsConfig: &codebuildproject.CodebuildProjectLogsConfig{
			CloudwatchLogs: &codebuildproject.CodebuildProjectLogsConfigCloudwatchLogs{Status: jsii.String("ENABLED"), GroupName: logs.Name()},
		},
		DependsOn: &[]cdktf.ITerraformDependable{policy},
	})
	codebuildwebhook.NewCodebuildWebhook(node, jsii.String("webhook"), &codebuildwebhook.CodebuildWebhookConfig{
		ProjectName: project.Name(),
		BuildType:   jsii.String("BUILD"),
		FilterGroup: []*codebuildwebhook.CodebuildWebhookFilterGroup{{Filter: p.Accepts.filterGroup()}},
	})
	return &CodeBuildRunner{ProjectName: p.ProjectName, ConnectionArn: connArn, SecurityGroupID: sg.Id(), RoleArn: role.Arn()}, nil
}

func (p *CodeBuildRunnerProps) validate(id string) error {
	switch {
	case p == nil:
		return fmt.Errorf("%s: props are required", id)
	case p.ProjectName == "" || p.RoleName == "" || p.Region == "" || p.AccountID == nil:
		return fmt.Errorf("%s: projectName, roleName, region and accountId are required", id)
	case p.ConnectionName == "" || len(p.ConnectionName) > 32:
		return fmt.Errorf("%s: connectionName %q must be 1 to 32 characters", id, p.ConnectionName)
	case !strings.HasPrefix(p.RepositoryURL, "https://github.com/"):
		return fmt.Errorf("%s: repositoryUrl %q must be https://github.com/<org>/<repo>", id, p.RepositoryURL)
	case p.VpcID == nil || len(p.SubnetIDs) == 0 || p.ClusterSecurityGroupID == nil:
		return fmt.Errorf("%s: vpcId, subnetIds and clusterSecurityGroupId are required; runners must sit in the private subnets", id)
	case p.PermissionsBoundary == nil:
		return fmt.Errorf("%s: permissionsBoundary is required", id)
	case p.LogRetentionDays < 1:
		return fmt.Errorf("%s: logRetentionDays must be positive", id)
	case len(p.Accepts.Workflows) == 0:
		return fmt.Errorf("%s: accepts.workflows is empty; name the workflows whose jobs the runners may run", id)
	}
	return nil
}
