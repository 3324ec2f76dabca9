package main

import (
	"bytes"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/faultnet"
)

// GIVEN a run waiting on a DynamoDB endpoint that never answers (long
// deadlines) WHEN the job gets SIGTERM (the pod is deleted) or SIGINT THEN
// it exits 1 within a second, logging that it was interrupted. GIVEN the
// same endpoint and the default 10 s call deadline shortened to 300 ms THEN
// the run fails by itself within a second.
func TestSignalsAndAHangingTableEndTheRun(t *testing.T) {
	endpoint := "http://" + faultnet.Silent(t)
	start := func(args ...string) (*exec.Cmd, *bytes.Buffer) {
		cmd := faultnet.Child("BEACON_ROTATE_TEST_MAIN", "--beacon-rotate", []string{"AWS_ENDPOINT_URL=" + endpoint, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
			"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
			"BEACON_TABLE=spatialprops-dev-beacons", "AWS_REGION=ap-southeast-2"}, append([]string{"--dry-run"}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		return cmd, &out
	}
	wait := func(cmd *exec.Cmd, _ *bytes.Buffer, limit time.Duration) time.Duration {
		return faultnet.Wait(t, cmd, limit)
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
