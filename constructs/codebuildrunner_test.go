package constructs

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runnerProps() *CodeBuildRunnerProps {
	return &CodeBuildRunnerProps{
		ProjectName: "spatialprops-dev-gha-runner", ConnectionName: "spatialprops-dev-github",
		RepositoryURL: "https://github.com/spatialprops/spatialprops-infra",
		VpcID:         jsii.String("vpc-1"), SubnetIDs: []*string{jsii.String("subnet-a"), jsii.String("subnet-b")},
		ClusterSecurityGroupID: jsii.String("sg-cluster"), RoleName: "spatialprops-dev-gha-runner",
		PermissionsBoundary: jsii.String("arn:aws:iam::111122223333:policy/spatialprops-dev-workload-boundary"),
		Region:              "ap-southeast-2", AccountID: jsii.String("111122223333"), LogRetentionDays: 90,
		Accepts: RunnerAccepts{Workflows: []string{"infra-deploy", "deploy-*"}, HeadRef: "refs/heads/main"},
	}
}

func TestCodeBuildRunnerIsPrivateAndEphemeral(t *testing.T) {
	// GIVEN a runner in two private subnets
	stack := newTestStack(t)
	_, err := NewCodeBuildRunner(stack, "runner", runnerProps())
	require.NoError(t, err)
	doc := synth(t, stack)

	// THEN builds start only for queued jobs of the named workflows on main
	hook := one(t, doc, "aws_codebuild_webhook")
	assert.Equal(t, RunnerWebhookEvent, hook.Get("filter_group.0.filter.0.pattern").String())
	assert.Equal(t, `^(infra-deploy|deploy-.*)$`, hook.Get("filter_group.0.filter.1.pattern").String())
	assert.Equal(t, `^refs/heads/main$`, hook.Get("filter_group.0.filter.2.pattern").String())
	// and run in the VPC, unprivileged, from a connection rather than a token
	p := one(t, doc, "aws_codebuild_project")
	assert.Equal(t, []string{"subnet-a", "subnet-b"}, strs(p.Get("vpc_config.subnets")))
	assert.Equal(t, "vpc-1", p.Get("vpc_config.vpc_id").String())
	assert.False(t, p.Get("environment.privileged_mode").Bool(), "no Docker daemon on cluster-facing runners")
	assert.Equal(t, "CODECONNECTIONS", p.Get("source.auth.type").String())
	assert.Contains(t, p.Get("source.auth.resource").String(), "aws_codeconnections_connection.")
	assert.Empty(t, resources(doc, "aws_codebuild_source_credential"), "no account-wide token")
	assert.Equal(t, "GitHub", one(t, doc, "aws_codeconnections_connection").Get("provider_type").String())

	// the runner SG has no ingress and only HTTPS egress; the cluster SG admits it on 443
	assert.False(t, one(t, doc, "aws_security_group").Get("ingress").Exists())
	egress := one(t, doc, "aws_vpc_security_group_egress_rule")
	assert.Equal(t, int64(443), egress.Get("to_port").Int())
	in := one(t, doc, "aws_vpc_security_group_ingress_rule")
	assert.Equal(t, "sg-cluster", in.Get("security_group_id").String())
	assert.Equal(t, int64(443), in.Get("from_port").Int())
	assert.Equal(t, int64(443), in.Get("to_port").Int())

	// the service role is pinned to this project and bounded
	role := one(t, doc, "aws_iam_role")
	assert.Equal(t, "arn:aws:iam::111122223333:policy/spatialprops-dev-workload-boundary", role.Get("permissions_boundary").String())
	trust := statementBySid(t, doc, "ThisProjectOnly")
	assert.Contains(t, trust.Get("condition").String(), "arn:aws:codebuild:ap-southeast-2:111122223333:project/spatialprops-dev-gha-runner")
	eni := statementBySid(t, doc, "AttachOnlyToRunnerSubnets")
	assert.Contains(t, eni.Get("condition").String(), "arn:aws:ec2:ap-southeast-2:111122223333:subnet/subnet-a")
}

func TestCodeBuildRunnerRejectsBadProps(t *testing.T) {
	cases := map[string]struct {
		edit func(*CodeBuildRunnerProps)
		want string
	}{
		"no subnets": {func(p *CodeBuildRunnerProps) { p.SubnetIDs = nil },
			"runner: vpcId, subnetIds and clusterSecurityGroupId are required; runners must sit in the private subnets"},
		"long connection name": {func(p *CodeBuildRunnerProps) { p.ConnectionName = "spatialprops-production-github-x1" },
			`runner: connectionName "spatialprops-production-github-x1" must be 1 to 32 characters`},
		"not github": {func(p *CodeBuildRunnerProps) { p.RepositoryURL = "https://gitlab.com/x/y" },
			`runner: repositoryUrl "https://gitlab.com/x/y" must be https://github.com/<org>/<repo>`},
		"no boundary": {func(p *CodeBuildRunnerProps) { p.PermissionsBoundary = nil }, "runner: permissionsBoundary is required"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := runnerProps()
			tc.edit(p)
			_, err := NewCodeBuildRunner(newTestStack(t), "runner", p)
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestCodeBuildRunnerNamesTheJobsItRuns(t *testing.T) {
	p := runnerProps()
	p.Accepts = RunnerAccepts{}
	_, err := NewCodeBuildRunner(newTestStack(t), "runner", p)
	require.EqualError(t, err, "runner: accepts.workflows is empty; name the workflows whose jobs the runners may run")
}
