package tests

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCA is one CA of a stand-in hierarchy: root, device CA, service CA.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newTestCA(t *testing.T, cn string, parent *testCA) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	signer, issuer := key, tpl
	if parent != nil {
		signer, issuer = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, issuer, &key.PublicKey, signer)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// clientCert is a client-auth leaf from ca naming device (as a device
// certificate does, the URI SAN included).
func (ca *testCA) clientCert(t *testing.T, device string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	u, err := url.Parse("urn:spatial-properties:device:" + device)
	require.NoError(t, err)
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: device},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), URIs: []*url.URL{u},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert
}

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
	root := newTestCA(t, "spatialprops root CA", nil)
	device := newTestCA(t, "spatialprops device CA", root)
	service := newTestCA(t, "spatialprops service CA", root)
	known := map[string]string{
		"data.aws_acmpca_certificate_authority.device-ca.certificate":        device.pem,
		"data.aws_acmpca_certificate_authority.device-ca.certificate_chain":  root.pem,
		"data.aws_acmpca_certificate_authority.service-ca.certificate":       service.pem,
		"data.aws_acmpca_certificate_authority.service-ca.certificate_chain": root.pem,
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
			inter.AddCert(device.cert)
			inter.AddCert(service.cert)
			_, err := c.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
			return err
		}
		assert.NoError(t, verify(device.clientCert(t, "dev-0001")), "%s: a device certificate is admitted", env)
		assert.Error(t, verify(service.clientCert(t, "dev-0001")), "%s: a certificate from the service CA is refused, whatever it names", env)
		assert.Error(t, verify(root.clientCert(t, "dev-0001")), "%s: the root signs CAs only; a leaf from it is refused", env)
	}
}
