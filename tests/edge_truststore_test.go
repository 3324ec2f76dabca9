package tests

import (
	"crypto/x509"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/testpki"
)

// caRef is a CA data source attribute in a Terraform expression.
var caRef = regexp.MustCompile(`data\.aws_acmpca_certificate_authority\.[a-z-]+\.certificate(_chain)?`)

// GIVEN the device trust store's CA bundle as every env's edge stack writes
// it, with the identity stack's CA certificates standing in for the data
// sources it reads WHEN the ALB verifies a client (verify mode: the chain
// must end at a certificate of the bundle) THEN a device certificate from
// the device CA is admitted, and one from the service CA (or from the root
// directly) is refused. A bundle that also held the root or the service
// CA would admit certificates any in-cluster workload can hold.
func TestALBTrustStoreAdmitsOnlyDeviceCACertificates(t *testing.T) {
	root := testpki.NewCA(t, "spatialprops root CA", nil)
	device := testpki.NewCA(t, "spatialprops device CA", root)
	service := testpki.NewCA(t, "spatialprops service CA", root)
	known := map[string]string{
		"data.aws_acmpca_certificate_authority.device-ca.certificate":        device.PEM(),
		"data.aws_acmpca_certificate_authority.device-ca.certificate_chain":  root.PEM(),
		"data.aws_acmpca_certificate_authority.service-ca.certificate":       service.PEM(),
		"data.aws_acmpca_certificate_authority.service-ca.certificate_chain": root.PEM(),
	}
	for _, env := range iamEnvs {
		doc := stack(t, env+"-edge").Doc
		store := doc.Get("resource.aws_lb_trust_store.device-trust-store")
		require.True(t, store.Exists(), env)
		object := doc.Get("resource.aws_s3_object.device-ca-bundle")
		require.Equal(t, "${aws_s3_object.device-ca-bundle.key}", store.Get("ca_certificates_bundle_s3_key").String(), "%s: the store reads this object", env)
		// The content is one Terraform expression (a reference, or a
		// join of references): the bundle is every CA certificate it reads.
		content := object.Get("content").String()
		require.Regexp(t, `^\$\{[^}]*\}$`, content, "%s: the bundle is built from the CA data sources, not pasted", env)
		bundle := ""
		for _, ref := range caRef.FindAllString(content, -1) {
			cert, ok := known[ref]
			require.True(t, ok, "%s: the bundle reads %s, which this test has no certificate for", env, ref)
			bundle += cert
		}
		require.Regexp(t, `^\$\{(join\("\\n", \[[ ,]*\]\))?\}$`, caRef.ReplaceAllString(content, ""),
			"%s: the bundle expression reads nothing but the CAs' certificates: %s", env, content)
		pool := x509.NewCertPool()
		require.True(t, pool.AppendCertsFromPEM([]byte(bundle)), "%s: the bundle is PEM certificates", env)
		verify := func(c *x509.Certificate) error {
			// the client sends its certificate and the CAs above it
			inter := x509.NewCertPool()
			inter.AddCert(device.Cert)
			inter.AddCert(service.Cert)
			_, err := c.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
			return err
		}
		assert.NoError(t, verify(device.ClientCert(t, "dev-0001", "urn:spatial-properties:device:dev-0001")), "%s: a device certificate is admitted", env)
		assert.Error(t, verify(service.ClientCert(t, "dev-0001", "urn:spatial-properties:device:dev-0001")), "%s: a certificate from the service CA is refused, whatever it names", env)
		assert.Error(t, verify(root.ClientCert(t, "dev-0001", "urn:spatial-properties:device:dev-0001")), "%s: the root signs CAs only; a leaf from it is refused", env)
	}
}
