# Certificates and who may request them (in-cluster mTLS trusts the service
# CA only, and nothing a workload namespace can request may name a
# privileged identity):
# - every cert-manager Certificate is issued by its namespace's AWSPCAIssuer
#   "service-ca" (there is no cluster-wide issuer: AWSPCAClusterIssuer and
#   ClusterIssuer objects are refused), lives at most 168h (the service CA
#   runs in short-lived mode, 7 days at most) and renews at one third of its
#   lifetime, asks for exactly the usages that select an end-entity template
#   (client auth, server auth, or both) and is never a CA;
# - every approver-policy CertificateRequestPolicy selects exactly one
#   namespace and the service-CA issuer, forbids CAs, and outside edge-nats
#   never allows the NATS system, stream-admin or callout user, the route
#   identity, or a device identity.
package spatialprops

import rego.v1

max_certificate_ns := 168 * 3600 * 1000000000

manifests contains [name, m] if {
	some name, r in object.get(input, ["resource", "kubernetes_manifest"], {})
	m := r.manifest
}

certificates contains [name, m] if {
	some [name, m] in manifests
	m.kind == "Certificate"
	startswith(m.apiVersion, "cert-manager.io/")
}

deny contains msg if {
	some [name, m] in manifests
	m.kind in {"AWSPCAClusterIssuer", "ClusterIssuer"}
	msg := sprintf("certificates: kubernetes_manifest.%v is a cluster-wide %v; give each namespace that needs certificates its own AWSPCAIssuer service-ca", [name, m.kind])
}

deny contains msg if {
	some [name, m] in certificates
	not m.spec.duration
	msg := sprintf("certificates: kubernetes_manifest.%v sets no duration; set duration <= 168h", [name])
}

deny contains msg if {
	some [name, m] in certificates
	time.parse_duration_ns(m.spec.duration) > max_certificate_ns
	msg := sprintf("certificates: kubernetes_manifest.%v duration %v is over 168h (the service CA issues 7 days at most)", [name, m.spec.duration])
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
	not service_ca_issuer(ref)
	msg := sprintf("certificates: kubernetes_manifest.%v is not issued by its namespace's service CA issuer (issuerRef AWSPCAIssuer service-ca, group awspca.cert-manager.io)", [name])
}

service_ca_issuer(ref) if {
	ref.name == "service-ca"
	ref.kind == "AWSPCAIssuer"
	ref.group == "awspca.cert-manager.io"
}

end_entity_usages := {{"client auth"}, {"server auth"}, {"client auth", "server auth"}}

deny contains msg if {
	some [name, m] in certificates
	usages := {u | some u in object.get(m.spec, "usages", [])}
	not usages in end_entity_usages
	msg := sprintf("certificates: kubernetes_manifest.%v usages %v do not select an end-entity template; use client auth, server auth, or both, and nothing else", [name, object.get(m.spec, "usages", [])])
}

deny contains msg if {
	some [name, m] in certificates
	object.get(m.spec, "isCA", false) == true
	msg := sprintf("certificates: kubernetes_manifest.%v asks for a CA certificate", [name])
}

request_policies contains [name, m] if {
	some [name, m] in manifests
	m.kind == "CertificateRequestPolicy"
}

deny contains msg if {
	some [name, m] in request_policies
	count(object.get(m.spec, ["selector", "namespace", "matchNames"], [])) != 1
	msg := sprintf("certificates: CertificateRequestPolicy kubernetes_manifest.%v must select exactly one namespace", [name])
}

deny contains msg if {
	some [name, m] in request_policies
	not service_ca_issuer(object.get(m.spec, ["selector", "issuerRef"], {}))
	msg := sprintf("certificates: CertificateRequestPolicy kubernetes_manifest.%v must select the service CA issuer", [name])
}

deny contains msg if {
	some [name, m] in request_policies
	object.get(m.spec, ["allowed", "isCA"], true) != false
	msg := sprintf("certificates: CertificateRequestPolicy kubernetes_manifest.%v must set allowed.isCA false", [name])
}

privileged_uri(u) if u in {
	"urn:spatial-properties:nats-user:system",
	"urn:spatial-properties:nats-user:stream-admin",
	"urn:spatial-properties:nats-user:auth-callout",
	"urn:spatial-properties:nats-route",
}

privileged_uri(u) if startswith(u, "urn:spatial-properties:device:")

privileged_uri(u) if contains(u, "*")

deny contains msg if {
	some [name, m] in request_policies
	ns := m.spec.selector.namespace.matchNames[0]
	ns != "edge-nats"
	some u in object.get(m.spec, ["allowed", "uris", "values"], [])
	privileged_uri(u)
	msg := sprintf("certificates: CertificateRequestPolicy kubernetes_manifest.%v lets namespace %v request %v, an identity only edge-nats may hold", [name, ns, u])
}
