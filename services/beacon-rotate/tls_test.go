package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"github.com/spatialprops/spatialprops-infra/services/beacon-rotate/internal/beacontest"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
)

// ca issues certificates for the test, standing in for cert-manager.
type ca struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string
}

func newCA(t *testing.T, dir, name string) *ca {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	c := &ca{t: t, dir: dir, cert: cert, key: key, file: filepath.Join(dir, name+"-ca.crt")}
	require.NoError(t, os.WriteFile(c.file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return c
}

// issue writes name.crt and name.key (the Secret's tls.crt and tls.key).
func (c *ca) issue(name string, serial int64, usage x509.ExtKeyUsage, uri string) (certFile, keyFile string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(c.t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	if uri != "" {
		u, err := url.Parse(uri)
		require.NoError(c.t, err)
		tmpl.URIs = []*url.URL{u}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	require.NoError(c.t, err)
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(c.t, err)
	certFile, keyFile = filepath.Join(c.dir, name+".crt"), filepath.Join(c.dir, name+".key")
	require.NoError(c.t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(c.t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600))
	return certFile, keyFile
}

// GIVEN a NATS server that requires client certificates from the private
// CA WHEN the job gets the mounted Secret's files through NATS_CA_FILE,
// NATS_CERT_FILE and NATS_KEY_FILE THEN it connects and exits 0; with a CA
// that does not sign the server it fails with exit 1.
func TestRunOverMutualTLS(t *testing.T) {
	endpoint := motoserver.Endpoint(t)
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	_, table := beacontest.Table(t)

	dir := t.TempDir()
	pki := newCA(t, dir, "edge")
	srvCert, srvKey := pki.issue("nats", 2, x509.ExtKeyUsageServerAuth, "")
	cliCert, cliKey := pki.issue("beacon-rotate", 3, x509.ExtKeyUsageClientAuth, edge.ServiceUserName(edge.UserBeaconRotate))
	tlsCfg, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: srvCert, KeyFile: srvKey, CaFile: pki.file, Verify: true})
	require.NoError(t, err)
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, TLS: true, TLSVerify: true, TLSConfig: tlsCfg, NoSigs: true, NoLog: true})
	require.NoError(t, err)
	go s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second))
	t.Cleanup(s.Shutdown)
	natsURL := strings.Replace(s.ClientURL(), "nats://", "tls://", 1)

	env := map[string]string{"BEACON_TABLE": table, "AWS_REGION": "ap-southeast-2", "NATS_URL": natsURL,
		"NATS_CA_FILE": pki.file, "NATS_CERT_FILE": cliCert, "NATS_KEY_FILE": cliKey}
	var out, errOut strings.Builder
	assert.Equal(t, 0, run(nil, envOf(env), &out, &errOut), "connects with the client certificate:\n%s%s", out.String(), errOut.String())

	other := newCA(t, t.TempDir(), "other")
	env["NATS_CA_FILE"] = other.file
	out.Reset()
	assert.Equal(t, 1, run(nil, envOf(env), &out, &errOut), "a server its CA bundle does not sign is refused")
	assert.Contains(t, out.String(), "nats connect")

	delete(env, "NATS_KEY_FILE")
	errOut.Reset()
	assert.Equal(t, 2, run(nil, envOf(env), &out, &errOut))
	assert.Contains(t, errOut.String(), "NATS_KEY_FILE is required")
}
