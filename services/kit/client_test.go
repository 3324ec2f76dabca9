package kit_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spatialprops/spatialprops-infra/services/kit"
)

var fast = kit.Retry{Attempts: 3, PerCall: 300 * time.Millisecond, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}

func client() *kit.Client {
	c := kit.NewClient()
	c.Retry = fast
	return c
}

// GIVEN a port nobody listens on THEN the call fails after its attempts,
// quickly, saying how many ran.
func TestClientClosedPort(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	start := time.Now()
	err := client().Do(context.Background(), http.MethodGet, "http://"+addr+"/x", nil, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "after 3 attempt(s)") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("want 3 refused attempts, got %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("a closed port took %s", time.Since(start))
	}
}

// GIVEN a server that accepts and never answers THEN each attempt ends at
// its own deadline and the call ends after attempts x PerCall (+ waits).
func TestClientServerNeverAnswers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			defer c.Close()
		}
	}()
	start := time.Now()
	err = client().Do(context.Background(), http.MethodGet, "http://"+l.Addr().String()+"/x", nil, nil, nil)
	took := time.Since(start)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a deadline error, got %v", err)
	}
	if took < 900*time.Millisecond || took > 2*time.Second {
		t.Fatalf("3 attempts of 300ms took %s", took)
	}
	if conns.Load() != 3 {
		t.Fatalf("%d attempts reached the server, want 3", conns.Load())
	}
}

// GIVEN a server that fails half way (answers 200, then drops the
// connection in the middle of the body) once THEN the next attempt succeeds.
func TestClientServerFailsHalfWay(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			conn, buf, _ := w.(http.Hijacker).Hijack()
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"pa")
			_ = buf.Flush()
			conn.Close()
			return
		}
		_, _ = w.Write([]byte(`{"packs":["a"]}`))
	}))
	defer srv.Close()
	var out struct{ Packs []string }
	if err := client().Do(context.Background(), http.MethodGet, srv.URL, nil, nil, &out); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || len(out.Packs) != 1 {
		t.Fatalf("calls=%d out=%v; want a retry that succeeds", calls.Load(), out)
	}
}

// GIVEN a 4xx THEN it is not retried; GIVEN a 5xx THEN it is, up to the cap.
func TestClientRetriesOnlyServerErrors(t *testing.T) {
	for code, wantCalls := range map[int]int64{400: 1, 403: 1, 503: 3} {
		var calls atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			kit.WriteProblem(w, code, "nope", "refused")
		}))
		err := client().PostJSON(context.Background(), srv.URL, map[string]string{"a": "b"}, nil, nil)
		srv.Close()
		var se *kit.StatusError
		if !errors.As(err, &se) || se.Code != code || calls.Load() != wantCalls {
			t.Errorf("HTTP %d: calls=%d err=%v; want %d calls", code, calls.Load(), err, wantCalls)
		}
	}
}

// The context's own deadline wins over the attempts left.
func TestRetryStopsAtTheCallersDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r := kit.Retry{Attempts: 100, PerCall: time.Second, Base: 50 * time.Millisecond, Max: 50 * time.Millisecond}
	start := time.Now()
	err := r.Do(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("err=%v after %s", err, time.Since(start))
	}
}
