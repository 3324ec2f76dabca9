// Command nats-auth is the NATS auth callout (a Deployment in namespace
// edge-nats, deployed by the edge stack) on the service kit: every client
// but itself is mapped to a user from its verified certificate, devices to
// a user of their own, services to their service user (package callout,
// rules in edge.CalloutAnchors). docs/edge-sync-security.md is the
// operator's page.
//
// Configuration (environment), beside the kit's PORT, OPS_PORT, ...:
//
//	NATS_URL           the edge-nats client listener, tls://nats.edge-nats.svc:4222
//	NATS_CA_FILE, NATS_CERT_FILE, NATS_KEY_FILE
//	                   the CA bundle verifying the server, and the client
//	                   certificate and key of user auth-callout
//	ISSUER_SEED_FILE   the account nkey seed the user JWTs are signed with
//	DEVICE_CA_FILE     the device CA certificate (PEM)
//	SERVICE_CA_FILE    the service CA certificate (PEM)
//	HEALTH_ADDR        where /healthz, /readyz and /metrics answer (default
//	                   :8081, the Deployment's probe port): the kit's
//	                   OPS_PORT, of which only the port is used
//	NATS_TIMEOUT       deadline of one connection attempt and of the
//	                   subscription's confirmation (default 5s)
//
// /readyz fails until the connection is up and the server has confirmed
// the subscription to $SYS.REQ.USER.AUTH, and whenever the connection is
// down. /metrics counts requests in nats_auth_authorizations_total{result}
// (granted, refused, failed). On SIGTERM the subscription is drained
// (requests in hand are answered, the other replicas take the rest) and
// the program exits 0; DRAIN_DELAY defaults to 0s here, since no load
// balancer routes to this pod. Exit status: 0 stopped, 1 failed, 2 bad
// configuration (each problem logged, naming its variable).
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/nats-auth/callout"
)

const (
	// DefaultHealthAddr is the health port the edge stack probes
	// (stacks.NATSAuthHealthPort).
	DefaultHealthAddr = ":8081"
	// DefaultTimeout bounds one NATS connection attempt and one flush.
	DefaultTimeout = 5 * time.Second
	// DrainTimeout bounds the shutdown's drain of the subscription; with
	// the final flush it stays inside the kit's shutdown grace (15 s).
	DrainTimeout = 5 * time.Second
)

// Config is the callout's own configuration.
type Config struct {
	NATSURL    string
	CAFile     string
	CertFile   string
	KeyFile    string
	IssuerSeed string
	DeviceCA   string
	ServiceCA  string
	Timeout    time.Duration
}

var program = kit.Program{Name: "nats-auth", Setup: setup}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := program.Run(ctx, environ(os.Getenv), os.Stdout)
	stop()
	os.Exit(code)
}

// environ adapts the Deployment's environment to the kit: HEALTH_ADDR
// (what the edge stack sets, and probes) is the kit's OPS_PORT unless
// OPS_PORT is set, and a callout has no load balancer to drain from, so
// DRAIN_DELAY defaults to 0s.
func environ(getenv func(string) string) func(string) string {
	return func(name string) string {
		v := getenv(name)
		if strings.TrimSpace(v) != "" {
			return v
		}
		switch name {
		case "OPS_PORT":
			if p, err := healthPort(getenv("HEALTH_ADDR")); err == nil {
				return strconv.Itoa(p)
			}
		case "DRAIN_DELAY":
			return "0s"
		}
		return v
	}
}

