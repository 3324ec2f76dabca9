// Package faultnet gives fault tests the three broken endpoints every
// network call must survive (a closed port, a server that accepts and never
// answers, one that breaks off its answer half way) and the plumbing to run
// a test binary as the program itself, so SIGINT and SIGTERM can be sent to
// a real process. Everything listens on loopback only.
package faultnet

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Closed returns a loopback host:port that nothing listens on.
func Closed(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// Silent returns a loopback host:port that accepts connections and never
// answers; they are closed when the test ends.
func Silent(t testing.TB) string {
	t.Helper()
	return serve(t, func(c net.Conn) {})
}

// HalfWay returns a loopback host:port that answers every request with
// HTTP 200, a Content-Length of 4096 and 16 bytes of body, then hangs up.
func HalfWay(t testing.TB) string {
	t.Helper()
	return serve(t, func(c net.Conn) {
		buf := make([]byte, 8192)
		_, _ = c.Read(buf)
		fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\nContent-Type: application/octet-stream\r\n\r\n0123456789abcdef")
		c.Close()
	})
}

func serve(t testing.TB, handle func(net.Conn)) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go handle(c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// ChildMain lets a test binary stand in for the program: call it first in
// TestMain. When env is "1" it runs main with the arguments after marker
// (os.Args[0] becomes name) and exits; otherwise it returns.
func ChildMain(env, marker, name string, main func()) {
	if os.Getenv(env) != "1" {
		return
	}
	for i, a := range os.Args {
		if a == marker {
			os.Args = append([]string{name}, os.Args[i+1:]...)
			break
		}
	}
	main()
	os.Exit(0)
}

// Child returns a command running this test binary as the program (see
// ChildMain) with args and the extra environment.
func Child(env, marker string, extraEnv []string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", marker}, args...)...)
	cmd.Env = append(append(os.Environ(), extraEnv...), env+"=1")
	return cmd
}

// Wait waits for a started cmd at most limit, killing it and failing the
// test after that; it returns how long the wait took.
func Wait(t testing.TB, cmd *exec.Cmd, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s still running %s after it should have stopped", cmd.Path, limit)
	}
	return time.Since(start)
}
