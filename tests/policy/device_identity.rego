# Device identity (issue 11):
# - No device-certificate validity over 30 days can be configured. The
#   identity stack carries identity.deviceCertDays to the enrollment service
#   in the CA's DeviceCertDays tag; every private CA must carry it, as a
#   whole number from 1 to 30. An end-entity
#   certificate issued by Terraform itself (aws_acmpca_certificate with a
#   non-CA template) is held to the same limit.
# - The PKI bucket (spatial-pki-*) is never public: it has a public access
#   block with all four settings on, no ACL and no website hosting, and no
#   policy statement naming the anonymous principal lets anyone read it.
package spatialprops

import rego.v1

max_device_cert_days := 30

deny contains msg if {
	some name, ca in input.resource.aws_acmpca_certificate_authority
	v := object.get(ca, ["tags", "DeviceCertDays"], "missing")
	not valid_days(v)
	msg := sprintf("identity: aws_acmpca_certificate_authority.%v sets device certificate validity (tag DeviceCertDays) to %v; it must be a whole number of days from 1 to %v (identity.deviceCertDays)", [name, v, max_device_cert_days])
}

valid_days(v) if {
	regex.match(`^[0-9]+$`, sprintf("%v", [v]))
	n := to_number(sprintf("%v", [v]))
	n >= 1
	n <= max_device_cert_days
}

ca_template(t) if contains(t, "CACertificate")

deny contains msg if {
	some name, c in input.resource.aws_acmpca_certificate
	not ca_template(object.get(c, "template_arn", ""))
	too_long(c.validity)
	msg := sprintf("identity: aws_acmpca_certificate.%v is valid for %v %v; end-entity certificates may live at most %v days", [name, c.validity.value, c.validity.type, max_device_cert_days])
}

too_long(v) if {
	v.type == "DAYS"
	to_number(v.value) > max_device_cert_days
}

too_long(v) if v.type in {"MONTHS", "YEARS", "ABSOLUTE", "END_DATE"}

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
