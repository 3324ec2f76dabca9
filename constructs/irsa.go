package constructs

import (
	"fmt"
	"regexp"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// StsAudience is the audience EKS-projected service-account tokens carry.
const StsAudience = "sts.amazonaws.com"

// IrsaRoleProps describes an IAM role for one Kubernetes service account.
type IrsaRoleProps struct {
	// RoleName is the IAM role name (<= 64 characters).
	RoleName string
	// OidcProviderArn is the cluster's IAM OIDC provider.
	OidcProviderArn *string
	// OidcIssuerURL is the cluster's issuer, with or without https://.
	OidcIssuerURL *string
	// Namespace and ServiceAccount are the only identity that may assume
	// the role.
	Namespace      string
	ServiceAccount string
	// Statements are the role's inline permissions.
	Statements []Statement
	// ManagedPolicyArns are attached as well (e.g. AWS-maintained policies
	// for the EBS CSI driver).
	ManagedPolicyArns []string
	// PermissionsBoundary is the ARN of the env's workload boundary policy
	// (naming.WorkloadBoundary); the CI deploy role may create roles only
	// with it attached.
	PermissionsBoundary *string
}

// IrsaRole is the role a service account is annotated with.
type IrsaRole struct {
	RoleArn  *string
	RoleName *string
	// Annotation is the service-account annotation that binds the role:
	// eks.amazonaws.com/role-arn.
	Annotation map[string]*string
}

var k8sName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// NewIrsaRole creates a role on the workload path (naming.WorkloadRolePath)
// whose trust policy admits exactly one service account: the token's sub must equal system:serviceaccount:<ns>:<sa> and
// its aud must be sts.amazonaws.com, both with StringEquals so no wildcard
// can widen it.
func NewIrsaRole(scope constructs.Construct, id string, props *IrsaRoleProps) (*IrsaRole, error) {
	if err := props.validate(id); err != nil {
		return nil, err
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	issuer := cdktf.Fn_Replace(props.OidcIssuerURL, jsii.String("https://"), jsii.String(""))
	trust := NewPolicyDocument(node, "trust", Statement{
		Sid:        "ServiceAccountOnly",
		Actions:    []string{"sts:AssumeRoleWithWebIdentity"},
		Principals: []Principal{{Type: "Federated", Identifiers: []string{*props.OidcProviderArn}}},
		Conditions: IrsaConditions(*issuer, props.Namespace, props.ServiceAccount),
	})
	role := iamrole.NewIamRole(node, jsii.String("role"), &iamrole.IamRoleConfig{
		Name:                jsii.String(props.RoleName),
		Path:                jsii.String(naming.WorkloadRolePath),
		Description:         jsii.String(fmt.Sprintf("IRSA for %s/%s", props.Namespace, props.ServiceAccount)),
		AssumeRolePolicy:    trust.Json(),
		PermissionsBoundary: props.PermissionsBoundary,
	})
	if len(props.Statements) > 0 {
		perms := NewPolicyDocument(node, "permissions", props.Statements...)
		iamrolepolicy.NewIamRolePolicy(node, jsii.String("policy"), &iamrolepolicy.IamRolePolicyConfig{
			Role: role.Id(), Policy: perms.Json(),
		})
	}
	for i, arn := range props.ManagedPolicyArns {
		iamrolepolicyattachment.NewIamRolePolicyAttachment(node, jsii.String(fmt.Sprintf("managed-%d", i)),
			&iamrolepolicyattachment.IamRolePolicyAttachmentConfig{Role: role.Name(), PolicyArn: jsii.String(arn)})
	}
	return &IrsaRole{
		RoleArn:    role.Arn(),
		RoleName:   role.Name(),
		Annotation: map[string]*string{"eks.amazonaws.com/role-arn": role.Arn()},
	}, nil
}

// IrsaConditions are the two trust conditions of an IRSA role; issuerHost
// is the issuer URL without its scheme.
func IrsaConditions(issuerHost, namespace, serviceAccount string) []Condition {
	return []Condition{
		{Test: "StringEquals", Variable: issuerHost + ":sub", Values: []string{"system:serviceaccount:" + namespace + ":" + serviceAccount}},
		{Test: "StringEquals", Variable: issuerHost + ":aud", Values: []string{StsAudience}},
	}
}

func (p *IrsaRoleProps) validate(id string) error {
	switch {
	case p == nil:
		return fmt.Errorf("%s: props are required", id)
	case p.RoleName == "" || len(p.RoleName) > 64:
		return fmt.Errorf("%s: roleName %q must be 1-64 characters", id, p.RoleName)
	case p.OidcProviderArn == nil || p.OidcIssuerURL == nil:
		return fmt.Errorf("%s: oidcProviderArn and oidcIssuerUrl are required (from the cluster stack)", id)
	case !k8sName.MatchString(p.Namespace):
		return fmt.Errorf("%s: namespace %q is not a Kubernetes name", id, p.Namespace)
	case !k8sName.MatchString(p.ServiceAccount):
		return fmt.Errorf("%s: serviceAccount %q is not a Kubernetes name; wildcards are not allowed", id, p.ServiceAccount)
	case len(p.Statements) == 0 && len(p.ManagedPolicyArns) == 0:
		return fmt.Errorf("%s: a role with no permissions is not needed; give statements or managedPolicyArns", id)
	}
	for i, s := range p.Statements {
		for _, a := range s.Actions {
			if a == "*" {
				return fmt.Errorf("%s: statements[%d] grants every action; list the actions the workload calls", id, i)
			}
		}
	}
	return nil
}
