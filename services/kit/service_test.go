package kit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

// GIVEN a service under a steady stream of new connections WHEN the stop
// signal arrives THEN /readyz answers 503 on both listeners at once, every
// request sent during the drain delay is still served (none refused), a
// slow request in flight finishes, and only after the delay does the API
// refuse new connections. (pack-service used to close its listener the
// instant it went unready: half of a 3,000-request burst was refused.)
func TestShutdownFailsReadinessDrainsThenCloses(t *testing.T) {
	const drain = 600 * time.Millisecond
	s := kittest.New("drain-test", drain)
	release := make(chan struct{})
	s.Handle("GET /slow", func(w http.ResponseWriter, _ *http.Request) {
		<-release
		_, _ = w.Write([]byte("done"))
	})
	s.Handle("GET /v1/ping", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("pong")) })
	r := kittest.Start(t, s.Service)
	if c, _ := kittest.Get(r.API + "/readyz"); c != 200 {
		t.Fatalf("readyz before shutdown = %d", c)
	}
	slow := make(chan string, 1)
	go func() { _, body := kittest.Get(r.API + "/slow"); slow <- body }()
	time.Sleep(50 * time.Millisecond)

	signalled := time.Now()
	r.Signal()
	time.Sleep(50 * time.Millisecond)
	for _, base := range []string{r.API, r.Ops} {
		if c, body := kittest.Get(base + "/readyz"); c != http.StatusServiceUnavailable {
			t.Fatalf("%s/readyz while draining = %d %q, want 503", base, c, body)
		}
	}
	if c, _ := kittest.Get(r.Ops + "/healthz"); c != 200 {
		t.Fatalf("healthz while draining = %d, want 200 (the kubelet must not restart a draining pod)", c)
	}
	// A burst of fresh connections during the drain delay: all served.
	var served, refused atomic.Int64
	var wg sync.WaitGroup
	noKeepAlive := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for time.Since(signalled) < drain-150*time.Millisecond {
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := noKeepAlive.Get(r.API + "/v1/ping")
				if err != nil {
					refused.Add(1)
					return
				}
				resp.Body.Close()
				served.Add(1)
			}()
		}
		time.Sleep(10 * time.Millisecond)
	}
	wg.Wait()
	if refused.Load() != 0 || served.Load() == 0 {
		t.Fatalf("during the drain delay: %d served, %d refused; want all served", served.Load(), refused.Load())
	}
	time.Sleep(time.Until(signalled.Add(drain + 200*time.Millisecond)))
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(r.API, "http://"), time.Second); err == nil {
		t.Fatal("after the drain delay the API listener must be closed")
	}
	close(release)
	if got := <-slow; got != "done" {
		t.Fatalf("in-flight request got %q, want it to finish", got)
	}
	if err := r.Wait(); err != nil {
		t.Fatalf("Serve after a clean stop: %v", err)
	}
}

// GIVEN a worker WHEN shutdown begins THEN its context ends (it stops
// taking work) while the API still drains; a worker that fails stops the
// service with its error.
func TestWorkers(t *testing.T) {
	s := kittest.New("workers", 0)
	stopped := make(chan struct{})
	s.Go("consumer", func(ctx context.Context) error { <-ctx.Done(); close(stopped); return nil })
	r := kittest.Start(t, s.Service)
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stopped:
	default:
		t.Fatal("the worker's context must end at shutdown")
	}

	f := kittest.New("failing", time.Hour)
	f.Go("consumer", func(context.Context) error { return errors.New("queue gone") })
	r = kittest.Start(t, f.Service)
	done := make(chan error, 1)
	go func() { done <- r.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "worker consumer: queue gone") {
			t.Fatalf("want the worker's error, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a failed worker must stop the service without waiting out the drain delay")
	}
}

// GIVEN a readiness check that fails THEN /readyz says which, and /healthz
// stays 200.
func TestReadinessChecks(t *testing.T) {
	s := kittest.New("checks", 0)
	var broken atomic.Bool
	s.ReadyWhen("queue", func(context.Context) error {
		if broken.Load() {
			return errors.New("receive failed")
		}
		return nil
	})
	r := kittest.Start(t, s.Service)
	if c, _ := kittest.Get(r.Ops + "/readyz"); c != 200 {
		t.Fatalf("readyz = %d", c)
	}
	broken.Store(true)
	c, body := kittest.Get(r.Ops + "/readyz")
	if c != 503 || !strings.Contains(body, "queue: receive failed") {
		t.Fatalf("readyz = %d %q, want 503 naming the check", c, body)
	}
	if c, _ := kittest.Get(r.Ops + "/healthz"); c != 200 {
		t.Fatalf("healthz = %d", c)
	}
}

