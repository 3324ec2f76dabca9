// Package kit is what every Spatial Properties service shares, so that a
// service's main.go is a page (wire, run, exit code): settings from the
// environment, an API listener and a separate operations listener
// (/healthz, /readyz, /metrics), JSON logs carrying trace ids, OTLP traces,
// bounded outbound calls (Retry, HTTP) and a shutdown that first fails
// readiness, waits a drain delay, then closes the listener.
package kit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Defaults of the settings every service reads (Settings).
const (
	// DefaultPort serves the API (the charts' container port "http").
	DefaultPort = 8080
	// DefaultOpsPort serves /healthz, /readyz and /metrics (container port
	// "metrics", what the ServiceMonitor scrapes).
	DefaultOpsPort = 9090
	// DefaultDrainDelay is how long a stopping pod keeps serving after
	// /readyz turned 503: long enough for the endpoints controller,
	// kube-proxy and the ALB to stop sending it new requests.
	DefaultDrainDelay = 10 * time.Second
	// DefaultShutdownGrace bounds the wait for in-flight requests and
	// workers once the listener is closed. Drain delay plus grace (25 s)
	// stays inside the pod's 30 s terminationGracePeriodSeconds.
	DefaultShutdownGrace = 15 * time.Second
)

// Settings are what every service reads from its environment.
type Settings struct {
	// Name is the service name (OTEL_SERVICE_NAME; default the program's).
	Name string
	// Port (PORT) serves the API; OpsPort (OPS_PORT) serves health and
	// metrics. 0 picks a free port (tests).
	Port, OpsPort int
	// DrainDelay (DRAIN_DELAY) and ShutdownGrace (SHUTDOWN_GRACE): see the
	// defaults.
	DrainDelay, ShutdownGrace time.Duration
	// OTLPEndpoint (OTEL_EXPORTER_OTLP_ENDPOINT) enables trace export.
	OTLPEndpoint string
}

// ReadSettings reads the common settings of service name from env.
func ReadSettings(name string, env *Env) Settings {
	return Settings{
		Name:          env.String("OTEL_SERVICE_NAME", name),
		Port:          env.Int("PORT", DefaultPort, 1, 65535),
		OpsPort:       env.Int("OPS_PORT", DefaultOpsPort, 1, 65535),
		DrainDelay:    env.Duration("DRAIN_DELAY", DefaultDrainDelay, 0, 5*time.Minute),
		ShutdownGrace: env.Duration("SHUTDOWN_GRACE", DefaultShutdownGrace, time.Second, 5*time.Minute),
		OTLPEndpoint:  env.String("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
	}
}

// Service is one running service: its routes, readiness checks, background
// workers and metrics.
type Service struct {
	Name string
	Log  *slog.Logger
	// Tracer starts the service's own spans (each API request already has one).
	Tracer trace.Tracer
	// Metrics is the registry /metrics serves: Go and process collectors,
	// the HTTP request metrics, and whatever the service registers.
	Metrics *prometheus.Registry

	settings Settings
	api      *http.ServeMux
	ready    atomic.Bool
	checks   []check
	workers  []worker
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

type check struct {
	name string
	fn   func(context.Context) error
}

type worker struct {
	name string
	fn   func(context.Context) error
}

// New builds a service; it is ready (unless a readiness check fails) until
// shutdown begins.
func New(s Settings, log *slog.Logger, tracer trace.Tracer) *Service {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	svc := &Service{
		Name: s.Name, Log: log, Tracer: tracer, Metrics: reg, settings: s, api: http.NewServeMux(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(svc.requests, svc.duration)
	svc.ready.Store(true)
	// The API port answers health too: the ALB health-checks the traffic
	// port, and must see 503 as soon as the pod starts draining.
	svc.api.HandleFunc("GET /healthz", healthz)
	svc.api.HandleFunc("GET /readyz", svc.readyz)
	return svc
}

// Handle adds an API route (a net/http ServeMux pattern such as
// "POST /v1/envelopes"): each request gets a server span, the request
// metrics under the pattern, and a JSON access-log line with its trace id.
func (s *Service) Handle(pattern string, h http.HandlerFunc) {
	s.api.Handle(pattern, s.instrument(pattern, h))
}

// ReadyWhen adds a readiness check, run (with a 2 s deadline) on every
// /readyz: a dependency the service cannot work without.
func (s *Service) ReadyWhen(name string, fn func(context.Context) error) {
	s.checks = append(s.checks, check{name, fn})
}

// Go adds a background worker (a queue consumer, a subscriber). Its
// context ends when shutdown begins: it finishes the item in hand and
// returns. A worker that returns an error stops the service with it.
func (s *Service) Go(name string, fn func(context.Context) error) {
	s.workers = append(s.workers, worker{name, fn})
}

// Ready reports whether the service takes traffic (false once draining).
func (s *Service) Ready() bool { return s.ready.Load() }

// Handler is the API listener's handler.
func (s *Service) Handler() http.Handler { return s.api }

// OpsHandler is the operations listener's handler: /healthz, /readyz,
// /metrics.
func (s *Service) OpsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{Registry: s.Metrics}))
	return mux
}

// healthz: the process is alive. No dependency checks, or one broken
// dependency would make the kubelet restart every pod at once.
func healthz(w http.ResponseWriter, _ *http.Request) {
	_, _ = w.Write([]byte("ok\n"))
}

// readyz: 503 once shutdown has begun or while a readiness check fails.
func (s *Service) readyz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "draining: shutting down", http.StatusServiceUnavailable)
		return
	}
	for _, c := range s.checks {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		err := c.fn(ctx)
		cancel()
		if err != nil {
			http.Error(w, "not ready: "+c.name+": "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Service) instrument(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, span := s.Tracer.Start(r.Context(), route, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("http.route", route)))
		defer span.End()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		span.SetAttributes(attribute.Int("http.response.status_code", sw.code))
		if sw.code >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.code))
		}
		s.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		s.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		s.Log.InfoContext(ctx, "request", "route", route, "status", sw.code, "bytes_in", r.ContentLength,
			"duration_ms", time.Since(start).Milliseconds())
	})
}

