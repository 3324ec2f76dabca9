package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
	"github.com/spatialprops/spatialprops-infra/services/nats-auth/callout"
)

// cert makes a certificate for cn, self-signed when parent is nil.
func cert(t *testing.T, cn string, isCA bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IsCA: isCA, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// files writes what the Deployment mounts (client certificate, account
// seed, the two anchors) and returns the environment the edge stack sets,
// with NATS_URL at a port nobody listens on.
func files(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	ca, caKey, caPEM := cert(t, "nats CA", true, nil, nil)
	_, key, leafPEM := cert(t, "auth-callout", false, ca, caKey)
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	_, _, devicePEM := cert(t, "device CA", true, nil, nil)
	_, _, servicePEM := cert(t, "service CA", true, nil, nil)
	acct, _ := nkeys.CreateAccount()
	seed, _ := acct.Seed()
	return map[string]string{
		"NATS_URL":         "tls://127.0.0.1:" + strconv.Itoa(freePort(t)),
		"NATS_CA_FILE":     write(t, dir, "ca.crt", caPEM),
		"NATS_CERT_FILE":   write(t, dir, "tls.crt", leafPEM),
		"NATS_KEY_FILE":    write(t, dir, "tls.key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})),
		"ISSUER_SEED_FILE": write(t, dir, "seed", append(seed, '\n')),
		"DEVICE_CA_FILE":   write(t, dir, "device-ca.pem", devicePEM),
		"SERVICE_CA_FILE":  write(t, dir, "service-ca.pem", servicePEM),
		"HEALTH_ADDR":      ":" + strconv.Itoa(freePort(t)),
		"PORT":             strconv.Itoa(freePort(t)),
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func getenv(m map[string]string) func(string) string {
	return environ(func(k string) string { return m[k] })
}

// run runs the program once with a context that has already ended: it
// stops right after setup (or at the first configuration error).
func run(t *testing.T, env map[string]string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var logs kittest.Logs
	code := program.Run(ctx, getenv(env), &logs)
	return code, logs.String()
}

// GIVEN no setting at all THEN the program exits 2 and names every
// missing variable, not just the first.
func TestEveryMissingSettingIsNamed(t *testing.T) {
	code, logs := run(t, map[string]string{"PORT": strconv.Itoa(freePort(t)), "HEALTH_ADDR": ":" + strconv.Itoa(freePort(t))})
	if code != kit.ExitConfig {
		t.Fatalf("exit %d, want %d\n%s", code, kit.ExitConfig, logs)
	}
	for _, v := range []string{"NATS_URL", "NATS_CA_FILE", "NATS_CERT_FILE", "NATS_KEY_FILE", "ISSUER_SEED_FILE", "DEVICE_CA_FILE", "SERVICE_CA_FILE"} {
		if !strings.Contains(logs, v+" is required") {
			t.Errorf("the configuration error does not name %s:\n%s", v, logs)
		}
	}
}

// GIVEN one bad setting THEN the program exits 2 naming it; GIVEN key
// material that is not what it must be THEN it exits 1 naming the file.
func TestBadSettingsAndKeyMaterial(t *testing.T) {
	userSeed := func(t *testing.T) string {
		u, _ := nkeys.CreateUser()
		s, _ := u.Seed()
		return write(t, t.TempDir(), "seed", s)
	}
	for name, tc := range map[string]struct {
		change func(t *testing.T, env map[string]string)
		code   int
		want   string
	}{
		"plaintext URL":  {func(_ *testing.T, e map[string]string) { e["NATS_URL"] = "nats://nats.edge-nats.svc:4222" }, kit.ExitConfig, `NATS_URL=\"nats://nats.edge-nats.svc:4222\" must be a tls:// URL`},
		"health address": {func(_ *testing.T, e map[string]string) { e["HEALTH_ADDR"] = "8081" }, kit.ExitConfig, `HEALTH_ADDR=\"8081\" must be [host]:port`},
		"ops port disagrees": {func(_ *testing.T, e map[string]string) { e["OPS_PORT"] = "9090"; e["HEALTH_ADDR"] = ":8081" }, kit.ExitConfig,
			`OPS_PORT=9090 and HEALTH_ADDR=\":8081\" disagree`},
		"timeout":      {func(_ *testing.T, e map[string]string) { e["NATS_TIMEOUT"] = "forever" }, kit.ExitConfig, `NATS_TIMEOUT=\"forever\" must be a duration`},
		"user seed":    {func(t *testing.T, e map[string]string) { e["ISSUER_SEED_FILE"] = userSeed(t) }, kit.ExitFailed, "not an account seed"},
		"missing seed": {func(_ *testing.T, e map[string]string) { e["ISSUER_SEED_FILE"] = "/nonexistent/seed" }, kit.ExitFailed, "ISSUER_SEED_FILE: open /nonexistent/seed"},
		"same anchors": {func(_ *testing.T, e map[string]string) { e["SERVICE_CA_FILE"] = e["DEVICE_CA_FILE"] }, kit.ExitFailed, "the device and service CA files hold the same certificate"},
		"leaf anchor":  {func(_ *testing.T, e map[string]string) { e["DEVICE_CA_FILE"] = e["NATS_CERT_FILE"] }, kit.ExitFailed, `device CA: \"auth-callout\" is not a CA certificate`},
	} {
		t.Run(name, func(t *testing.T) {
			env := files(t)
			tc.change(t, env)
			code, logs := run(t, env)
			if code != tc.code || !strings.Contains(logs, tc.want) {
				t.Fatalf("exit %d, want %d with %q:\n%s", code, tc.code, tc.want, logs)
			}
		})
	}
}

// GIVEN the environment the edge stack sets and a NATS server that does
// not answer THEN the probe port (HEALTH_ADDR) says alive but not ready,
// naming NATS, and serves the authorization counter; on SIGTERM the
// program exits 0 promptly (no drain delay).
func TestProbesOnHealthAddrNotReadyBeforeConnect(t *testing.T) {
	env := files(t)
	base := "http://127.0.0.1" + env["HEALTH_ADDR"]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs kittest.Logs
	done := make(chan int, 1)
	go func() { done <- program.Run(ctx, getenv(env), &logs) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, _ := kittest.Get(base + "/healthz"); c == http.StatusOK {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("exited %d before serving:\n%s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no /healthz on HEALTH_ADDR %s:\n%s", env["HEALTH_ADDR"], logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c, body := kittest.Get(base + "/readyz"); c != http.StatusServiceUnavailable || !strings.Contains(body, "nats: not connected") {
		t.Fatalf("/readyz without NATS = %d %q, want 503 naming nats", c, body)
	}
	if _, metrics := kittest.Get(base + "/metrics"); !strings.Contains(metrics, `nats_auth_authorizations_total{result="refused"} 0`) {
		t.Fatalf("/metrics lacks the authorization counter:\n%s", metrics)
	}
	stopped := time.Now()
	cancel()
	select {
	case code := <-done:
		if code != kit.ExitOK {
			t.Fatalf("exit %d after SIGTERM, want 0:\n%s", code, logs.String())
		}
		if took := time.Since(stopped); took > 3*time.Second {
			t.Fatalf("stopping took %s", took)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("did not stop after SIGTERM:\n%s", logs.String())
	}
}

// request is an authorization request as the server sends it: with a
// verified chain holding leaf when leaf is set.
func request(t *testing.T, leaf []byte) []byte {
	t.Helper()
	srv, _ := nkeys.CreateServer()
	srvPub, _ := srv.PublicKey()
	user, _ := nkeys.CreateUser()
	userPub, _ := user.PublicKey()
	rc := jwt.NewAuthorizationRequestClaims(srvPub)
	rc.Server = jwt.ServerID{Name: "nats-0", ID: srvPub}
	rc.UserNkey = userPub
	rc.ClientInformation = jwt.ClientInformation{Host: "10.0.0.7", Type: edge.ClientTypeNATS}
	if leaf != nil {
		rc.TLS = &jwt.ClientTLS{VerifiedChains: []jwt.StringList{{string(leaf)}}}
	}
	out, err := rc.Encode(srv)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// GIVEN the callout started before its NATS server THEN it is not ready
// until the server is up and has its subscription; it then answers and
// counts each result (granted, refused, and failed when it cannot
// answer); it turns unready when the server goes away, and stops cleanly.
func TestWorkerReadinessAndCounts(t *testing.T) {
	port := freePort(t)
	acct, _ := nkeys.CreateAccount()
	r := &callout.Responder{Issuer: acct, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Decide: func(_ string, chains [][]*x509.Certificate) (edge.Grant, error) {
			if chains[0][0].Subject.CommonName == "sensor-1" {
				return edge.Grant{Account: "EDGE", Name: "device-sensor-1"}, nil
			}
			return edge.Grant{}, errors.New("unknown")
		}}
	connect := func() (*nats.Conn, error) {
		return nats.Connect("nats://127.0.0.1:"+strconv.Itoa(port), nats.RetryOnFailedConnect(true),
			nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond), nats.Timeout(time.Second), nats.DrainTimeout(time.Second))
	}
	w := newWorker(r, r.Log, noop.NewTracerProvider().Tracer("test"), 200*time.Millisecond, connect)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	if err := w.Ready(ctx); err == nil {
		t.Fatal("ready before any connection")
	}
	time.Sleep(300 * time.Millisecond)
	if err := w.Ready(ctx); err == nil || !strings.Contains(err.Error(), "not connected") {
		t.Fatalf("without a server: Ready = %v, want not connected", err)
	}

	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	defer s.Shutdown()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	eventually(t, "the callout is ready", func() bool { return w.Ready(ctx) == nil })

	client, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	_, _, leaf := cert(t, "sensor-1", false, nil, nil)
	_, _, stranger := cert(t, "stranger", false, nil, nil)
	for _, tc := range []struct {
		req     []byte
		granted bool
	}{{request(t, leaf), true}, {request(t, stranger), false}, {request(t, nil), false}} {
		msg, err := client.Request(callout.Subject, tc.req, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := jwt.DecodeAuthorizationResponseClaims(string(msg.Data))
		if err != nil {
			t.Fatal(err)
		}
		if (resp.Jwt != "") != tc.granted || (resp.Error == "") != tc.granted {
			t.Fatalf("response jwt=%t error=%q, want granted=%t", resp.Jwt != "", resp.Error, tc.granted)
		}
	}
	if _, err := client.Request(callout.Subject, []byte("not a JWT"), 300*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("a request it cannot decode must go unanswered, got %v", err)
	}
	for result, want := range map[string]float64{Granted: 1, Refused: 2, Failed: 1} {
		if got := testutil.ToFloat64(w.results.WithLabelValues(result)); got != want {
			t.Errorf("nats_auth_authorizations_total{result=%q} = %v, want %v", result, got, want)
		}
	}

	s.Shutdown()
	eventually(t, "the callout is unready without its server", func() bool { return w.Ready(ctx) != nil })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after a stop: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// GIVEN a server that completes the connection handshake and then never
// answers (the subscription is never confirmed) THEN the callout is
// connected but not ready, and says why.
func TestNotReadyUntilTheSubscriptionIsConfirmed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.WriteString(c, `INFO {"server_id":"mute","version":"2.11.10","proto":1,"max_payload":1048576,"headers":true}`+"\r\n")
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if line == "PING\r\n" { // the handshake's; later PINGs go unanswered
						_, _ = io.WriteString(c, "PONG\r\n")
						break
					}
				}
				_, _ = io.Copy(io.Discard, r)
			}()
		}
	}()
	connect := func() (*nats.Conn, error) {
		return nats.Connect("nats://"+l.Addr().String(), nats.Timeout(time.Second), nats.DrainTimeout(100*time.Millisecond))
	}
	acct, _ := nkeys.CreateAccount()
	r := &callout.Responder{Issuer: acct, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	w := newWorker(r, r.Log, noop.NewTracerProvider().Tracer("test"), 100*time.Millisecond, connect)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	eventually(t, "the callout is connected", func() bool { nc := w.nc.Load(); return nc != nil && nc.IsConnected() })
	time.Sleep(300 * time.Millisecond) // three flush attempts
	if err := w.Ready(ctx); err == nil || !strings.Contains(err.Error(), "subscription to $SYS.REQ.USER.AUTH not confirmed") {
		t.Fatalf("connected, subscription unconfirmed: Ready = %v", err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
