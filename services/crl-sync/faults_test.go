package main

import (
	"bytes"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/faultnet"
)

// TestMain lets the test binary stand in for crl-sync (subprocess tests):
// with CRL_SYNC_TEST_MAIN=1 it runs main() with the arguments after
// "--crl-sync".
func TestMain(m *testing.M) {
	faultnet.ChildMain("CRL_SYNC_TEST_MAIN", "--crl-sync", "crl-sync", main)
	os.Exit(m.Run())
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
	for name, endpoint := range map[string]func(testing.TB) string{"closed": faultnet.Closed, "never answers": faultnet.Silent, "half way": faultnet.HalfWay} {
		t.Run(name, func(t *testing.T) {
			awsEnv(t, "http://"+endpoint(t))
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
	endpoint := "http://" + faultnet.Silent(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			env := []string{"AWS_ENDPOINT_URL=" + endpoint, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
				"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"}
			for k, v := range goodEnv() {
				env = append(env, k+"="+v)
			}
			cmd := faultnet.Child("CRL_SYNC_TEST_MAIN", "--crl-sync", env, "--call-timeout", "1m")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			require.NoError(t, cmd.Start())
			time.Sleep(500 * time.Millisecond)
			start := time.Now()
			require.NoError(t, cmd.Process.Signal(sig))
			faultnet.Wait(t, cmd, 5*time.Second)
			assert.Less(t, time.Since(start), 2*time.Second)
			assert.Equal(t, 1, cmd.ProcessState.ExitCode(), out.String())
			assert.Contains(t, out.String(), `"interrupted":true`)
		})
	}
}
