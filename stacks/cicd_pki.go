package stacks

import (
	"fmt"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmsalias"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmskey"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// The offline root CA's KMS key: ECDSA P-384, signing only. A root outlives
// every subordinate, so it gets the larger curve; every verifier we run
// (Go, the ALB, OpenSSL) accepts it.
const (
	RootKeySpec          = "ECC_NIST_P384"
	RootSigningAlgorithm = "ECDSA_SHA_384"
	RootKeyUsage         = "SIGN_VERIFY"
	CeremonyRolePurpose  = "pki-ceremony"
)

// newPKIRoot creates the environment's offline root CA (a non-exportable
// KMS key) and the MFA-only role that signs with it, `spctl pki ceremony`
// (internal/ops/pki). Both live in this human-deployed stack, not in the
// identity stack: CI may maintain keys tagged with its env (PutKeyPolicy
// included) and the roles on the workload path, so a root it created could
// be made to sign for it. Here the role is on "/" (CI's guardrails deny
// every role write there) and the key's own policy refuses CI and every
// workload role anything but reading it, whatever their IAM policies say.
func newPKIRoot(b *base) (keyArn, roleArn *string) {
	account := *b.accountID()
	ceremonyArn := fmt.Sprintf("arn:aws:iam::%s:role/%s", account, b.names.PKICeremonyRole())
	key := newRootCAKey(b, account, ceremonyArn)
	role := newCeremonyRole(b, account, *key.Arn())
	return key.Arn(), role
}

// newRootCAKey creates the root's private key. Its policy delegates
// administration to IAM like every key here (the person deploying this
// stack), then denies: anything but reading it to CI's GitHub roles and to
// every role CI creates (the workload path); kms:Sign and grants to every
// principal but the ceremony role; Sign without MFA to anyone. Asymmetric
// keys do not rotate: replacing the root is a new key, a new root
// certificate and a new ceremony (docs/edge-identity.md).
func newRootCAKey(b *base, account, ceremonyArn string) kmskey.KmsKey {
	policy := sp.NewPolicyDocument(b.stack, "root-ca-key-policy",
		sp.Statement{
			Sid: "EnableIamPolicies", Actions: []string{"kms:*"}, Resources: []string{"*"},
			Principals: []sp.Principal{{Type: "AWS", Identifiers: []string{"arn:aws:iam::" + account + ":root"}}},
		},
		sp.Statement{
			Sid: "CIOnlyReads", Effect: "Deny", NotActions: []string{"kms:Describe*", "kms:Get*", "kms:List*"}, Resources: []string{"*"},
			Principals: []sp.Principal{{Type: "AWS", Identifiers: []string{"*"}}},
			Conditions: []sp.Condition{{Test: "ArnLike", Variable: "aws:PrincipalArn", Values: []string{
				"arn:aws:iam::" + account + ":role/*-gha-*",
				"arn:aws:iam::" + account + ":role" + naming.WorkloadRolePath + "*",
			}}},
		},
		sp.Statement{
			Sid: "OnlyTheCeremonyRoleSigns", Effect: "Deny", Actions: []string{"kms:Sign", "kms:CreateGrant"}, Resources: []string{"*"},
			Principals: []sp.Principal{{Type: "AWS", Identifiers: []string{"*"}}},
			Conditions: []sp.Condition{{Test: "ArnNotEquals", Variable: "aws:PrincipalArn", Values: []string{ceremonyArn}}},
		},
		sp.Statement{
			Sid: "SignOnlyWithMFA", Effect: "Deny", Actions: []string{"kms:Sign"}, Resources: []string{"*"},
			Principals: []sp.Principal{{Type: "AWS", Identifiers: []string{"*"}}},
			Conditions: []sp.Condition{{Test: "BoolIfExists", Variable: "aws:MultiFactorAuthPresent", Values: []string{"false"}}},
		},
	)
	key := kmskey.NewKmsKey(b.stack, jsii.String("root-ca-key"), &kmskey.KmsKeyConfig{
		Description:           jsii.String("Offline root CA of " + b.names.Prefix() + " (" + RootKeySpec + "; signs the device and service CA certificates only)"),
		CustomerMasterKeySpec: jsii.String(RootKeySpec),
		KeyUsage:              jsii.String(RootKeyUsage),
		DeletionWindowInDays:  jsii.Number(sp.KmsKeyDeletionWindowDays),
		Policy:                policy.Json(),
		Lifecycle:             sp.Lifecycle(b.cfg.Protect()),
	})
	kmsalias.NewKmsAlias(b.stack, jsii.String("root-ca-key-alias"), &kmsalias.KmsAliasConfig{
		Name: jsii.String(b.names.PKIRootKeyAlias()), TargetKeyId: key.KeyId(),
	})
	return key
}

// newCeremonyRole is the only principal that may sign with the root key.
// People assume it with MFA to run `spctl pki ceremony`: read each
// subordinate CA's CSR, sign it with the root key, install the certificate,
// and write the NATS auth callout's account key once. It can do nothing
// else: no issuing, no revoking, no key administration. The CAs do not
// exist yet when this stack is deployed, so it names them as the
// revocation role does: this env's (Environment tag) subordinate CAs
// (CAPurpose tag, set by the identity stack).
func newCeremonyRole(b *base, account, rootKeyArn string) *string {
	region := b.cfg.Region
	cas := fmt.Sprintf("arn:aws:acm-pca:%s:%s:certificate-authority/*", region, account)
	return newOperatorRole(b, "pki-ceremony", b.names.PKICeremonyRole(),
		"Signs the device and service CA certificates of "+b.names.Prefix()+" with the offline root key (spctl pki ceremony)",
		sp.Statement{Sid: "SignWithTheRootKey", Actions: []string{"kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"}, Resources: []string{rootKeyArn}},
		sp.Statement{Sid: "InstallSubordinateCertificates", Actions: []string{
			"acm-pca:DescribeCertificateAuthority", "acm-pca:GetCertificateAuthorityCsr",
			"acm-pca:GetCertificateAuthorityCertificate", "acm-pca:ImportCertificateAuthorityCertificate", "acm-pca:ListTags",
		}, Resources: []string{cas}, Conditions: []sp.Condition{
			{Test: "StringEquals", Variable: "aws:ResourceTag/Environment", Values: []string{b.cfg.Env}},
			{Test: "StringEquals", Variable: "aws:ResourceTag/" + naming.CAPurposeTag, Values: []string{naming.DeviceCAPurpose, naming.ServiceCAPurpose}},
		}},
		// ListCertificateAuthorities has no resource type; the ceremony
		// picks this env's CAs by common name and CAPurpose tag.
		sp.Statement{Sid: "FindTheCAs", Actions: []string{"acm-pca:ListCertificateAuthorities"}, Resources: []string{"*"}},
		// The NATS callout's account key: written once (a value exists, the
		// ceremony leaves it alone); never read back.
		sp.Statement{Sid: "WriteTheNATSCalloutKey", Actions: []string{"secretsmanager:DescribeSecret", "secretsmanager:PutSecretValue"},
			Resources: []string{fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-??????", region, account, b.names.Secret(naming.NATSAuthCalloutSecret))}},
	)
}
