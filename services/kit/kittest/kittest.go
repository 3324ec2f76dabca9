// Package kittest helps services test themselves on the kit: a service
// built with test settings, served on loopback ports, its JSON logs kept.
package kittest

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/spatialprops/spatialprops-infra/services/kit"
)

// Logs is a log sink safe for a service's goroutines.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything logged so far.
func (l *Logs) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// Service is a kit service with test settings (no drain delay unless
// given), recording its spans and logs.
type Service struct {
	*kit.Service
	Spans *tracetest.SpanRecorder
	Logs  *Logs
}

// New builds a test service called name.
func New(name string, drain time.Duration) *Service {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	logs := &Logs{}
	s := kit.New(kit.Settings{Name: name, DrainDelay: drain, ShutdownGrace: 5 * time.Second}, kit.NewLogger(logs, 0), tp.Tracer(name))
	return &Service{Service: s, Spans: rec, Logs: logs}
}

// Running is a service serving on loopback.
type Running struct {
	API, Ops string // base URLs
	stop     context.CancelFunc
	done     chan error
}

// Start serves s on two free loopback ports until Stop (or the test's end).
func Start(t testing.TB, s *kit.Service) *Running {
	t.Helper()
	api, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{API: "http://" + api.Addr().String(), Ops: "http://" + ops.Addr().String(), stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Serve(ctx, api, ops) }()
	t.Cleanup(func() { _ = r.Stop() })
	return r
}

// Stop begins the shutdown (what SIGTERM does) and waits for Serve.
func (r *Running) Stop() error {
	if r.stop == nil {
		return nil
	}
	r.stop()
	r.stop = nil
	return <-r.done
}

// Signal begins the shutdown without waiting; Wait collects the result.
func (r *Running) Signal() { r.stop() }

// Wait returns Serve's result after Signal.
func (r *Running) Wait() error { r.stop = nil; return <-r.done }

// Get fetches url with a 5 s deadline and returns the status code and body
// (-1 and the error on a transport error, such as a refused connection).
func Get(url string) (int, string) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return -1, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
