// Package motoserver gives tests a real AWS API emulator (moto_server) on a
// free loopback port. `make test` starts one server for the whole run and
// exports its URL as MOTO_ENDPOINT; a package run on its own (`go test
// ./cmd/spctl/...`) starts a private server instead, through Run in its
// TestMain, and stops it when the tests end. Nothing reaches the network.
//
// moto keeps all state in memory and shares it between callers, so tests
// isolate themselves by name (UniqueName), never by resetting the server.
package motoserver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// EnvVar names the variable `make test` exports with the shared server's URL.
const EnvVar = "MOTO_ENDPOINT"

// Region is the region tests talk to; moto accepts any.
const Region = "ap-southeast-2"

var (
	mu       sync.Mutex
	endpoint string
	started  *Server
)

// Server is a moto_server process this package started.
type Server struct {
	URL string
	cmd *exec.Cmd
}

// Options choose how a server is started.
type Options struct {
	// TLS serves https with moto's own throwaway certificate (moto_server -s).
	TLS bool
	// CertFile and KeyFile serve https with this certificate instead, so
	// clients can verify it (AWS_CA_BUNDLE) rather than skip verification.
	CertFile, KeyFile string
	// Env is added to the server's environment (moto settings such as
	// MOTO_ACM_VALIDATION_WAIT).
	Env []string
	// LoadManagedPolicies makes IAM know the AWS managed policies, so an
	// attachment of e.g. ReadOnlyAccess succeeds.
	LoadManagedPolicies bool
	// Log receives the server's output; nil discards it.
	Log *os.File
}

// Start launches moto_server on a free loopback port and waits until it
// answers. The caller stops it with Stop.
func Start(opts Options) (*Server, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, errors.New("moto_server is not on PATH; it ships with the machine image (python package moto[server])")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)}
	scheme := "http"
	switch {
	case opts.CertFile != "":
		args = append(args, "-c", opts.CertFile, "-k", opts.KeyFile)
		scheme = "https"
	case opts.TLS:
		args = append(args, "-s")
		scheme = "https"
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "MOTO_IAM_LOAD_MANAGED_POLICIES="+strconv.FormatBool(opts.LoadManagedPolicies))
	cmd.Env = append(cmd.Env, opts.Env...)
	if opts.Log != nil {
		cmd.Stdout, cmd.Stderr = opts.Log, opts.Log
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	s := &Server{URL: fmt.Sprintf("%s://127.0.0.1:%d", scheme, port), cmd: cmd}
	if err := s.waitReady(60 * time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Stop ends the server; it is safe to call twice.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func (s *Server) waitReady(timeout time.Duration) error {
	client := insecureClient()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := client.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("moto_server at %s did not answer within %s", s.URL, timeout)
}

// Endpoint returns the URL of a running moto_server: MOTO_ENDPOINT when
// set, else a server this package starts once per test binary (stopped by
// Run). It fails the test, never skips it, when no server can be had.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if endpoint != "" {
		return endpoint
	}
	if v := os.Getenv(EnvVar); v != "" {
		endpoint = v
		return endpoint
	}
	s, err := Start(Options{LoadManagedPolicies: true})
	if err != nil {
		tb.Fatalf("no AWS emulator: %v", err)
	}
	started, endpoint = s, s.URL
	return endpoint
}

// Run runs the package's tests and stops the server Endpoint started, if
// any. Use it as `func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }`.
func Run(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	started.Stop()
	mu.Unlock()
	return code
}

// UniqueName returns prefix plus a short random suffix, so tests sharing
// one server never see each other's resources. The result is lowercase
// letters, digits and hyphens, valid for S3 buckets and most AWS names.
func UniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
