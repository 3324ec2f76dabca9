# Certificates: every cert-manager Certificate is issued by the private CA
# (AWSPCAClusterIssuer private-ca), lives at most 30 days (720h) and renews
# at one third of its lifetime, so rotation needs no human and a failed
# renewal leaves a third of the lifetime to notice.
package spatialprops

import rego.v1

max_certificate_ns := 720 * 3600 * 1000000000

certificates contains [name, m] if {
	some name, r in object.get(input, ["resource", "kubernetes_manifest"], {})
	m := r.manifest
	m.kind == "Certificate"
	startswith(m.apiVersion, "cert-manager.io/")
}

deny contains msg if {
	some [name, m] in certificates
	not m.spec.duration
	msg := sprintf("certificates: kubernetes_manifest.%v sets no duration; set duration <= 720h", [name])
}

deny contains msg if {
	some [name, m] in certificates
	time.parse_duration_ns(m.spec.duration) > max_certificate_ns
	msg := sprintf("certificates: kubernetes_manifest.%v duration %v is over 720h (30 days)", [name, m.spec.duration])
}

deny contains msg if {
	some [name, m] in certificates
	d := time.parse_duration_ns(m.spec.duration)
	rb := time.parse_duration_ns(object.get(m.spec, "renewBefore", "0s"))
	rb * 3 != d
	msg := sprintf("certificates: kubernetes_manifest.%v renewBefore %v is not one third of duration %v", [name, object.get(m.spec, "renewBefore", "unset"), m.spec.duration])
}

deny contains msg if {
	some [name, m] in certificates
	ref := object.get(m.spec, "issuerRef", {})
	not private_ca_issuer(ref)
	msg := sprintf("certificates: kubernetes_manifest.%v is not issued by the private CA (issuerRef AWSPCAClusterIssuer private-ca, group awspca.cert-manager.io)", [name])
}

private_ca_issuer(ref) if {
	ref.name == "private-ca"
	ref.kind == "AWSPCAClusterIssuer"
	ref.group == "awspca.cert-manager.io"
}
