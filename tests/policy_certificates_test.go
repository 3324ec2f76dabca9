package tests

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// certDoc is a stack holding one cert-manager Certificate with spec.
func certDoc(spec string) []byte {
	return []byte(stackDoc("prod-edge", fmt.Sprintf(`"resource":{"kubernetes_manifest":{"c":{"manifest":{
		"apiVersion":"cert-manager.io/v1","kind":"Certificate","metadata":{"name":"c","namespace":"edge-sync"},"spec":%s}}}}`, spec)))
}

const goodIssuer = `"issuerRef":{"name":"private-ca","kind":"AWSPCAClusterIssuer","group":"awspca.cert-manager.io"}`

// Each case breaks one rule of certificates.rego; the good one passes.
func TestCertificatePolicyFires(t *testing.T) {
	q := policies(t)
	assert.Empty(t, deny(t, q, certDoc(`{"secretName":"s","duration":"720h","renewBefore":"240h",`+goodIssuer+`}`)))
	cases := map[string]struct{ spec, want string }{
		"too long": {`{"duration":"2160h","renewBefore":"720h",` + goodIssuer + `}`,
			"certificates: kubernetes_manifest.c duration 2160h is over 720h (30 days)"},
		"renews too late": {`{"duration":"720h","renewBefore":"24h",` + goodIssuer + `}`,
			"certificates: kubernetes_manifest.c renewBefore 24h is not one third of duration 720h"},
		"no duration": {`{"renewBefore":"240h",` + goodIssuer + `}`,
			"certificates: kubernetes_manifest.c sets no duration; set duration <= 720h"},
		"other issuer": {`{"duration":"720h","renewBefore":"240h","issuerRef":{"name":"letsencrypt","kind":"ClusterIssuer"}}`,
			"certificates: kubernetes_manifest.c is not issued by the private CA (issuerRef AWSPCAClusterIssuer private-ca, group awspca.cert-manager.io)"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Contains(t, deny(t, q, certDoc(c.spec)), c.want)
		})
	}
}
