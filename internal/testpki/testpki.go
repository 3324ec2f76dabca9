// Package testpki makes throwaway CA hierarchies for tests: ECDSA P-256
// keys, certificates valid from an hour ago, nothing written to disk.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"testing"
	"time"
)

// CA is one certificate authority of a test hierarchy.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewCA makes a CA named cn: self-signed when parent is nil, else signed
// by parent. It may sign certificates and CRLs.
func NewCA(t testing.TB, cn string, parent *CA) *CA {
	t.Helper()
	key := newKey(t)
	tpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	issuer, signer := tpl, key
	if parent != nil {
		issuer, signer = parent.Cert, parent.Key
	}
	return &CA{Cert: create(t, tpl, issuer, &key.PublicKey, signer), Key: key}
}

// PEM is the CA's certificate, PEM-encoded.
func (ca *CA) PEM() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}))
}

// ClientCert is a client-auth leaf from ca with subject CN cn and the
// given URI SANs, valid for an hour.
func (ca *CA) ClientCert(t testing.TB, cn string, uris ...string) *x509.Certificate {
	t.Helper()
	key := newKey(t)
	tpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, u := range uris {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatalf("URI SAN %q: %v", u, err)
		}
		tpl.URIs = append(tpl.URIs, p)
	}
	return create(t, tpl, ca.Cert, &key.PublicKey, ca.Key)
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("key: %v", err)
	}
	return key
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n.Add(n, big.NewInt(1))
}

func create(t testing.TB, tpl, issuer *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tpl, issuer, pub, signer)
	if err != nil {
		t.Fatalf("certificate %q: %v", tpl.Subject.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("certificate %q: %v", tpl.Subject.CommonName, err)
	}
	return c
}
