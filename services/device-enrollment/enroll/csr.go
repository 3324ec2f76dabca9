package enroll

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// CheckCSR parses a PEM certificate signing request and refuses it unless
// it asks for exactly the device's own identity: a valid self-signature,
// subject CN = device and OU = cohort and nothing else, and SANs that are
// exactly one URI edge.DeviceURISAN(device) (no DNS name, IP address,
// e-mail or second URI). The key must be ECDSA P-256/P-384 or RSA >= 2048.
func CheckCSR(pemText, device, cohort string) (*x509.CertificateRequest, error) {
	block, rest := pem.Decode([]byte(pemText))
	if block == nil || block.Type != "CERTIFICATE REQUEST" || len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("csr must be exactly one PEM block of type CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("csr: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("csr signature does not verify: %w", err)
	}
	var uris []string
	for _, u := range csr.URIs {
		uris = append(uris, u.String())
	}
	id, err := edge.DeviceSANs(csr.DNSNames, csr.EmailAddresses, len(csr.IPAddresses), uris)
	if err != nil {
		return nil, err
	}
	if id != device {
		return nil, fmt.Errorf("%w (the CSR names device %q, the request is for %q)", edge.ErrSANNotDevice, id, device)
	}
	if csr.Subject.CommonName != device {
		return nil, fmt.Errorf("csr subject CN %q must be the device id %q", csr.Subject.CommonName, device)
	}
	if len(csr.Subject.OrganizationalUnit) != 1 || csr.Subject.OrganizationalUnit[0] != cohort {
		return nil, fmt.Errorf("csr subject OU %v must be exactly the device's cohort %q", csr.Subject.OrganizationalUnit, cohort)
	}
	if len(csr.Subject.Names) != 2 {
		return nil, fmt.Errorf("csr subject %q must carry only CN and OU", csr.Subject.String())
	}
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return nil, errors.New("csr key must be ECDSA P-256 or P-384, or RSA of 2048 bits or more")
		}
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, errors.New("csr key must be ECDSA P-256 or P-384, or RSA of 2048 bits or more")
		}
	default:
		return nil, errors.New("csr key must be ECDSA P-256 or P-384, or RSA of 2048 bits or more")
	}
	return csr, nil
}
