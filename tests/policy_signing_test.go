package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestSigningPolicyCatchesASecondSigner: tests/policy/signing.rego fires
// when any role but the three signers may kms:Sign, when a signer may sign
// with every key, and when a signing key's policy admits more than one
// signer; it stays quiet for the real signers.
func TestSigningPolicyCatchesASecondSigner(t *testing.T) {
	q := policies(t)
	doc := func(roleName, action, resource string) []byte {
		return []byte(stackDoc("prod-marketplace", `"data":{"aws_iam_policy_document":{"d":{"statement":[{"actions":["`+action+`"],"resources":["`+resource+`"]}]}}},
			"resource":{"aws_iam_role":{"r":{"name":"`+roleName+`"}},
			"aws_iam_role_policy":{"p":{"role":"${aws_iam_role.r.id}","policy":"${data.aws_iam_policy_document.d.json}"}}}`))
	}
	key := "arn:aws:kms:ap-southeast-2:111122223333:key/k"
	second := "signing: aws_iam_role_policy.p grants kms:Sign; only the provenance gate, the CDN presigner and the PKI ceremony role may sign, each with its own key"
	anyKey := "signing: aws_iam_role_policy.p grants kms:Sign on every key; name the one key the role signs with"
	assert.Contains(t, deny(t, q, doc("spatialprops-prod-irsa-marketplace-api", "kms:Sign", key)), second)
	assert.Contains(t, deny(t, q, doc("spatialprops-prod-irsa-marketplace-api", "kms:*", key)), second, "a wildcard signs too")
	for _, signer := range []string{"spatialprops-prod-irsa-provenance-gate", "spatialprops-prod-irsa-cdn-presigner", "spatialprops-prod-pki-ceremony"} {
		assert.NotContains(t, deny(t, q, doc(signer, "kms:Sign", key)), second, signer)
	}
	assert.Contains(t, deny(t, q, doc("spatialprops-prod-irsa-cdn-presigner", "kms:Sign", "*")), anyKey)
	assert.NotContains(t, deny(t, q, doc("spatialprops-prod-irsa-marketplace-api", "kms:Verify", key)), second)

	keyDoc := func(deny string) []byte {
		return []byte(stackDoc("prod-cdn", `"data":{"aws_iam_policy_document":{"kp":{"statement":[{"effect":"Allow","actions":["kms:*"],"resources":["*"]}`+deny+`]}}},
			"resource":{"aws_kms_key":{"k":{"key_usage":"SIGN_VERIFY","policy":"${data.aws_iam_policy_document.kp.json}"}}}`))
	}
	onlyOne := `,{"effect":"Deny","actions":["kms:Sign","kms:CreateGrant"],"resources":["*"],"principals":[{"type":"AWS","identifiers":["*"]}],
		"condition":[{"test":"ArnNotEquals","variable":"aws:PrincipalArn","values":["arn:aws:iam::111122223333:role/spatialprops-prod-irsa-cdn-presigner"]}]}`
	twoSigners := `,{"effect":"Deny","actions":["kms:Sign"],"resources":["*"],"principals":[{"type":"AWS","identifiers":["*"]}],
		"condition":[{"test":"ArnNotEquals","variable":"aws:PrincipalArn","values":["arn:aws:iam::111122223333:role/a","arn:aws:iam::111122223333:role/b"]}]}`
	want := "signing: aws_kms_key.k signs (SIGN_VERIFY) but its policy does not deny kms:Sign to every principal but one signer role"
	assert.Contains(t, deny(t, q, keyDoc("")), want, "a signing key that delegates Sign to IAM")
	assert.Contains(t, deny(t, q, keyDoc(twoSigners)), want)
	assert.NotContains(t, deny(t, q, keyDoc(onlyOne)), want)
}
