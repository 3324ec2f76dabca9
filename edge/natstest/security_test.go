package natstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
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

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ocsp"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// pki is a private CA made in the test, with an OCSP responder that
// answers for it, standing in for ACM Private CA.
type pki struct {
	t       *testing.T
	dir     string
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	caFile  string
	ocspURL string
	mu      sync.Mutex
	revoked map[string]bool
	serial  int64
}

func newPKI(t *testing.T, dir, name string) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	p := &pki{t: t, dir: dir, cert: cert, key: key, revoked: map[string]bool{}, serial: 100}
	p.caFile = writePEM(t, filepath.Join(dir, name+"-ca.pem"), "CERTIFICATE", der)
	srv := httptest.NewServer(http.HandlerFunc(p.serveOCSP))
	t.Cleanup(srv.Close)
	p.ocspURL = srv.URL
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
		raw, _ = decodeB64(s)
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

// issue makes a leaf certificate; client certificates carry the OCSP URL
// (AIA) as ACM Private CA's do when OCSP is on.
func (p *pki) issue(name string, subject pkix.Name, uri string, server bool) (certFile, keyFile string, serial *big.Int) {
	t := p.t
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p.mu.Lock()
	p.serial++
	serial = big.NewInt(p.serial)
	p.mu.Unlock()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, OCSPServer: []string{p.ocspURL},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.DNSNames = []string{"localhost"}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	if uri != "" {
		u, err := url.Parse(uri)
		require.NoError(t, err)
		tmpl.URIs = []*url.URL{u}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return writePEM(t, filepath.Join(p.dir, name+".pem"), "CERTIFICATE", der),
		writePEM(t, filepath.Join(p.dir, name+"-key.pem"), "EC PRIVATE KEY", kder), serial
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

// agentCert is a device certificate per the certificate contract: CN =
// device id, OU = cohort, URI SAN = edge.AgentURISAN.
func (p *pki) agentCert(device, cohort string) (string, string, *big.Int) {
	return p.issue(device, pkix.Name{CommonName: device, OrganizationalUnit: []string{cohort}}, edge.AgentURISAN, false)
}

func (p *pki) serviceCert(user string) (string, string) {
	c, k, _ := p.issue(user, pkix.Name{CommonName: user}, edge.ServiceUserName(user), false)
	return c, k
}

// secureServer starts nats-server from edge.ServerConfig, the config the
// chart gets (edge.ClientTLS + edge.Authorization), with the test's
// certificate files. mutate, when set, breaks the config on purpose.
func secureServer(t *testing.T, ca *pki, opts edge.SecurityOptions, mutate func(map[string]any)) *server.Server {
	t.Helper()
	crt, key, _ := ca.issue("server", pkix.Name{CommonName: "nats.edge-sync.svc"}, "", true)
	body, err := edge.ServerConfig("127.0.0.1:-1", filepath.Join(t.TempDir(), "js"),
		edge.TLSFiles{CertFile: crt, KeyFile: key, CAFile: ca.caFile}, opts)
	require.NoError(t, err)
	if mutate != nil {
		var m map[string]any
		require.NoError(t, json.Unmarshal(body, &m))
		mutate(m)
		body, err = edge.MarshalConf(m)
		require.NoError(t, err)
	}
	path := filepath.Join(t.TempDir(), "nats.conf")
	require.NoError(t, os.WriteFile(path, body, 0o600))
	o, err := server.ProcessConfigFile(path)
	require.NoError(t, err, string(body))
	o.NoSigs = true
	s, err := server.NewServer(o)
	require.NoError(t, err)
	go s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second), "nats-server did not start")
	t.Cleanup(s.Shutdown)
	return s
}

type client struct {
	nc   *nats.Conn
	errs chan error
}

func connect(s *server.Server, caFile, cert, key string) (*client, error) {
	c := &client{errs: make(chan error, 16)}
	nc, err := nats.Connect(s.ClientURL(), nats.ClientCert(cert, key), nats.RootCAs(caFile),
		nats.MaxReconnects(0), nats.Timeout(5*time.Second),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { c.errs <- err }))
	if err != nil {
		return nil, err
	}
	c.nc = nc
	return c, nil
}

func mustConnect(t *testing.T, s *server.Server, caFile, cert, key string) *client {
	t.Helper()
	c, err := connect(s, caFile, cert, key)
	require.NoError(t, err)
	t.Cleanup(c.nc.Close)
	return c
}

// permissionDenied waits for the server's async permissions violation.
func (c *client) permissionDenied(t *testing.T, subject string) {
	t.Helper()
	select {
	case err := <-c.errs:
		assert.Contains(t, err.Error(), "Permissions Violation")
		assert.Contains(t, err.Error(), subject)
	case <-time.After(3 * time.Second):
		t.Fatalf("no permissions violation for %s", subject)
	}
}

