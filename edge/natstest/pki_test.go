package natstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ocsp"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// pki is one CA made in the test. The hierarchy stands in for the
// environment's: a root (the KMS key in production), a device CA with an
// OCSP responder (ACM PCA's, when OCSP is on) and a service CA without one.
type pki struct {
	t       *testing.T
	dir     string
	name    string
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	parent  *pki
	caFile  string
	ocspURL string
	mu      sync.Mutex
	revoked map[string]bool
	serial  int64
}

// newPKI makes a self-signed root.
func newPKI(t *testing.T, dir, name string) *pki { return newCA(t, dir, name, nil, false) }

// newCA makes a CA signed by parent (a root when parent is nil), with its
// own OCSP responder when withOCSP is set.
func newCA(t *testing.T, dir, name string, parent *pki, withOCSP bool) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	signer, signKey := tmpl, key
	if parent != nil {
		tmpl.MaxPathLenZero = true
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	p := &pki{t: t, dir: dir, name: name, cert: cert, key: key, parent: parent, revoked: map[string]bool{}, serial: 100}
	p.caFile = writePEM(t, filepath.Join(dir, name+"-ca.pem"), "CERTIFICATE", der)
	if parent == nil || withOCSP {
		srv := httptest.NewServer(http.HandlerFunc(p.serveOCSP))
		t.Cleanup(srv.Close)
		p.ocspURL = srv.URL
	}
	return p
}

// serveOCSP answers GET (base64 path) and POST requests: good, or revoked
// for serials in p.revoked.
func (p *pki) serveOCSP(w http.ResponseWriter, r *http.Request) {
	var raw []byte
	if r.Method == http.MethodPost {
		raw, _ = io.ReadAll(r.Body)
	} else {
		s, _ := url.PathUnescape(strings.TrimPrefix(r.URL.Path, "/"))
		raw, _ = base64.StdEncoding.DecodeString(s)
	}
	req, err := ocsp.ParseRequest(raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	revoked := p.revoked[req.SerialNumber.String()]
	p.mu.Unlock()
	tmpl := ocsp.Response{
		Status: ocsp.Good, SerialNumber: req.SerialNumber,
		ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
	}
	if revoked {
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, time.Now().Add(-time.Minute), ocsp.KeyCompromise
	}
	resp, err := ocsp.CreateResponse(p.cert, p.cert, tmpl, crypto.Signer(p.key))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	_, _ = w.Write(resp)
}

// issue makes a leaf certificate. Leaves carry the CA's OCSP URL (AIA) when
// it has a responder, as ACM Private CA's do when OCSP is on. The
// certificate file holds the leaf and every CA below the root, as
// cert-manager's tls.crt does.
func (p *pki) issue(name string, subject pkix.Name, uri string, usage ...x509.ExtKeyUsage) (certFile, keyFile string, serial *big.Int) {
	t := p.t
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p.mu.Lock()
	p.serial++
	serial = big.NewInt(p.serial)
	p.mu.Unlock()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(7 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: usage,
	}
	if p.ocspURL != "" {
		tmpl.OCSPServer = []string{p.ocspURL}
	}
	for _, u := range usage {
		if u == x509.ExtKeyUsageServerAuth {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
			tmpl.DNSNames = []string{"localhost"}
		}
	}
	if uri != "" {
		u, err := url.Parse(uri)
		require.NoError(t, err)
		tmpl.URIs = []*url.URL{u}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	require.NoError(t, err)
	chain := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	for ca := p; ca.parent != nil; ca = ca.parent {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})...)
	}
	certFile = filepath.Join(p.dir, p.name+"-"+name+".pem")
	require.NoError(t, os.WriteFile(certFile, chain, 0o600))
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return certFile, writePEM(t, filepath.Join(p.dir, p.name+"-"+name+"-key.pem"), "EC PRIVATE KEY", kder), serial
}

func (p *pki) revoke(serial *big.Int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.revoked[serial.String()] = true
}

func writePEM(t *testing.T, path, typ string, der []byte) string {
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

// deviceCert is a device certificate per the contract (edge/devicecert.go):
// CN = device id, OU = cohort, URI SAN = edge.DeviceURISAN(id).
func (p *pki) deviceCert(device, cohort string) (string, string, *big.Int) {
	return p.issue(device, pkix.Name{CommonName: device, OrganizationalUnit: []string{cohort}}, edge.DeviceURISAN(device), x509.ExtKeyUsageClientAuth)
}

// serviceCert is a service user's client certificate.
func (p *pki) serviceCert(user string) (string, string) {
	c, k, _ := p.issue(user, pkix.Name{CommonName: user}, edge.ServiceUserName(user), x509.ExtKeyUsageClientAuth)
	return c, k
}
