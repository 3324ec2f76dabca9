package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The CI-trust and cluster-access policies catch what they claim to: each
// bad document is a reverted fix of issue #9.
func TestCITrustPoliciesCatchViolations(t *testing.T) {
	q := policies(t)
	head := `"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"dev","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}}]}]},
		"terraform":{"backend":{"s3":{"encrypt":true,"use_lockfile":true}}}`
	trust := func(sub string) string {
		return `{"statement":[{"actions":["sts:AssumeRoleWithWebIdentity"],"condition":[{"test":"StringEquals","variable":"token.actions.githubusercontent.com:sub","values":["` + sub + `"]}]}]}`
	}
	role := func(name string) string {
		return `{"name":"` + name + `","assume_role_policy":"${data.aws_iam_policy_document.t.json}","permissions_boundary":"arn:b"}`
	}
	cases := map[string]struct {
		doc  string
		want []string
	}{
		"finding 2: PR role with ReadOnlyAccess": {`{"//":{"metadata":{"stackName":"dev-cicd"}},` + head + `,
			"data":{"aws_iam_policy_document":{"t":` + trust("repo:o/r:pull_request") + `}},
			"resource":{"aws_iam_role":{"plan":` + role("x-dev-gha-infra-plan") + `},
			  "aws_iam_role_policy_attachment":{"ro":{"role":"${aws_iam_role.plan.name}","policy_arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}}}}`,
			[]string{"ci: role plan is reachable from pull requests and attaches arn:aws:iam::aws:policy/ReadOnlyAccess; grant curated reads inline"}},
		"finding 2: PR role reads secrets and objects": {`{"//":{"metadata":{"stackName":"dev-cicd"}},` + head + `,
			"data":{"aws_iam_policy_document":{"t":` + trust("repo:o/r:pull_request") + `,
			  "p":{"statement":[{"actions":["secretsmanager:GetSecretValue","s3:Get*"],"resources":["arn:aws:s3:::spatial-packs-x/*"]},
			                    {"actions":["s3:GetObject"],"resources":["arn:aws:s3:::tfstate-x/dev/*"]}]}}},
			"resource":{"aws_iam_role":{"plan":` + role("x-dev-gha-infra-plan") + `},
			  "aws_iam_role_policy":{"pp":{"role":"${aws_iam_role.plan.id}","policy":"${data.aws_iam_policy_document.p.json}"}}}}`,
			[]string{
				"ci: role plan is reachable from pull requests and can s3:getobject on arn:aws:s3:::spatial-packs-x/*",
				"ci: role plan is reachable from pull requests and can s3:getobjectversion on arn:aws:s3:::spatial-packs-x/*",
				"ci: role plan is reachable from pull requests and can secretsmanager:getsecretvalue on arn:aws:s3:::spatial-packs-x/*",
			}},
		"finding 2: prod plan trusts pull requests; admin-view reads Secrets": {`{"//":{"metadata":{"stackName":"prod-cicd"}},` + head + `,
			"data":{"aws_iam_policy_document":{"t":` + trust("repo:o/r:pull_request") + `}},
			"resource":{"aws_iam_role":{"plan":` + role("x-prod-gha-infra-plan") + `},
			  "aws_eks_access_policy_association":{"a":{"policy_arn":"arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"}}}}`,
			[]string{
				"ci: access policy association a grants AmazonEKSAdminViewPolicy, which reads every Secret",
				"ci: prod role plan trusts pull requests; trust the prod-plan environment instead",
			}},
		"finding 3: the old deploy role": {`{"//":{"metadata":{"stackName":"dev-cicd"}},` + head + `,
			"data":{"aws_iam_policy_document":{"t":` + trust("repo:o/r:ref:refs/heads/main") + `,
			  "p":{"statement":[
			    {"sid":"A","actions":["ec2:*","iam:PassRole"],"resources":["*"]},
			    {"sid":"B","actions":["iam:*"],"resources":["arn:aws:iam::1:role/x-dev-*"]},
			    {"sid":"C","actions":["iam:CreateServiceLinkedRole","s3:DeleteBucketOwnershipControls"],"resources":["*"]},
			    {"sid":"D","effect":"Deny","actions":["s3:DeleteBucket"],"resources":["*"],
			     "condition":[{"test":"ForAnyValue:StringEquals","variable":"aws:ResourceTag/Service","values":["state"]}]}]}}},
			"resource":{"aws_iam_role":{"deploy":` + role("x-dev-gha-infra-deploy") + `},
			  "aws_iam_role_policy":{"pp":{"role":"${aws_iam_role.deploy.id}","policy":"${data.aws_iam_policy_document.p.json}"}}}}`,
			[]string{
				"ci: deploy role deploy trusts repo:o/r:ref:refs/heads/main; trust a GitHub environment with reviewers and a main-only branch rule",
				"ci: policy document p allows iam:*",
				"ci: policy document p allows iam:AttachRolePolicy without an iam:PolicyARN allowlist",
				"ci: policy document p allows iam:CreateServiceLinkedRole without iam:AWSServiceName",
				"ci: policy document p allows iam:attachrolepolicy without an iam:PermissionsBoundary condition",
				"ci: policy document p allows iam:createrole without an iam:PermissionsBoundary condition",
				"ci: policy document p allows iam:putrolepermissionsboundary without an iam:PermissionsBoundary condition",
				"ci: policy document p allows iam:putrolepolicy without an iam:PermissionsBoundary condition",
				"ci: policy document p names s3:DeleteBucketOwnershipControls, which is not an IAM action",
				"ci: policy document p protects by aws:ResourceTag/Service, a tag the denied principal may change; name the resources by ARN",
				"ci: role deploy allows ec2:* on every resource",
			}},
		"finding 3: shared subject, role without boundary": {`{"//":{"metadata":{"stackName":"prod-cluster"}},` + head + `,
			"data":{"aws_iam_policy_document":{"t":` + trust("repo:o/r:environment:prod") + `}},
			"resource":{"aws_iam_role":{
			  "svc":` + role("x-prod-gha-service-deploy") + `,"infra":` + role("x-prod-gha-infra-deploy") + `,
			  "node":{"name":"x-prod-eks-node","assume_role_policy":"{}"}}}}`,
			[]string{
				"ci: role node has no permissions boundary; CI may only create roles under <org>-<env>-workload-boundary",
				"ci: roles infra and svc trust the same subject repo:o/r:environment:prod; give each its own GitHub environment",
			}},
		"finding 4: staging in dev's account with the guide's ECR names": {`{"//":{"metadata":{"stackName":"staging-cicd"}},` + head + `,
			"data":{"aws_iam_openid_connect_provider":{"gh":{"url":"https://token.actions.githubusercontent.com"}}},
			"resource":{"aws_ecr_repository":{"r":{"name":"x/pack-service"}}}}`,
			[]string{"accounts: staging-cicd shares its AWS account but ECR repository x/pack-service does not carry the env; set cicd.sharedAccount"}},
		"findings 1 and 6: hidden admin, config-map auth, public prod endpoint, runner outside the VPC": {`{"//":{"metadata":{"stackName":"prod-cluster"}},` + head + `,
			"resource":{"aws_eks_cluster":{"c":{"access_config":{"authentication_mode":"API_AND_CONFIG_MAP","bootstrap_cluster_creator_admin_permissions":true},
			    "vpc_config":{"endpoint_public_access":true},
			    "enabled_cluster_log_types":["api","audit","authenticator","controllerManager","scheduler"],"lifecycle":{"prevent_destroy":true}}},
			  "aws_codebuild_project":{"runner":{"name":"x"}}}}`,
			[]string{
				"cluster: c gives its creator hidden cluster-admin; set bootstrap_cluster_creator_admin_permissions = false",
				"cluster: c must use authentication mode API (access entries only)",
				"cluster: c opens its API to the internet; list only the operator VPN CIDRs",
				"cluster: prod cluster c has a public API endpoint; CI uses the in-VPC runners",
				"cluster: runner project runner is not in the VPC, so its jobs cannot reach the private API",
			}},
		"finding 6: bootstrap admin left to the provider default": {`{"//":{"metadata":{"stackName":"dev-cluster"}},` + head + `,
			"resource":{"aws_eks_cluster":{"c":{"access_config":{"authentication_mode":"API"},"vpc_config":{"endpoint_public_access":false}}}}}`,
			[]string{"cluster: c gives its creator hidden cluster-admin; set bootstrap_cluster_creator_admin_permissions = false"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, deny(t, q, []byte(tc.doc)))
		})
	}
}
