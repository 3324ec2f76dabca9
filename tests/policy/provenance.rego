# Provenance gate: nothing is published to the marketplace without an
# attestation signed by the provenance key, so only the provenance gate's
# role (<org>-<env>-irsa-provenance-gate) may hold kms:Sign. A second
# signer could attest packs the gate never checked.
package spatialprops

import rego.v1

sign_actions := {"kms:Sign", "kms:Sign*", "kms:*", "*"}

grants_sign(st) if {
	object.get(st, "effect", "Allow") == "Allow"
	some a in object.get(st, "actions", [])
	a in sign_actions
}

provenance_gate_role(ref) if {
	some id, r in object.get(input, ["resource", "aws_iam_role"], {})
	ref == sprintf("${aws_iam_role.%v.id}", [id])
	endswith(r.name, "-irsa-provenance-gate")
}

deny contains msg if {
	some name, p in object.get(input, ["resource", "aws_iam_role_policy"], {})
	some id, doc in object.get(input, ["data", "aws_iam_policy_document"], {})
	p.policy == sprintf("${data.aws_iam_policy_document.%v.json}", [id])
	some st in object.get(doc, "statement", [])
	grants_sign(st)
	not provenance_gate_role(p.role)
	msg := sprintf("provenance: aws_iam_role_policy.%v grants kms:Sign; only the provenance gate's role (<org>-<env>-irsa-provenance-gate) may sign attestations", [name])
}
