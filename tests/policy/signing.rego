# Signing keys: each asymmetric KMS key has exactly one signer.
# - the provenance key: the provenance gate (attestations; a second signer
#   could attest packs the gate never checked);
# - the CDN signing key: the CDN presigner (licensed-pack URLs);
# - the root CA key: the MFA-only PKI ceremony role (subordinate CAs).
# So an identity policy may grant kms:Sign only to those three roles, never
# on every key, and every SIGN_VERIFY key's own policy denies kms:Sign to
# every principal but one, so no IAM grant anywhere else can add a signer.
package spatialprops

import rego.v1

sign_actions := {"kms:Sign", "kms:Sign*", "kms:*", "*"}

signer_suffixes := {"-irsa-provenance-gate", "-irsa-cdn-presigner", "-pki-ceremony"}

grants_sign(st) if {
	object.get(st, "effect", "Allow") == "Allow"
	some a in object.get(st, "actions", [])
	a in sign_actions
}

signer_role(ref) if {
	some id, r in object.get(input, ["resource", "aws_iam_role"], {})
	ref == sprintf("${aws_iam_role.%v.id}", [id])
	some suffix in signer_suffixes
	endswith(r.name, suffix)
}

sign_statements contains [name, p, st] if {
	some name, p in object.get(input, ["resource", "aws_iam_role_policy"], {})
	some id, doc in object.get(input, ["data", "aws_iam_policy_document"], {})
	p.policy == sprintf("${data.aws_iam_policy_document.%v.json}", [id])
	some st in object.get(doc, "statement", [])
	grants_sign(st)
}

deny contains msg if {
	some [name, p, _] in sign_statements
	not signer_role(p.role)
	msg := sprintf("signing: aws_iam_role_policy.%v grants kms:Sign; only the provenance gate, the CDN presigner and the PKI ceremony role may sign, each with its own key", [name])
}

deny contains msg if {
	some [name, _, st] in sign_statements
	"*" in object.get(st, "resources", [])
	msg := sprintf("signing: aws_iam_role_policy.%v grants kms:Sign on every key; name the one key the role signs with", [name])
}

# A SIGN_VERIFY key's policy must deny kms:Sign to every principal whose ARN
# is not its one signer's.
one_signer(doc) if {
	some st in object.get(doc, "statement", [])
	st.effect == "Deny"
	"kms:Sign" in st.actions
	some p in st.principals
	"*" in p.identifiers
	some c in st.condition
	c.test == "ArnNotEquals"
	c.variable == "aws:PrincipalArn"
	count(c.values) == 1
}

deny contains msg if {
	some name, k in object.get(input, ["resource", "aws_kms_key"], {})
	object.get(k, "key_usage", "ENCRYPT_DECRYPT") == "SIGN_VERIFY"
	some id, doc in object.get(input, ["data", "aws_iam_policy_document"], {})
	k.policy == sprintf("${data.aws_iam_policy_document.%v.json}", [id])
	not one_signer(doc)
	msg := sprintf("signing: aws_kms_key.%v signs (SIGN_VERIFY) but its policy does not deny kms:Sign to every principal but one signer role", [name])
}
