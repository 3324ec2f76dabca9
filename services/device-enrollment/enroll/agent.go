package enroll

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"net/url"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// The device side of the protocol, for agents and tests.

// CSR is the request a device sends for its own identity: CN = device,
// OU = cohort, one URI SAN edge.DeviceURISAN(device). It returns the PEM
// and the DER (what a renewal proof signs).
func CSR(key crypto.Signer, device, cohort string) (string, []byte, error) {
	san, err := url.Parse(edge.DeviceURISAN(device))
	if err != nil {
		return "", nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: device, OrganizationalUnit: []string{cohort}}, URIs: []*url.URL{san},
	}, key)
	if err != nil {
		return "", nil, err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), der, nil
}

// Proof is the renewal proof: the current key's signature over
// ProofDigest(csrDER), base64.
func Proof(current crypto.Signer, csrDER []byte) (string, error) {
	sig, err := current.Sign(rand.Reader, ProofDigest(csrDER), crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}
