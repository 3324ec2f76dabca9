// Package server is pack-service's HTTP surface: liveness, readiness,
// Prometheus metrics and the (for now minimal) API, each request traced and
// logged as JSON with its trace id, and a shutdown that drains in-flight
// requests within the pod's grace period.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Server holds the handlers' dependencies and readiness state.
type Server struct {
	log      *slog.Logger
	tracer   trace.Tracer
	ready    atomic.Bool
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	registry *prometheus.Registry
	mux      *http.ServeMux
}

// New builds the server; it starts ready. reg receives the service's
// metrics (plus Go and process collectors).
func New(log *slog.Logger, tracer trace.Tracer, reg *prometheus.Registry) *Server {
	s := &Server{
		log: log, tracer: tracer, registry: reg, mux: http.NewServeMux(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
	reg.MustRegister(s.requests, s.duration)
	s.ready.Store(true)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	s.mux.Handle("GET /v1/info", s.instrument("/v1/info", http.HandlerFunc(s.info)))
	return s
}

// Handler is the HTTP handler to serve.
func (s *Server) Handler() http.Handler { return s.mux }

// SetNotReady makes /readyz fail, so the Service stops routing new
// requests here before shutdown begins.
func (s *Server) SetNotReady() { s.ready.Store(false) }

// healthz: the process is alive (no dependency checks, or a broken
// dependency would restart every pod at once).
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok\n"))
}

// readyz: accepting traffic (false once shutdown has begun).
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

// info is the walking skeleton's one API call.
func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"service": "pack-service", "status": "walking skeleton"})
	s.log.InfoContext(r.Context(), "served info")
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// instrument wraps an API route in a span, the request metrics and a
// JSON access log line carrying the trace id.
func (s *Server) instrument(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ctx, span := s.tracer.Start(r.Context(), r.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
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
		s.log.InfoContext(ctx, "request", "method", r.Method, "route", route, "status", sw.code, "duration_ms", time.Since(start).Milliseconds())
	})
}

// Run serves on ln until ctx ends, then marks the server not ready, and
// shuts down gracefully: no new connections, in-flight requests get up to
// grace to finish. It returns nil after a clean shutdown.
func Run(ctx context.Context, s *Server, ln net.Listener, grace time.Duration) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.SetNotReady()
	s.log.Info("shutting down", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	s.log.Info("stopped")
	return nil
}
