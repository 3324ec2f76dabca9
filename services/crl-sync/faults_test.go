package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary stand in for crl-sync (subprocess tests):
// with CRL_SYNC_TEST_MAIN=1 it runs main() with the arguments after
// "--crl-sync".
func TestMain(m *testing.M) {
	if os.Getenv("CRL_SYNC_TEST_MAIN") == "1" {
		for i, a := range os.Args {
			if a == "--crl-sync" {
				os.Args = append([]string{"crl-sync"}, os.Args[i+1:]...)
			}
		}
		main()
	}
	os.Exit(m.Run())
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// silent accepts connections and never answers.
func silent(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

// halfWay answers 200 with a Content-Length of 4096, sends 16 bytes and
// hangs up.
func halfWay(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				_, _ = c.Read(buf)
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\nContent-Type: application/octet-stream\r\n\r\n0123456789abcdef")
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return "http://" + l.Addr().String()
}

func awsEnv(t *testing.T, endpoint string) {
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
}

// GIVEN the AWS endpoint closed, never answering, or breaking off its
// answer half way WHEN the job runs with the real SDK clients THEN it exits
// 1 within its per-call deadline (not the 3-minute run timeout), saying
// what failed, and nothing was changed.
func TestNetworkFaultsEndTheRunWithinTheCallDeadline(t *testing.T) {
	for name, endpoint := range map[string]func(*testing.T) string{"closed": closedPort, "never answers": silent, "half way": halfWay} {
		t.Run(name, func(t *testing.T) {
			awsEnv(t, endpoint(t))
			var out, errOut bytes.Buffer
			start := time.Now()
			code := run([]string{"--call-timeout", "300ms"}, envOf(goodEnv()), &out, &errOut, nil)
			assert.Equal(t, 1, code, errOut.String())
			assert.Less(t, time.Since(start), 3*time.Second)
			assert.Contains(t, out.String(), `"msg":"crl sync failed"`)
			assert.Contains(t, out.String(), "read CRL s3://spatial-pki-spatialprops-dev-ap-southeast-2/crl/", "the first call is the CRL read")
		})
	}
}

// GIVEN a run waiting on an AWS endpoint that never answers (long
// deadlines) WHEN the job gets SIGTERM (the pod is deleted) or SIGINT THEN
// it exits 1 within a second, logging that it was interrupted.
func TestSignalEndsTheRunPromptly(t *testing.T) {
	endpoint := silent(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$", "--crl-sync", "--call-timeout", "1m")
			env := []string{"CRL_SYNC_TEST_MAIN=1", "AWS_ENDPOINT_URL=" + endpoint, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
				"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "PATH=" + os.Getenv("PATH")}
			for k, v := range goodEnv() {
				env = append(env, k+"="+v)
			}
			cmd.Env = env
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			require.NoError(t, cmd.Start())
			time.Sleep(500 * time.Millisecond)
			start := time.Now()
			require.NoError(t, cmd.Process.Signal(sig))
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("crl-sync still running 5s after %s:\n%s", sig, out.String())
			}
			assert.Less(t, time.Since(start), 2*time.Second)
			assert.Equal(t, 1, cmd.ProcessState.ExitCode(), out.String())
			assert.True(t, strings.Contains(out.String(), `"interrupted":true`), out.String())
		})
	}
}
