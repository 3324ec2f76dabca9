package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestProvenancePolicyCatchesASecondSigner: tests/policy/provenance.rego
// fires when any role but the provenance gate's may kms:Sign, and stays
// quiet for the gate itself.
func TestProvenancePolicyCatchesASecondSigner(t *testing.T) {
	q := policies(t)
	doc := func(roleName, action string) []byte {
		return []byte(stackDoc("prod-marketplace", `"data":{"aws_iam_policy_document":{"d":{"statement":[{"actions":["`+action+`"],"resources":["arn:aws:kms:ap-southeast-2:111122223333:key/k"]}]}}},
			"resource":{"aws_iam_role":{"r":{"name":"`+roleName+`"}},
			"aws_iam_role_policy":{"p":{"role":"${aws_iam_role.r.id}","policy":"${data.aws_iam_policy_document.d.json}"}}}`))
	}
	want := "provenance: aws_iam_role_policy.p grants kms:Sign; only the provenance gate's role (<org>-<env>-irsa-provenance-gate) may sign attestations"
	assert.Contains(t, deny(t, q, doc("spatialprops-prod-irsa-marketplace-api", "kms:Sign")), want)
	assert.Contains(t, deny(t, q, doc("spatialprops-prod-irsa-marketplace-api", "kms:*")), want, "a wildcard signs too")
	assert.NotContains(t, deny(t, q, doc("spatialprops-prod-irsa-provenance-gate", "kms:Sign")), want)
	assert.NotContains(t, deny(t, q, doc("spatialprops-prod-irsa-marketplace-api", "kms:Verify")), want)
}
