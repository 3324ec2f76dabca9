package stacks

import (
	"fmt"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// DeviceRevocationPurpose names the operators' revocation role,
// "<org>-<env>-device-revocation".
const DeviceRevocationPurpose = "device-revocation"

// newRevocationRole creates the role operators assume (with MFA) to revoke
// device certificates. It lives in the human-deployed cicd stack, on "/"
// and without the workload boundary (which denies revocation to every role
// CI creates): CI can neither create, re-trust nor extend it. It is
// created before the identity stack, so it names the env's CAs by their
// Environment tag (set by CI only on create, on this env's CAs) and the
// device ledger by name.
func newRevocationRole(b *base) *string {
	account, region := *b.accountID(), b.cfg.Region
	ledgerArn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, account, b.names.DeviceLedgerTable())
	trust := sp.NewPolicyDocument(b.stack, "revocation-trust", sp.Statement{
		Sid: "OperatorsWithMFA", Actions: []string{"sts:AssumeRole"},
		Principals: []sp.Principal{{Type: "AWS", Identifiers: []string{"arn:aws:iam::" + account + ":root"}}},
		Conditions: []sp.Condition{{Test: "Bool", Variable: "aws:MultiFactorAuthPresent", Values: []string{"true"}}},
	})
	role := iamrole.NewIamRole(b.stack, jsii.String("revocation-role"), &iamrole.IamRoleConfig{
		Name: jsii.String(b.names.Role(DeviceRevocationPurpose)), AssumeRolePolicy: trust.Json(),
		Description:        jsii.String("Revokes device certificates of " + b.names.Prefix() + " (docs/edge-identity.md)"),
		MaxSessionDuration: jsii.Number(3600),
	})
	perms := sp.NewPolicyDocument(b.stack, "revocation-permissions",
		sp.Statement{Sid: "RevokeOnThisEnvsCAs", Actions: []string{"acm-pca:RevokeCertificate", "acm-pca:DescribeCertificateAuthority"},
			Resources:  []string{fmt.Sprintf("arn:aws:acm-pca:%s:%s:certificate-authority/*", region, account)},
			Conditions: []sp.Condition{{Test: "StringEquals", Variable: "aws:ResourceTag/Environment", Values: []string{b.cfg.Env}}}},
		sp.Statement{Sid: "ReadCohortSerials", Actions: []string{"dynamodb:Query", "dynamodb:GetItem"},
			Resources: []string{ledgerArn, ledgerArn + "/index/" + naming.DeviceLedgerCohortIndex}},
	)
	iamrolepolicy.NewIamRolePolicy(b.stack, jsii.String("revocation-policy"), &iamrolepolicy.IamRolePolicyConfig{Role: role.Id(), Policy: perms.Json()})
	return role.Arn()
}