// healthPort is the port of HEALTH_ADDR ("[host]:port"; default :8081).
func healthPort(addr string) (int, error) {
	addr = strings.TrimSpace(addr)
	if addr == "" {
		addr = DefaultHealthAddr
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return p, nil
}

// readConfig reads the callout's settings; problems are recorded in env,
// one per variable.
func readConfig(env *kit.Env) Config {
	c := Config{
		NATSURL:    env.Required("NATS_URL", "the edge-nats client listener, tls://nats.edge-nats.svc:4222 (edge stack)"),
		CAFile:     env.Required("NATS_CA_FILE", "the CA bundle verifying the NATS server (Secret nats-user-auth-callout, ca.crt)"),
		CertFile:   env.Required("NATS_CERT_FILE", "the client certificate of user auth-callout (Secret nats-user-auth-callout, tls.crt)"),
		KeyFile:    env.Required("NATS_KEY_FILE", "the key of that certificate (Secret nats-user-auth-callout, tls.key)"),
		IssuerSeed: env.Required("ISSUER_SEED_FILE", "the account nkey seed user JWTs are signed with (Secret nats-auth-callout, seed)"),
		DeviceCA:   env.Required("DEVICE_CA_FILE", "the device CA certificate (ConfigMap nats-trust-anchors, device-ca.pem)"),
		ServiceCA:  env.Required("SERVICE_CA_FILE", "the service CA certificate (ConfigMap nats-trust-anchors, service-ca.pem)"),
		Timeout:    env.Duration("NATS_TIMEOUT", DefaultTimeout, 100*time.Millisecond, time.Minute),
	}
	if c.NATSURL != "" && !strings.HasPrefix(c.NATSURL, "tls://") {
		env.Fail(fmt.Errorf("NATS_URL=%q must be a tls:// URL: the callout authenticates with its certificate", c.NATSURL))
	}
	health := env.String("HEALTH_ADDR", DefaultHealthAddr)
	hp, err := healthPort(health)
	if err != nil {
		env.Fail(fmt.Errorf("HEALTH_ADDR=%q must be [host]:port, e.g. %s: %w", health, DefaultHealthAddr, err))
	} else if ops := env.String("OPS_PORT", ""); ops != "" && ops != strconv.Itoa(hp) {
		env.Fail(fmt.Errorf("OPS_PORT=%s and HEALTH_ADDR=%q disagree: health, readiness and metrics answer on one port", ops, health))
	}
	return c
}

func setup(_ context.Context, env *kit.Env, s *kit.Service) error {
	c := readConfig(env)
	if env.Err() != nil {
		return nil
	}
	r, err := responder(c, s.Log)
	if err != nil {
		return err
	}
	w := newWorker(r, s.Log, s.Tracer, c.Timeout, func() (*nats.Conn, error) { return dial(c, s.Log) })
	w.Register(s.Metrics)
	s.ReadyWhen("nats", w.Ready)
	s.Go("callout", w.Run)
	return nil
}

// dial connects as user auth-callout. A first attempt that fails is
// retried in the background (readiness fails meanwhile); every attempt
// (TCP and TLS) has c.Timeout, and a dead connection is noticed within
// 3 pings of 20 s. Connection events are logged as JSON like the rest.
func dial(c Config, log *slog.Logger) (*nats.Conn, error) {
	nc, err := nats.Connect(c.NATSURL, nats.RootCAs(c.CAFile), nats.ClientCert(c.CertFile, c.KeyFile),
		nats.Name("nats-auth"), nats.Timeout(c.Timeout), nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1), nats.ReconnectWait(2*time.Second),
		nats.PingInterval(20*time.Second), nats.MaxPingsOutstanding(3), nats.DrainTimeout(DrainTimeout),
		nats.ConnectHandler(func(nc *nats.Conn) { log.Info("connected to NATS", "server", nc.ConnectedUrlRedacted()) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("reconnected to NATS", "server", nc.ConnectedUrlRedacted()) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("disconnected from NATS", "error", err.Error())
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { log.Error("NATS", "error", err.Error()) }))
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", c.NATSURL, err)
	}
	return nc, nil
}

// responder loads the key and anchors the callout signs and decides with.
func responder(c Config, log *slog.Logger) (*callout.Responder, error) {
	seed, err := os.ReadFile(c.IssuerSeed)
	if err != nil {
		return nil, fmt.Errorf("ISSUER_SEED_FILE: %w", err)
	}
	kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(string(seed))))
	if err != nil {
		return nil, fmt.Errorf("ISSUER_SEED_FILE %s: %w", c.IssuerSeed, err)
	}
	if pub, err := kp.PublicKey(); err != nil || !nkeys.IsValidPublicAccountKey(pub) {
		return nil, fmt.Errorf("ISSUER_SEED_FILE %s: not an account seed (the issuer must be an account key)", c.IssuerSeed)
	}
	d, err := os.ReadFile(c.DeviceCA)
	if err != nil {
		return nil, fmt.Errorf("DEVICE_CA_FILE: %w", err)
	}
	s, err := os.ReadFile(c.ServiceCA)
	if err != nil {
		return nil, fmt.Errorf("SERVICE_CA_FILE: %w", err)
	}
	anchors, err := callout.LoadAnchors(d, s)
	if err != nil {
		return nil, err
	}
	return &callout.Responder{Issuer: kp, Anchors: anchors, Log: log}, nil
}

// Results of an authorization request (label result).
const (
	Granted = "granted"
	Refused = "refused"
	// Failed: no answer was sent; the server refuses the client when its
	// callout timeout ends.
	Failed = "failed"
)

