# Device identity and the CA hierarchy (issues 11, 22):
# - The CA hierarchy's root is the offline KMS key; ACM PCA holds only
#   subordinates (type SUBORDINATE), each marked CAPurpose device or service,
#   and Terraform issues no certificate at all (no aws_acmpca_certificate:
#   the PKI ceremony signs the subordinates, the enrollment service and
#   cert-manager issue leaves).
# - The service CA runs in short-lived mode (in-cluster certificates renew
#   every few days); the device CA carries identity.deviceCertDays to the
#   enrollment service in its DeviceCertDays tag, a whole number of days
#   from 1 to 30, and at most 7 when the device CA runs in short-lived mode
#   (ACM PCA would refuse anything longer).
# - The PKI bucket (spatial-pki-*) is never public: it has a public access
#   block with all four settings on, no ACL and no website hosting, and no
#   policy statement naming the anonymous principal lets anyone read it.
package spatialprops

import rego.v1

max_device_cert_days := 30

max_short_lived_days := 7

deny contains msg if {
	some name, ca in input.resource.aws_acmpca_certificate_authority
	object.get(ca, "type", "ROOT") != "SUBORDINATE"
	msg := sprintf("identity: aws_acmpca_certificate_authority.%v is a %v CA; the root is the offline KMS key, ACM PCA holds subordinates only", [name, object.get(ca, "type", "ROOT")])
}

deny contains msg if {
	some name, ca in input.resource.aws_acmpca_certificate_authority
	not object.get(ca, ["tags", "CAPurpose"], "") in {"device", "service"}
	msg := sprintf("identity: aws_acmpca_certificate_authority.%v has no CAPurpose tag device or service", [name])
}

deny contains msg if {
	some name, ca in input.resource.aws_acmpca_certificate_authority
	ca.tags.CAPurpose == "service"
	object.get(ca, "usage_mode", "GENERAL_PURPOSE") != "SHORT_LIVED_CERTIFICATE"
	msg := sprintf("identity: aws_acmpca_certificate_authority.%v is the service CA but not in SHORT_LIVED_CERTIFICATE mode", [name])
}

device_days_limit(ca) := max_short_lived_days if ca.usage_mode == "SHORT_LIVED_CERTIFICATE"

device_days_limit(ca) := max_device_cert_days if object.get(ca, "usage_mode", "GENERAL_PURPOSE") != "SHORT_LIVED_CERTIFICATE"

deny contains msg if {
	some name, ca in input.resource.aws_acmpca_certificate_authority
	ca.tags.CAPurpose == "device"
	v := object.get(ca, ["tags", "DeviceCertDays"], "missing")
	limit := device_days_limit(ca)
	not valid_days(v, limit)
	msg := sprintf("identity: aws_acmpca_certificate_authority.%v sets device certificate validity (tag DeviceCertDays) to %v; with usage mode %v it must be a whole number of days from 1 to %v (identity.deviceCertDays)", [name, v, object.get(ca, "usage_mode", "GENERAL_PURPOSE"), limit])
}

valid_days(v, limit) if {
	regex.match(`^[0-9]+$`, sprintf("%v", [v]))
	n := to_number(sprintf("%v", [v]))
	n >= 1
	n <= limit
}

deny contains msg if {
	some name, _ in object.get(input, ["resource", "aws_acmpca_certificate"], {})
	msg := sprintf("identity: aws_acmpca_certificate.%v issues a certificate from Terraform; CA certificates come from the PKI ceremony, leaves from enrollment and cert-manager", [name])
}

pki_bucket(name) if {
	b := input.resource.aws_s3_bucket[name]
	startswith(b.bucket, "spatial-pki-")
}

pki_ref(name) := sprintf("${aws_s3_bucket.%v.id}", [name])

fully_blocked(name) if {
	some pab in input.resource.aws_s3_bucket_public_access_block
	pab.bucket == pki_ref(name)
	pab.block_public_acls == true
	pab.block_public_policy == true
	pab.ignore_public_acls == true
	pab.restrict_public_buckets == true
}

deny contains msg if {
	some name, _ in input.resource.aws_s3_bucket
	pki_bucket(name)
	not fully_blocked(name)
	msg := sprintf("identity: PKI bucket %v lacks a public access block with all four settings on; serve the CRL through CloudFront OAC instead", [name])
}

deny contains msg if {
	some name, _ in input.resource.aws_s3_bucket
	pki_bucket(name)
	some type in {"aws_s3_bucket_acl", "aws_s3_bucket_website_configuration"}
	some r in input.resource[type]
	r.bucket == pki_ref(name)
	msg := sprintf("identity: PKI bucket %v has an %v; it must stay private", [name, type])
}

deny contains msg if {
	some name, _ in input.resource.aws_s3_bucket
	pki_bucket(name)
	some pol in input.resource.aws_s3_bucket_policy
	pol.bucket == pki_ref(name)
	some doc_name
	pol.policy == sprintf("${data.aws_iam_policy_document.%v.json}", [doc_name])
	some st in object.get(input.data.aws_iam_policy_document[doc_name], "statement", [])
	object.get(st, "effect", "Allow") == "Allow"
	some p in object.get(st, "principals", [])
	"*" in p.identifiers
	msg := sprintf("identity: PKI bucket %v's policy allows the anonymous principal", [name])
}
