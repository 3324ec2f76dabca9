package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// silentEndpoint accepts connections and never answers: DynamoDB hanging.
func silentEndpoint(t *testing.T) string {
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

// GIVEN a run waiting on a DynamoDB endpoint that never answers (long
// deadlines) WHEN the job gets SIGTERM (the pod is deleted) or SIGINT THEN
// it exits 1 within a second, logging that it was interrupted. GIVEN the
// same endpoint and the default 10 s call deadline shortened to 300 ms THEN
// the run fails by itself within a second.
func TestSignalsAndAHangingTableEndTheRun(t *testing.T) {
	endpoint := silentEndpoint(t)
	start := func(args ...string) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--beacon-rotate", "--dry-run"}, args...)...)
		cmd.Env = []string{"BEACON_ROTATE_TEST_MAIN=1", "AWS_ENDPOINT_URL=" + endpoint, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
			"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
			"BEACON_TABLE=spatialprops-dev-beacons", "AWS_REGION=ap-southeast-2", "PATH=" + os.Getenv("PATH")}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		return cmd, &out
	}
	wait := func(cmd *exec.Cmd, out *bytes.Buffer, limit time.Duration) time.Duration {
		t.Helper()
		began := time.Now()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(limit):
			_ = cmd.Process.Kill()
			t.Fatalf("beacon-rotate still running after %s:\n%s", limit, out.String())
		}
		return time.Since(began)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, out := start("--call-timeout", "1m")
			time.Sleep(500 * time.Millisecond)
			require.NoError(t, cmd.Process.Signal(sig))
			took := wait(cmd, out, 5*time.Second)
			assert.Less(t, took, 2*time.Second)
			assert.Equal(t, 1, cmd.ProcessState.ExitCode(), out.String())
			assert.Contains(t, out.String(), `"interrupted":true`)
		})
	}
	t.Run("call deadline", func(t *testing.T) {
		cmd, out := start("--call-timeout", "300ms")
		took := wait(cmd, out, 10*time.Second)
		assert.Less(t, took, 3*time.Second)
		assert.Equal(t, 1, cmd.ProcessState.ExitCode(), out.String())
		assert.Contains(t, out.String(), "context deadline exceeded")
	})
}