// GIVEN one API request THEN it is counted on the ops listener's /metrics
// (and only there), made a server span, and its JSON log line carries the
// span's trace id.
func TestRequestsAreMeasuredTracedAndLogged(t *testing.T) {
	s := kittest.New("observed", 0)
	s.Handle("GET /v1/info", func(w http.ResponseWriter, r *http.Request) { kit.WriteJSON(w, 200, map[string]string{"ok": "yes"}) })
	r := kittest.Start(t, s.Service)
	if c, _ := kittest.Get(r.API + "/v1/info"); c != 200 {
		t.Fatalf("info %d", c)
	}
	_, metrics := kittest.Get(r.Ops + "/metrics")
	if !strings.Contains(metrics, `http_requests_total{code="200",route="GET /v1/info"} 1`) {
		t.Fatalf("request not counted:\n%s", metrics)
	}
	if c, _ := kittest.Get(r.API + "/metrics"); c != 404 {
		t.Fatalf("/metrics on the API port = %d, want 404 (metrics live on the ops port)", c)
	}
	spans := s.Spans.Ended()
	if len(spans) != 1 || spans[0].Name() != "GET /v1/info" {
		t.Fatalf("want one server span, got %d", len(spans))
	}
	traceID := spans[0].SpanContext().TraceID().String()
	found := false
	for _, line := range strings.Split(strings.TrimSpace(s.Logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == "request" && rec["trace_id"] == traceID && rec["route"] == "GET /v1/info" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no request log line with trace_id %s:\n%s", traceID, s.Logs.String())
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// GIVEN the metrics port is taken THEN the program exits 1 naming it, and
// does not run blind; GIVEN a bad or missing setting THEN it exits 2
// naming each; GIVEN free ports and a stop THEN it exits 0.
func TestProgramExitCodes(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := func(l net.Listener) string { _, p, _ := net.SplitHostPort(l.Addr().String()); return p }
	free := func() string {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		defer l.Close()
		return port(l)
	}
	p := kit.Program{Name: "exit-test", Setup: func(_ context.Context, e *kit.Env, s *kit.Service) error {
		e.Required("QUEUE_URL", "the queue to consume")
		return nil
	}}
	var logs kittest.Logs
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code := p.Run(ctx, env(map[string]string{"QUEUE_URL": "q", "PORT": free(), "OPS_PORT": port(taken)}), &logs)
	if code != kit.ExitFailed || !strings.Contains(logs.String(), "OPS_PORT "+port(taken)) {
		t.Fatalf("metrics port taken: exit %d, logs %s", code, logs.String())
	}
	logs = kittest.Logs{}
	code = p.Run(ctx, env(map[string]string{"PORT": "http", "DRAIN_DELAY": "forever"}), &logs)
	for _, want := range []string{`PORT=\"http\" must be a whole number`, `DRAIN_DELAY=\"forever\" must be a duration`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("config errors must name %s:\n%s", want, logs.String())
		}
	}
	if code != kit.ExitConfig {
		t.Fatalf("bad settings: exit %d, want %d", code, kit.ExitConfig)
	}
	logs = kittest.Logs{}
	code = p.Run(ctx, env(map[string]string{"PORT": free(), "OPS_PORT": free()}), &logs)
	if code != kit.ExitConfig || !strings.Contains(logs.String(), "QUEUE_URL is required: the queue to consume") {
		t.Fatalf("missing service setting: exit %d\n%s", code, logs.String())
	}
	code = p.Run(ctx, env(map[string]string{"QUEUE_URL": "q", "PORT": free(), "OPS_PORT": free(), "DRAIN_DELAY": "0s"}), &logs)
	if code != kit.ExitOK {
		t.Fatalf("clean stop: exit %d\n%s", code, logs.String())
	}
}

// GIVEN a static site THEN / is its index page with a strict CSP, files are
// served by path, a missing one is 404, and the health routes still answer.
func TestStatic(t *testing.T) {
	s := kittest.New("site", 0)
	kit.Static(s.Service, fstest.MapFS{"index.html": {Data: []byte("<h1>Spatial Packs</h1>")}, "app.js": {Data: []byte("//")}})
	r := kittest.Start(t, s.Service)
	c, body := kittest.Get(r.API + "/")
	if c != 200 || body != "<h1>Spatial Packs</h1>" {
		t.Fatalf("/ = %d %q", c, body)
	}
	resp, err := http.Get(r.API + "/app.js")
	if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("app.js: %v %v", err, resp)
	}
	resp.Body.Close()
	if c, _ := kittest.Get(r.API + "/missing.js"); c != 404 {
		t.Fatalf("missing file = %d", c)
	}
	if c, _ := kittest.Get(r.API + "/readyz"); c != 200 {
		t.Fatalf("readyz = %d", c)
	}
}

// GIVEN a static-site program THEN it serves the embedded directory's
// index at / and exits 0 after a clean stop.
func TestStaticSiteProgram(t *testing.T) {
	files := fstest.MapFS{"site/index.html": {Data: []byte("<h1>Site</h1>")}}
	p := kit.StaticSite("site", files, "site")
	s := kittest.New("site", 0)
	if err := p.Setup(context.Background(), kit.NewEnv(func(string) string { return "" }), s.Service); err != nil {
		t.Fatal(err)
	}
	r := kittest.Start(t, s.Service)
	if c, body := kittest.Get(r.API + "/"); c != 200 || body != "<h1>Site</h1>" {
		t.Fatalf("/ = %d %q", c, body)
	}
}
