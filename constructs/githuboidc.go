package constructs

import (
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsiamopenidconnectprovider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamopenidconnectprovider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// GitHubOIDCHost is GitHub Actions' token issuer; its claims are prefixed
// with it in IAM conditions.
const GitHubOIDCHost = naming.OIDCGitHubHost

// NewGitHubOIDCProvider creates the account's GitHub Actions identity
// provider, or looks up the existing one when create is false: IAM allows
// one provider per URL per account, so only one environment may own it.
// No thumbprint is pinned: IAM validates GitHub's certificate through its
// own trusted CA store, and a pinned thumbprint breaks on rotation.
func NewGitHubOIDCProvider(scope constructs.Construct, id string, create bool) *string {
	url := "https://" + GitHubOIDCHost
	if create {
		return iamopenidconnectprovider.NewIamOpenidConnectProvider(scope, jsii.String(id), &iamopenidconnectprovider.IamOpenidConnectProviderConfig{
			Url: jsii.String(url), ClientIdList: jsii.Strings(StsAudience),
		}).Arn()
	}
	return dataawsiamopenidconnectprovider.NewDataAwsIamOpenidConnectProvider(scope, jsii.String(id),
		&dataawsiamopenidconnectprovider.DataAwsIamOpenidConnectProviderConfig{Url: jsii.String(url)}).Arn()
}

// GitHubRoleProps describes an IAM role a GitHub Actions job assumes.
type GitHubRoleProps struct {
	RoleName        string
	OidcProviderArn *string
	// Subjects are the exact `sub` claims allowed, e.g.
	// repo:spatialprops/spatialprops-infra:environment:dev-infra:job_workflow_ref:spatialprops/spatialprops-infra/.github/workflows/infra-deploy.yml@refs/heads/main
	// (the repository's subject template includes job_workflow_ref; see the
	// github stack). They are matched with StringEquals.
	Subjects []string
	// SubjectPatterns are matched with StringLike, for the parts a token
	// varies in: a pull request's ref (refs/pull/*/merge) or a family of
	// workflow files (deploy-*.yml). Each must still name the repository
	// and a workflow file under its .github/workflows/.
	SubjectPatterns []string
	// Statements are the inline permissions.
	Statements []Statement
	// ManagedPolicyArns are attached as well. The GitHub roles use none:
	// AWS managed policies are broader than CI needs.
	ManagedPolicyArns []string
	// MaxSessionSeconds bounds how long one job's credentials live.
	MaxSessionSeconds int
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// GitHubRole is an assumable role.
type GitHubRole struct {
	Arn  *string
	Name *string
}

// NewGitHubRole creates the role with an exact trust policy on aud and sub.
func NewGitHubRole(scope constructs.Construct, id string, props *GitHubRoleProps) (*GitHubRole, error) {
	switch {
	case props == nil || props.RoleName == "" || props.OidcProviderArn == nil:
		return nil, fmt.Errorf("%s: roleName and oidcProviderArn are required", id)
	case len(props.Subjects) == 0 && len(props.SubjectPatterns) == 0:
		return nil, fmt.Errorf("%s: subjects is empty; name the exact sub claims to trust", id)
	case len(props.Statements) == 0 && len(props.ManagedPolicyArns) == 0:
		return nil, fmt.Errorf("%s: give the role statements or managed policies", id)
	}
	for _, sub := range props.Subjects {
		if !strings.HasPrefix(sub, "repo:") || strings.ContainsAny(sub, "*?") {
			return nil, fmt.Errorf("%s: subject %q must be an exact sub claim (repo:<org>/<repo>:...) without wildcards", id, sub)
		}
	}
	for _, p := range props.SubjectPatterns {
		repo, rest, _ := strings.Cut(strings.TrimPrefix(p, "repo:"), ":")
		_, workflow, ok := strings.Cut(rest, ":job_workflow_ref:"+repo+"/.github/workflows/")
		if !strings.HasPrefix(p, "repo:") || strings.ContainsAny(repo, "*?") || !ok || strings.ContainsAny(strings.SplitN(rest, ":job_workflow_ref:", 2)[0], "*?") ||
			strings.HasPrefix(workflow, "*") {
			return nil, fmt.Errorf("%s: subject pattern %q must name the repository, the context and a workflow file of the repository without wildcards before the file name", id, p)
		}
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	var statements []Statement
	github := func(sid, test string, subjects []string) {
		if len(subjects) == 0 {
			return
		}
		statements = append(statements, Statement{
			Sid:        sid,
			Actions:    []string{"sts:AssumeRoleWithWebIdentity"},
			Principals: []Principal{{Type: "Federated", Identifiers: []string{*props.OidcProviderArn}}},
			Conditions: []Condition{
				{Test: "StringEquals", Variable: GitHubOIDCHost + ":aud", Values: []string{StsAudience}},
				{Test: test, Variable: GitHubOIDCHost + ":sub", Values: subjects},
			},
		})
	}
	github("GitHubActionsOnly", "StringEquals", props.Subjects)
	github("GitHubActionsWorkflows", "StringLike", props.SubjectPatterns)
	trust := NewPolicyDocument(node, "trust", statements...)
	maxSession := props.MaxSessionSeconds
	if maxSession == 0 {
		maxSession = 3600
	}
	role := iamrole.NewIamRole(node, jsii.String("role"), &iamrole.IamRoleConfig{
		Name:               jsii.String(props.RoleName),
		Description:        jsii.String(truncate("GitHub Actions: "+strings.Join(append(append([]string(nil), props.Subjects...), props.SubjectPatterns...), ", "), 1000)),
		AssumeRolePolicy:   trust.Json(),
		MaxSessionDuration: jsii.Number(float64(maxSession)),
	})
	if len(props.Statements) > 0 {
		perms := NewPolicyDocument(node, "permissions", props.Statements...)
		iamrolepolicy.NewIamRolePolicy(node, jsii.String("policy"), &iamrolepolicy.IamRolePolicyConfig{Role: role.Id(), Policy: perms.Json()})
	}
	for i, arn := range props.ManagedPolicyArns {
		iamrolepolicyattachment.NewIamRolePolicyAttachment(node, jsii.String(fmt.Sprintf("managed-%d", i)),
			&iamrolepolicyattachment.IamRolePolicyAttachmentConfig{Role: role.Name(), PolicyArn: jsii.String(arn)})
	}
	return &GitHubRole{Arn: role.Arn(), Name: role.Name()}, nil
}
