package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newTestServer(t *testing.T) (*Server, *tracetest.SpanRecorder, *syncBuffer) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	logs := &syncBuffer{}
	return New(NewLogger(logs, 0), tp.Tracer("test"), prometheus.NewRegistry()), rec, logs
}

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

// GIVEN a running server THEN /healthz and /readyz answer 200; once
// shutdown begins /readyz answers 503 (the Service stops sending traffic)
// while /healthz stays 200 (the kubelet must not restart a draining pod).
func TestHealthAndReadiness(t *testing.T) {
	s, _, _ := newTestServer(t)
	if c := get(t, s.Handler(), "/healthz").Code; c != 200 {
		t.Fatalf("healthz %d", c)
	}
	if c := get(t, s.Handler(), "/readyz").Code; c != 200 {
		t.Fatalf("readyz %d", c)
	}
	s.SetNotReady()
	if c := get(t, s.Handler(), "/readyz").Code; c != http.StatusServiceUnavailable {
		t.Fatalf("readyz while draining = %d, want 503", c)
	}
	if c := get(t, s.Handler(), "/healthz").Code; c != 200 {
		t.Fatalf("healthz while draining = %d, want 200", c)
	}
}

// GIVEN one API request THEN it is counted in /metrics by route and code,
// produced a server span, and its JSON log line carries that span's trace id.
func TestAPIRequestIsMeasuredTracedAndLogged(t *testing.T) {
	s, rec, logs := newTestServer(t)
	w := get(t, s.Handler(), "/v1/info")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "pack-service") {
		t.Fatalf("info: %d %s", w.Code, w.Body)
	}
	metrics := get(t, s.Handler(), "/metrics").Body.String()
	if !strings.Contains(metrics, `http_requests_total{code="200",route="/v1/info"} 1`) {
		t.Fatalf("request not counted:\n%s", metrics)
	}
	spans := rec.Ended()
	if len(spans) != 1 || spans[0].Name() != "GET /v1/info" {
		t.Fatalf("want one server span, got %d", len(spans))
	}
	traceID := spans[0].SpanContext().TraceID().String()
	found := false
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "request" {
			found = rec["trace_id"] == traceID && rec["route"] == "/v1/info"
		}
	}
	if !found {
		t.Fatalf("no request log line with trace_id %s:\n%s", traceID, logs.String())
	}
}

// GIVEN a slow request in flight WHEN the stop signal arrives THEN the
// server stops accepting, lets the request finish, and Run returns nil.
func TestGracefulShutdownDrainsInFlight(t *testing.T) {
	s, _, _ := newTestServer(t)
	started, release := make(chan struct{}), make(chan struct{})
	s.mux.HandleFunc("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		<-release
		_, _ = w.Write([]byte("done"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- Run(ctx, s, ln, 5*time.Second) }()

	url := "http://" + ln.Addr().String()
	body := make(chan string, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			body <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body <- string(b)
	}()
	<-started
	cancel() // SIGTERM
	time.Sleep(100 * time.Millisecond)
	if s.ready.Load() {
		t.Fatal("readiness must drop as soon as shutdown starts")
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("new connections must be refused during shutdown")
	}
	close(release)
	if got := <-body; got != "done" {
		t.Fatalf("in-flight request got %q, want it to finish", got)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run after clean shutdown: %v", err)
	}
}

// GIVEN a request that outlives the grace period THEN Run reports it.
func TestShutdownGraceExceeded(t *testing.T) {
	s, _, _ := newTestServer(t)
	started := make(chan struct{})
	s.mux.HandleFunc("GET /stuck", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(2 * time.Second)
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- Run(ctx, s, ln, 50*time.Millisecond) }()
	go func() { _, _ = http.Get("http://" + ln.Addr().String() + "/stuck") }()
	<-started
	cancel()
	if err := <-runErr; err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("want a deadline error, got %v", err)
	}
}
