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
	// repo:spatialprops/spatialprops-infra:ref:refs/heads/main. They are
	// matched with StringEquals: a wildcard would let any branch in.
	Subjects []string
	// Statements are the inline permissions.
	Statements []Statement
	// ManagedPolicyArns are attached as well. The GitHub roles use none:
	// AWS managed policies are broader than CI needs.
	ManagedPolicyArns []string
	// MaxSessionSeconds bounds how long one job's credentials live.
	MaxSessionSeconds int
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
	case len(props.Subjects) == 0:
		return nil, fmt.Errorf("%s: subjects is empty; name the exact sub claims to trust", id)
	case len(props.Statements) == 0 && len(props.ManagedPolicyArns) == 0:
		return nil, fmt.Errorf("%s: give the role statements or managed policies", id)
	}
	for _, sub := range props.Subjects {
		if !strings.HasPrefix(sub, "repo:") || strings.ContainsAny(sub, "*?") {
			return nil, fmt.Errorf("%s: subject %q must be an exact sub claim (repo:<org>/<repo>:...) without wildcards", id, sub)
		}
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	trust := NewPolicyDocument(node, "trust", Statement{
		Sid:        "GitHubActionsOnly",
		Actions:    []string{"sts:AssumeRoleWithWebIdentity"},
		Principals: []Principal{{Type: "Federated", Identifiers: []string{*props.OidcProviderArn}}},
		Conditions: []Condition{
			{Test: "StringEquals", Variable: GitHubOIDCHost + ":aud", Values: []string{StsAudience}},
			{Test: "StringEquals", Variable: GitHubOIDCHost + ":sub", Values: props.Subjects},
		},
	})
	maxSession := props.MaxSessionSeconds
	if maxSession == 0 {
		maxSession = 3600
	}
	role := iamrole.NewIamRole(node, jsii.String("role"), &iamrole.IamRoleConfig{
		Name:               jsii.String(props.RoleName),
		Description:        jsii.String("GitHub Actions: " + strings.Join(props.Subjects, ", ")),
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
