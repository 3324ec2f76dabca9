package tests

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// certDoc is a stack holding one cert-manager Certificate with spec.
func certDoc(spec string) []byte {
	return manifestDoc(`"apiVersion":"cert-manager.io/v1","kind":"Certificate","metadata":{"name":"c","namespace":"edge-sync"},"spec":` + spec)
}

// manifestDoc is a stack holding one kubernetes_manifest "c".
func manifestDoc(manifest string) []byte {
	return []byte(stackDoc("prod-edge", fmt.Sprintf(`"resource":{"kubernetes_manifest":{"c":{"manifest":{%s}}}}`, manifest)))
}

const goodIssuer = `"issuerRef":{"name":"service-ca","kind":"AWSPCAIssuer","group":"awspca.cert-manager.io"}`

// Each case breaks one rule of certificates.rego; the good one passes.
func TestCertificatePolicyFires(t *testing.T) {
	q := policies(t)
	assert.Empty(t, deny(t, q, certDoc(`{"secretName":"s","duration":"144h","renewBefore":"48h","usages":["client auth"],`+goodIssuer+`}`)))
	assert.Empty(t, deny(t, q, certDoc(`{"secretName":"s","duration":"144h","renewBefore":"48h","usages":["server auth","client auth"],`+goodIssuer+`}`)))
	cases := map[string]struct{ spec, want string }{
		"longer than the service CA issues": {`{"duration":"720h","renewBefore":"240h","usages":["client auth"],` + goodIssuer + `}`,
			"certificates: kubernetes_manifest.c duration 720h is over 168h (the service CA issues 7 days at most)"},
		"renews too late": {`{"duration":"144h","renewBefore":"24h","usages":["client auth"],` + goodIssuer + `}`,
			"certificates: kubernetes_manifest.c renewBefore 24h is not one third of duration 144h"},
		"no duration": {`{"renewBefore":"48h","usages":["client auth"],` + goodIssuer + `}`,
			"certificates: kubernetes_manifest.c sets no duration; set duration <= 168h"},
		"the old cluster-wide issuer": {`{"duration":"144h","renewBefore":"48h","usages":["client auth"],"issuerRef":{"name":"private-ca","kind":"AWSPCAClusterIssuer","group":"awspca.cert-manager.io"}}`,
			"certificates: kubernetes_manifest.c is not issued by its namespace's service CA issuer (issuerRef AWSPCAIssuer service-ca, group awspca.cert-manager.io)"},
		"extra key usages pick the CSR-passthrough template": {`{"duration":"144h","renewBefore":"48h","usages":["client auth","digital signature"],` + goodIssuer + `}`,
			`certificates: kubernetes_manifest.c usages ["client auth", "digital signature"] do not select an end-entity template; use client auth, server auth, or both, and nothing else`},
		"a CA": {`{"duration":"144h","renewBefore":"48h","usages":["client auth"],"isCA":true,` + goodIssuer + `}`,
			"certificates: kubernetes_manifest.c asks for a CA certificate"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Contains(t, deny(t, q, certDoc(c.spec)), c.want)
		})
	}
	assert.Contains(t, deny(t, q, manifestDoc(`"apiVersion":"awspca.cert-manager.io/v1beta1","kind":"AWSPCAClusterIssuer","metadata":{"name":"private-ca"},"spec":{}`)),
		"certificates: kubernetes_manifest.c is a cluster-wide AWSPCAClusterIssuer; give each namespace that needs certificates its own AWSPCAIssuer service-ca")
}

// requestPolicy is an approver-policy CertificateRequestPolicy for ns
// allowing uris.
func requestPolicy(ns, uris string) []byte {
	return manifestDoc(`"apiVersion":"policy.cert-manager.io/v1alpha1","kind":"CertificateRequestPolicy","metadata":{"name":"p"},
		"spec":{"allowed":{"isCA":false,"usages":["client auth"],"uris":{"values":[` + uris + `]}},
		"selector":{"issuerRef":` + `{"name":"service-ca","kind":"AWSPCAIssuer","group":"awspca.cert-manager.io"}` + `,"namespace":{"matchNames":["` + ns + `"]}}}`)
}

// A workload namespace may never be allowed to request a privileged NATS
// identity or a device identity; edge-nats may.
func TestRequestPolicyKeepsPrivilegedIdentitiesInEdgeNATS(t *testing.T) {
	q := policies(t)
	assert.Empty(t, deny(t, q, requestPolicy("edge-sync", `"urn:spatial-properties:nats-user:dtn-gateway"`)))
	assert.Empty(t, deny(t, q, requestPolicy("edge-nats", `"urn:spatial-properties:nats-user:system"`)))
	for _, uri := range []string{"urn:spatial-properties:nats-user:system", "urn:spatial-properties:nats-route",
		"urn:spatial-properties:device:dev-1", "urn:spatial-properties:nats-user:*"} {
		assert.Contains(t, deny(t, q, requestPolicy("edge-sync", `"`+uri+`"`)),
			"certificates: CertificateRequestPolicy kubernetes_manifest.c lets namespace edge-sync request "+uri+", an identity only edge-nats may hold", uri)
	}
}
