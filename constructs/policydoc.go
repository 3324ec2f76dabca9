package constructs

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsiampolicydocument"
)

// Statement is one typed IAM policy statement. Values may be CDKTF tokens
// (e.g. a bucket ARN from another resource).
type Statement struct {
	Sid     string
	Effect  string // "Allow" (default) or "Deny"
	Actions []string
	// NotActions, when set instead of Actions, applies the statement to
	// every action except these (used for denies that leave reads alone).
	NotActions []string
	Resources  []string
	// NotResources, when set, applies the statement to every resource
	// except these (used for denies with a carve-out).
	NotResources []string
	Principals   []Principal
	Conditions   []Condition
}

// Principal names who a resource or trust policy applies to.
type Principal struct {
	Type        string // AWS, Service, Federated
	Identifiers []string
}

// Condition is one IAM condition block, e.g. StringEquals aws:SourceArn.
type Condition struct {
	Test     string
	Variable string
	Values   []string
}

// NewPolicyDocument renders statements through the provider's
// aws_iam_policy_document data source, so policies are typed values checked
// by Terraform rather than concatenated JSON strings.
func NewPolicyDocument(scope constructs.Construct, id string, statements ...Statement) dataawsiampolicydocument.DataAwsIamPolicyDocument {
	out := make([]*dataawsiampolicydocument.DataAwsIamPolicyDocumentStatement, 0, len(statements))
	for _, s := range statements {
		effect := s.Effect
		if effect == "" {
			effect = "Allow"
		}
		st := &dataawsiampolicydocument.DataAwsIamPolicyDocumentStatement{Effect: jsii.String(effect)}
		if len(s.NotActions) > 0 {
			st.NotActions = jsii.Strings(s.NotActions...)
		} else {
			st.Actions = jsii.Strings(s.Actions...)
		}
		if s.Sid != "" {
			st.Sid = jsii.String(s.Sid)
		}
		if len(s.Resources) > 0 {
			st.Resources = jsii.Strings(s.Resources...)
		}
		if len(s.NotResources) > 0 {
			st.NotResources = jsii.Strings(s.NotResources...)
		}
		if len(s.Principals) > 0 {
			ps := make([]*dataawsiampolicydocument.DataAwsIamPolicyDocumentStatementPrincipals, 0, len(s.Principals))
			for _, p := range s.Principals {
				ps = append(ps, &dataawsiampolicydocument.DataAwsIamPolicyDocumentStatementPrincipals{
					Type: jsii.String(p.Type), Identifiers: jsii.Strings(p.Identifiers...),
				})
			}
			st.Principals = &ps
		}
		if len(s.Conditions) > 0 {
			cs := make([]*dataawsiampolicydocument.DataAwsIamPolicyDocumentStatementCondition, 0, len(s.Conditions))
			for _, c := range s.Conditions {
				cs = append(cs, &dataawsiampolicydocument.DataAwsIamPolicyDocumentStatementCondition{
					Test: jsii.String(c.Test), Variable: jsii.String(c.Variable), Values: jsii.Strings(c.Values...),
				})
			}
			st.Condition = &cs
		}
		out = append(out, st)
	}
	return dataawsiampolicydocument.NewDataAwsIamPolicyDocument(scope, jsii.String(id),
		&dataawsiampolicydocument.DataAwsIamPolicyDocumentConfig{Statement: &out})
}

// DenyInsecureTransport is the statement every bucket policy starts with:
// any request that is not over TLS is refused, whoever sends it.
func DenyInsecureTransport(bucketArn string) Statement {
	return Statement{
		Sid:        "DenyInsecureTransport",
		Effect:     "Deny",
		Actions:    []string{"s3:*"},
		Resources:  []string{bucketArn, bucketArn + "/*"},
		Principals: []Principal{{Type: "*", Identifiers: []string{"*"}}},
		Conditions: []Condition{{Test: "Bool", Variable: "aws:SecureTransport", Values: []string{"false"}}},
	}
}