// Serve runs the service on the two listeners until ctx ends or a worker
// or listener fails, then shuts down in the order that loses no request:
//
//  1. /readyz answers 503 on both listeners and workers are told to stop
//     taking new work;
//  2. for DrainDelay the API keeps serving, while the endpoints
//     controller, kube-proxy and the ALB stop routing here;
//  3. the API listener closes and in-flight requests and workers get
//     ShutdownGrace to finish;
//  4. the operations listener closes last, so /metrics is scraped to the end.
//
// It returns nil after a clean stop on ctx, or what failed.
func (s *Service) Serve(ctx context.Context, api, ops net.Listener) error {
	apiSrv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
	opsSrv := &http.Server{Handler: s.OpsHandler(), ReadHeaderTimeout: 5 * time.Second}
	failed := make(chan error, 2+len(s.workers))
	serve := func(name string, srv *http.Server, ln net.Listener) {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("%s listener %s: %w", name, ln.Addr(), err)
		}
	}
	go serve("api", apiSrv, api)
	go serve("ops", opsSrv, ops)

	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	for _, w := range s.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.fn(work); err != nil && work.Err() == nil {
				failed <- fmt.Errorf("worker %s: %w", w.name, err)
			}
		}()
	}
	s.Log.Info("serving", "api", api.Addr().String(), "ops", ops.Addr().String(), "workers", len(s.workers))

	var cause error
	select {
	case <-ctx.Done():
	case cause = <-failed:
		s.Log.Error("stopping after a failure", "error", cause.Error())
	}
	s.ready.Store(false)
	stopWork()
	s.Log.Info("draining: readiness now fails", "drain_delay", s.settings.DrainDelay.String(), "grace", s.settings.ShutdownGrace.String())
	if cause == nil {
		time.Sleep(s.settings.DrainDelay)
	}
	grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.settings.ShutdownGrace)
	defer cancel()
	var errs []error
	if cause != nil {
		errs = append(errs, cause)
	}
	if err := apiSrv.Shutdown(grace); err != nil {
		errs = append(errs, fmt.Errorf("api shutdown: %w", err))
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-grace.Done():
		errs = append(errs, errors.New("workers did not stop within the shutdown grace"))
	}
	if err := opsSrv.Shutdown(grace); err != nil {
		errs = append(errs, fmt.Errorf("ops shutdown: %w", err))
	}
	if len(errs) == 0 {
		s.Log.Info("stopped")
	}
	return errors.Join(errs...)
}

// Listen binds the API and operations ports of s. Either failing is an
// error naming the port: a service that cannot serve its metrics or its
// probes must not run blind.
func Listen(s Settings) (api, ops net.Listener, err error) {
	api, err = net.Listen("tcp", fmt.Sprintf(":%d", s.Port))
	if err != nil {
		return nil, nil, fmt.Errorf("PORT %d: %w", s.Port, err)
	}
	ops, err = net.Listen("tcp", fmt.Sprintf(":%d", s.OpsPort))
	if err != nil {
		api.Close()
		return nil, nil, fmt.Errorf("OPS_PORT %d (health and metrics): %w", s.OpsPort, err)
	}
	return api, ops, nil
}

// Exit codes of Program.Run.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitConfig = 2
)

// Program is a service's main: its name and a Setup that reads its own
// settings from env, builds its clients and adds its routes and workers.
type Program struct {
	Name  string
	Setup func(ctx context.Context, env *Env, s *Service) error
}

// Main runs the program until SIGTERM or SIGINT and exits with its code.
func (p Program) Main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := p.Run(ctx, os.Getenv, os.Stdout)
	stop()
	os.Exit(code)
}

// Run runs the program until ctx ends and returns its exit code: ExitOK
// after a clean stop, ExitConfig when a setting is missing or invalid
// (each problem logged), ExitFailed when a port cannot be bound, setup
// fails or the service fails while running.
func (p Program) Run(ctx context.Context, getenv func(string) string, stdout io.Writer) int {
	log := NewLogger(stdout, slog.LevelInfo).With("service", p.Name)
	env := NewEnv(getenv)
	settings := ReadSettings(p.Name, env)
	if err := env.Err(); err != nil {
		log.Error("invalid configuration", "error", err.Error())
		return ExitConfig
	}
	tp, err := Tracing(ctx, settings.Name, settings.OTLPEndpoint)
	if err != nil {
		log.Error("tracing", "error", err.Error())
		return ExitFailed
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tp.Shutdown(sctx)
	}()
	svc := New(settings, log, tp.Tracer(settings.Name))
	if err := p.Setup(ctx, env, svc); err != nil {
		log.Error("setup failed", "error", err.Error())
		if env.Err() != nil {
			return ExitConfig
		}
		return ExitFailed
	}
	if err := env.Err(); err != nil {
		log.Error("invalid configuration", "error", err.Error())
		return ExitConfig
	}
	api, ops, err := Listen(settings)
	if err != nil {
		log.Error("cannot listen", "error", err.Error())
		return ExitFailed
	}
	if err := svc.Serve(ctx, api, ops); err != nil {
		log.Error("exiting", "error", err.Error())
		return ExitFailed
	}
	return ExitOK
}