// worker holds the callout's connection and subscription: it answers
// requests until its context ends, then drains.
type worker struct {
	responder *callout.Responder
	log       *slog.Logger
	tracer    trace.Tracer
	timeout   time.Duration
	connect   func() (*nats.Conn, error)
	results   *prometheus.CounterVec

	nc         atomic.Pointer[nats.Conn]
	subscribed atomic.Bool
}

func newWorker(r *callout.Responder, log *slog.Logger, tracer trace.Tracer, timeout time.Duration, connect func() (*nats.Conn, error)) *worker {
	w := &worker{responder: r, log: log, tracer: tracer, timeout: timeout, connect: connect,
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "nats_auth_authorizations_total",
			Help: "NATS authorization requests answered, by result: granted, refused, or failed (no answer sent).",
		}, []string{"result"})}
	for _, r := range []string{Granted, Refused, Failed} {
		w.results.WithLabelValues(r)
	}
	return w
}

// Register adds the worker's metrics to reg.
func (w *worker) Register(reg prometheus.Registerer) { reg.MustRegister(w.results) }

// Ready fails until the server has confirmed the subscription, and while
// the connection is down.
func (w *worker) Ready(context.Context) error {
	nc := w.nc.Load()
	switch {
	case nc == nil:
		return errors.New("not connected to NATS yet")
	case !nc.IsConnected():
		return fmt.Errorf("not connected to NATS (%s)", nc.Status())
	case !w.subscribed.Load():
		return fmt.Errorf("subscription to %s not confirmed yet", callout.Subject)
	}
	return nil
}

// Run connects, subscribes to callout.Subject in callout.QueueGroup, and
// answers until ctx ends; then it drains the subscription and closes the
// connection, within DrainTimeout and the final flush.
func (w *worker) Run(ctx context.Context) error {
	nc, err := w.connect()
	if err != nil {
		return err
	}
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	w.nc.Store(nc)
	defer w.stop(nc, closed)
	if _, err := nc.QueueSubscribe(callout.Subject, callout.QueueGroup, w.handle); err != nil {
		return fmt.Errorf("subscribe %s: %w", callout.Subject, err)
	}
	// The subscription is sent on (re)connect; one PING/PONG round trip
	// after it proves the server has it. While NATS is unreachable each
	// attempt ends at its deadline and the next one starts.
	for {
		fctx, cancel := context.WithTimeout(ctx, w.timeout)
		err := nc.FlushWithContext(fctx)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		if nc.IsClosed() {
			return fmt.Errorf("subscribe %s: %w", callout.Subject, err)
		}
		w.log.Warn("waiting for NATS", "status", nc.Status().String(), "error", err.Error())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(w.timeout / 4):
		}
	}
	w.subscribed.Store(true)
	w.log.Info("answering authorization requests", "subject", callout.Subject, "queue", callout.QueueGroup)
	select {
	case <-ctx.Done():
		return nil
	case <-closed:
		return errors.New("NATS connection closed")
	}
}

// stop drains the connection (the server stops sending requests here,
// those in hand are answered) and waits for it to close, at most
// DrainTimeout plus the final flush's 5 s.
func (w *worker) stop(nc *nats.Conn, closed <-chan struct{}) {
	w.subscribed.Store(false)
	if err := nc.Drain(); err != nil {
		nc.Close()
		return
	}
	select {
	case <-closed:
	case <-time.After(DrainTimeout + 6*time.Second):
		w.log.Warn("NATS drain did not finish in time; closing")
		nc.Close()
	}
}

// handle answers one request and counts its result. The responder logs
// the decision; request and response bodies (credentials, JWTs) are never
// logged.
func (w *worker) handle(m *nats.Msg) {
	_, span := w.tracer.Start(context.Background(), "authorize", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(attribute.String("messaging.destination.name", callout.Subject)))
	defer span.End()
	result := Failed
	defer func() {
		w.results.WithLabelValues(result).Inc()
		span.SetAttributes(attribute.String("nats_auth.result", result))
	}()
	out, err := w.responder.Respond(m.Data)
	if err != nil {
		span.SetStatus(codes.Error, "cannot answer")
		w.log.Error("cannot answer authorization request", "error", err.Error())
		return
	}
	decided := outcome(out)
	if err := m.Respond(out); err != nil {
		span.SetStatus(codes.Error, "cannot send")
		w.log.Error("cannot send authorization response", "error", err.Error())
		return
	}
	result = decided
}

// outcome reads the decision back from a signed response: one with an
// error is a refusal.
func outcome(response []byte) string {
	rc, err := jwt.DecodeAuthorizationResponseClaims(string(response))
	switch {
	case err != nil:
		return Failed
	case rc.Error != "" || rc.Jwt == "":
		return Refused
	default:
		return Granted
	}
}