func TestEdgeSyncSecurityOnARealServer(t *testing.T) {
	dir := t.TempDir()
	ca := newPKI(t, dir, "private-ca")
	s := secureServer(t, ca, edge.SecurityOptions{}, nil)

	// stream-admin creates the streams, as the stream-setup Job does
	ac, ak := ca.serviceCert(edge.UserStreamAdmin)
	admin := mustConnect(t, s, ca.caFile, ac, ak)
	ajs, err := admin.nc.JetStream()
	require.NoError(t, err)
	applyStreams(t, ajs)

	// an agent certificate connects and publishes peer sync with an ack
	gc, gk, _ := ca.agentCert("device-0001", "cohort-a")
	agent := mustConnect(t, s, ca.caFile, gc, gk)
	gjs, err := agent.nc.JetStream()
	require.NoError(t, err)
	ack, err := gjs.Publish(edge.SubjectPeerSync, []byte(`{"hint":"h-1"}`))
	require.NoError(t, err)
	assert.Equal(t, edge.StreamEdge, ack.Stream)

	t.Run("agent may not raise a replay alert", func(t *testing.T) {
		require.NoError(t, agent.nc.Publish(edge.SubjectReplayDetected, []byte(`{}`)))
		require.NoError(t, agent.nc.Flush())
		agent.permissionDenied(t, edge.SubjectReplayDetected)
		info, err := ajs.StreamInfo(edge.StreamSecurity)
		require.NoError(t, err)
		assert.Zero(t, info.State.Msgs, "the alert must not reach SECURITY")
	})

	t.Run("agent may not delete a stream", func(t *testing.T) {
		err := gjs.DeleteStream(edge.StreamEdge, nats.MaxWait(2*time.Second))
		require.Error(t, err)
		agent.permissionDenied(t, "$JS.API.STREAM.DELETE.EDGE")
		_, err = ajs.StreamInfo(edge.StreamEdge)
		require.NoError(t, err, "EDGE must still exist")
	})

	t.Run("agent may not read the security subject", func(t *testing.T) {
		_, err := agent.nc.SubscribeSync(edge.SubjectReplayDetected)
		require.NoError(t, err)
		require.NoError(t, agent.nc.Flush())
		agent.permissionDenied(t, edge.SubjectReplayDetected)
	})

	t.Run("the security detector raises a replay alert", func(t *testing.T) {
		dc, dk := ca.serviceCert(edge.UserSecurityDetector)
		det := mustConnect(t, s, ca.caFile, dc, dk)
		djs, err := det.nc.JetStream()
		require.NoError(t, err)
		ack, err := djs.Publish(edge.SubjectReplayDetected, []byte(`{"packet":"p-1"}`))
		require.NoError(t, err)
		assert.Equal(t, edge.StreamSecurity, ack.Stream)
	})

	t.Run("a certificate from another CA is refused", func(t *testing.T) {
		other := newPKI(t, t.TempDir(), "other-ca")
		oc, ok, _ := other.agentCert("device-0002", "cohort-a")
		_, err := connect(s, ca.caFile, oc, ok)
		require.Error(t, err)
	})

	t.Run("a revoked certificate is refused through OCSP", func(t *testing.T) {
		rc, rk, serial := ca.agentCert("device-0003", "cohort-b")
		ca.revoke(serial)
		_, err := connect(s, ca.caFile, rc, rk)
		require.Error(t, err)
	})

	t.Run("a certificate without a known user is refused", func(t *testing.T) {
		uc, uk, _ := ca.issue("stranger", pkix.Name{CommonName: "stranger"}, "urn:spatial-properties:nats-user:stranger", false)
		_, err := connect(s, ca.caFile, uc, uk)
		require.Error(t, err)
	})
}

// TestBreakingTheConfigIsCaught removes one safeguard at a time from the
// generated config and shows the check above would notice: each broken
// config lets through what the real one refuses.
func TestBreakingTheConfigIsCaught(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(map[string]any)
		probe  func(t *testing.T, s *server.Server, ca *pki) error
	}{
		{"without ocsp_peer a revoked certificate connects",
			func(m map[string]any) { delete(m["tls"].(map[string]any), "ocsp_peer") },
			func(t *testing.T, s *server.Server, ca *pki) error {
				c, k, serial := ca.agentCert("device-r", "cohort-b")
				ca.revoke(serial)
				cl, err := connect(s, ca.caFile, c, k)
				if err == nil {
					cl.nc.Close()
				}
				return err
			}},
		{"without the agent's publish permissions a replay alert is accepted",
			func(m map[string]any) {
				users := m["accounts"].(map[string]any)["EDGE"].(map[string]any)["users"].([]any)
				delete(users[0].(map[string]any), "permissions")
			},
			func(t *testing.T, s *server.Server, ca *pki) error {
				c, k, _ := ca.agentCert("device-p", "cohort-a")
				cl, err := connect(s, ca.caFile, c, k)
				require.NoError(t, err)
				defer cl.nc.Close()
				require.NoError(t, cl.nc.Publish(edge.SubjectReplayDetected, nil))
				require.NoError(t, cl.nc.Flush())
				select {
				case err := <-cl.errs:
					return err
				case <-time.After(time.Second):
					return nil
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ca := newPKI(t, t.TempDir(), "private-ca")
			s := secureServer(t, ca, edge.SecurityOptions{}, tc.mutate)
			assert.NoError(t, tc.probe(t, s, ca), "the broken config must let this through, else the real test proves nothing")
		})
	}
}

func decodeB64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(s)
}
