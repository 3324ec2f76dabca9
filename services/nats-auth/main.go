// Command nats-auth is the NATS auth callout (a Deployment in namespace
// edge-nats, deployed by the edge stack): every client but itself is
// mapped to a user from its verified certificate, devices to a user of
// their own, services to their service user (package callout, rules in
// edge.CalloutAnchors). docs/edge-sync-security.md is the operator's page.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/spatialprops/spatialprops-infra/services/nats-auth/callout"
)

// Config is the service's configuration: flags, each defaulting to an
// environment variable.
type Config struct {
	NATSURL     string
	CAFile      string
	CertFile    string
	KeyFile     string
	IssuerSeed  string
	DeviceCA    string
	ServiceCA   string
	HealthAddr  string
	DialTimeout time.Duration
}

const usage = `nats-auth answers NATS auth callout requests: it maps each client's
verified certificate to a device or service user and signs its JWT.

Example (what the Deployment runs):

  NATS_URL=tls://nats.edge-nats.svc:4222 NATS_CA_FILE=/etc/nats-user/ca.crt \
  NATS_CERT_FILE=/etc/nats-user/tls.crt NATS_KEY_FILE=/etc/nats-user/tls.key \
  ISSUER_SEED_FILE=/etc/nats-auth/seed DEVICE_CA_FILE=/etc/nats-ca/device-ca.pem \
  SERVICE_CA_FILE=/etc/nats-ca/service-ca.pem nats-auth

Exit status: 0 stopped on SIGTERM, 1 failed, 2 bad usage.

Flags:
`

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("nats-auth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	fs.StringVar(&c.NATSURL, "nats-url", getenv("NATS_URL"), "NATS `url` (env NATS_URL)")
	fs.StringVar(&c.CAFile, "nats-ca-file", getenv("NATS_CA_FILE"), "CA bundle verifying the server (env NATS_CA_FILE)")
	fs.StringVar(&c.CertFile, "nats-cert-file", getenv("NATS_CERT_FILE"), "client certificate of user auth-callout (env NATS_CERT_FILE)")
	fs.StringVar(&c.KeyFile, "nats-key-file", getenv("NATS_KEY_FILE"), "its key (env NATS_KEY_FILE)")
	fs.StringVar(&c.IssuerSeed, "issuer-seed-file", getenv("ISSUER_SEED_FILE"), "account nkey seed the user JWTs are signed with (env ISSUER_SEED_FILE)")
	fs.StringVar(&c.DeviceCA, "device-ca-file", getenv("DEVICE_CA_FILE"), "device CA certificate (env DEVICE_CA_FILE)")
	fs.StringVar(&c.ServiceCA, "service-ca-file", getenv("SERVICE_CA_FILE"), "service CA certificate (env SERVICE_CA_FILE)")
	fs.StringVar(&c.HealthAddr, "health-addr", or(getenv("HEALTH_ADDR"), ":8081"), "address of /healthz and /readyz (env HEALTH_ADDR)")
	fs.DurationVar(&c.DialTimeout, "dial-timeout", 5*time.Second, "deadline of one connection attempt to NATS")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	for _, req := range []struct{ v, env, flag string }{
		{c.NATSURL, "NATS_URL", "--nats-url"}, {c.CAFile, "NATS_CA_FILE", "--nats-ca-file"},
		{c.CertFile, "NATS_CERT_FILE", "--nats-cert-file"}, {c.KeyFile, "NATS_KEY_FILE", "--nats-key-file"},
		{c.IssuerSeed, "ISSUER_SEED_FILE", "--issuer-seed-file"}, {c.DeviceCA, "DEVICE_CA_FILE", "--device-ca-file"},
		{c.ServiceCA, "SERVICE_CA_FILE", "--service-ca-file"},
	} {
		if req.v == "" {
			return c, fmt.Errorf("%s (or %s) is required", req.env, req.flag)
		}
	}
	if !strings.HasPrefix(c.NATSURL, "tls://") {
		return c, fmt.Errorf("NATS_URL %q must be tls://: the callout authenticates with its certificate", c.NATSURL)
	}
	return c, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// responder loads the key and anchors the callout signs and decides with.
func responder(c Config, log *slog.Logger) (*callout.Responder, error) {
	seed, err := os.ReadFile(c.IssuerSeed)
	if err != nil {
		return nil, err
	}
	kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(string(seed))))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.IssuerSeed, err)
	}
	if pub, err := kp.PublicKey(); err != nil || !nkeys.IsValidPublicAccountKey(pub) {
		return nil, fmt.Errorf("%s: not an account seed (the issuer must be an account key)", c.IssuerSeed)
	}
	d, err := os.ReadFile(c.DeviceCA)
	if err != nil {
		return nil, err
	}
	s, err := os.ReadFile(c.ServiceCA)
	if err != nil {
		return nil, err
	}
	anchors, err := callout.LoadAnchors(d, s)
	if err != nil {
		return nil, err
	}
	return &callout.Responder{Issuer: kp, Anchors: anchors, Log: log}, nil
}

func run(ctx context.Context, c Config, log *slog.Logger) error {
	r, err := responder(c, log)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(c.NATSURL, nats.RootCAs(c.CAFile), nats.ClientCert(c.CertFile, c.KeyFile),
		nats.Name("nats-auth"), nats.Timeout(c.DialTimeout), nats.MaxReconnects(-1),
		nats.ReconnectWait(2*time.Second), nats.RetryOnFailedConnect(true))
	if err != nil {
		return fmt.Errorf("connect %s: %w", c.NATSURL, err)
	}
	defer nc.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if nc.IsConnected() {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Error(w, "not connected to NATS", http.StatusServiceUnavailable)
	})
	srv := &http.Server{Addr: c.HealthAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ln, err := net.Listen("tcp", c.HealthAddr)
	if err != nil {
		return err
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("answering authorization requests", "subject", callout.Subject, "url", c.NATSURL)
	return callout.Serve(ctx, nc, r)
}

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	c, err := parseConfig(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "nats-auth:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, c, log); err != nil {
		log.Error("stopped", "err", err.Error())
		os.Exit(1)
	}
}
