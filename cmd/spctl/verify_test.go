package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/internal/faultnet"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/internal/ops/awsenv"
	"github.com/spatialprops/spatialprops-infra/internal/ops/opstest"
)

// awsTestEnv points the SDK at endpoint with no ambient configuration: no
// profile, no shared files, no instance metadata (nothing leaves loopback).
func awsTestEnv(t *testing.T, endpoint string, withCredentials bool) {
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	if withCredentials {
		t.Setenv("AWS_ACCESS_KEY_ID", "testing")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	} else {
		t.Setenv("AWS_ACCESS_KEY_ID", "")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	}
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
}

// deployedOrg creates the state bucket of dev for a fresh org on moto, so
// the preflight finds the env in its region, and returns the org.
func deployedOrg(t *testing.T) string {
	org := motoserver.UniqueName("t")
	t.Setenv("ORG", org)
	c := s3.NewFromConfig(opstest.AWS(t, motoserver.Region), func(o *s3.Options) { o.UsePathStyle = true })
	_, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(naming.New(org, "dev", motoserver.Region).StateBucket()),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: motoserver.Region}})
	require.NoError(t, err)
	return org
}

// warm makes moto build its STS/IAM state for region before a timed run:
// its first answer in a region can take seconds on a busy machine.
func warm(t *testing.T, region string) {
	_, err := sts.NewFromConfig(opstest.AWS(t, region)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
}

// fast shortens verify's probe and check deadlines for one test.
func fast(t *testing.T) {
	old, oldHTTP, oldKube := verifyTimeouts, awsenv.HTTPTimeout, kubeTimeout
	// Seconds, not the real tens of seconds: moto's first call in a region
	// can take a second on a busy machine.
	verifyTimeouts.probe, verifyTimeouts.check = 3*time.Second, 5*time.Second
	awsenv.HTTPTimeout, kubeTimeout = 3*time.Second, 3*time.Second
	t.Cleanup(func() { verifyTimeouts, awsenv.HTTPTimeout, kubeTimeout = old, oldHTTP, oldKube })
}

// kubeconfigFor writes a kubeconfig whose cluster is at server.
func kubeconfigFor(t *testing.T, server string) string {
	p := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(p, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "%s"}}]
users: [{name: u, user: {token: test}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`, server)), 0o600))
	return p
}

type verifyJSON struct {
	Passed, Failed, NotRun int
	Problem                *struct {
		Code    int
		Kind    string
		Message string
	}
	Results []struct {
		ID, Status, Detail, Fix string
		OK                      bool
	}
}

func timed(t *testing.T, limit time.Duration, args ...string) (int, string, string) {
	t.Helper()
	start := time.Now()
	code, out, errOut := spctl(t, args...)
	assert.Less(t, time.Since(start), limit, "spctl %v must end within %s", args, limit)
	return code, out, errOut
}

// GIVEN no AWS credentials anywhere THEN verify says so in one line and
// exits 3, having checked nothing; --json says the same as data, every
// check "not run", no failure and no fix.
func TestVerifyWithoutCredentials(t *testing.T) {
	fast(t)
	awsTestEnv(t, motoserver.Endpoint(t), false)
	code, out, errOut := timed(t, 30*time.Second, "verify", "--env", "dev")
	assert.Equal(t, 3, code, errOut)
	assert.Empty(t, out)
	assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line:\n%s", errOut)
	assert.Contains(t, errOut, "no AWS credentials found")

	code, out, _ = spctl(t, "verify", "--env", "dev", "--json")
	assert.Equal(t, 3, code)
	var rep verifyJSON
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.NotNil(t, rep.Problem)
	assert.Equal(t, "credentials", rep.Problem.Kind)
	assert.Zero(t, rep.Failed, "nothing was observed, so nothing failed")
	assert.Greater(t, rep.NotRun, 30)
	for _, r := range rep.Results {
		assert.Equal(t, "not run", r.Status, r.ID)
		assert.Empty(t, r.Fix, "%s: no fix guesses a cause", r.ID)
	}
}

// GIVEN credentials AWS answers with ExpiredToken THEN exit 3, saying they
// expired.
func TestVerifyWithExpiredCredentials(t *testing.T) {
	fast(t)
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
	}))
	t.Cleanup(sts.Close)
	awsTestEnv(t, sts.URL, true)
	code, out, errOut := timed(t, 30*time.Second, "verify", "--env", "dev")
	assert.Equal(t, 3, code, errOut)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "AWS credentials have expired (ExpiredToken)")
}

// GIVEN good credentials and AWS_REGION set to a region where dev is not
// deployed THEN exit 4 naming the region the env file gives; GIVEN the
// env's own region (its state bucket exists) THEN the preflight passes
// and the checks run (exit is then about the checks).
func TestVerifyWithAWrongRegion(t *testing.T) {
	fast(t)
	awsTestEnv(t, motoserver.Endpoint(t), true)
	deployedOrg(t)
	warm(t, "us-west-2")
	warm(t, motoserver.Region)
	t.Setenv("AWS_REGION", "us-west-2")
	code, out, errOut := timed(t, 30*time.Second, "verify", "--env", "dev")
	assert.Equal(t, 4, code, errOut)
	assert.Empty(t, out)
	assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
	assert.Contains(t, errOut, "dev is not deployed in region us-west-2")
	assert.Contains(t, errOut, "envs/dev.yaml says region ap-southeast-2; AWS_REGION=us-west-2 overrides it")

	t.Setenv("AWS_REGION", "")
	code, out, _ = spctl(t, "verify", "--env", "dev")
	assert.Equal(t, 5, code, "the region is right; no kubeconfig is the next thing to fix")
	assert.Contains(t, out, "E1.2 Object Storage", "the checks ran")
	assert.NotContains(t, out, "not deployed in region")
}

// GIVEN AWS's endpoint closed, never answering, or breaking off its answer
// THEN exit 4: AWS gave no usable answer in the region.
func TestVerifyWhenAWSDoesNotAnswer(t *testing.T) {
	fast(t)
	for name, endpoint := range map[string]string{"closed": "http://" + faultnet.Closed(t), "never answers": "http://" + faultnet.Silent(t),
		"half way": "http://" + faultnet.HalfWay(t)} {
		t.Run(name, func(t *testing.T) {
			awsTestEnv(t, endpoint, true)
			code, _, errOut := timed(t, 30*time.Second, "verify", "--env", "dev")
			assert.Equal(t, 4, code, errOut)
			assert.Contains(t, errOut, "AWS STS gave no usable answer in region ap-southeast-2")
		})
	}
}

// GIVEN AWS fine and a kubeconfig whose API server accepts connections and
// never answers THEN the cluster probe gives up after its deadline, every
// in-cluster check is "not run" (none waits its own timeout), the AWS-side
// checks run, and verify exits 5 with the cluster named in one line.
func TestVerifyAgainstAClusterThatNeverAnswers(t *testing.T) {
	fast(t)
	awsTestEnv(t, motoserver.Endpoint(t), true)
	deployedOrg(t)
	warm(t, motoserver.Region)
	t.Setenv("KUBECONFIG", kubeconfigFor(t, "http://"+faultnet.Silent(t)))
	code, out, errOut := timed(t, 30*time.Second, "verify", "--env", "dev", "--json")
	assert.Equal(t, 5, code, errOut)
	var rep verifyJSON
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.NotNil(t, rep.Problem)
	assert.Equal(t, "cluster", rep.Problem.Kind)
	assert.Contains(t, rep.Problem.Message, "did not answer within 3s")
	byID := map[string]string{}
	for _, r := range rep.Results {
		byID[r.ID] = r.Status
	}
	for _, id := range []string{"e1.1/cluster-reachable", "e1.1/nodes-ready", "e1.5/loki-logs", "identity/cert-manager"} {
		assert.Equal(t, "not run", byID[id], id)
	}
	assert.Equal(t, "failed", byID["e1.2/packs/exists"], "the AWS side still ran (nothing deployed there)")

	code, out, _ = spctl(t, "verify", "--env", "dev")
	assert.Equal(t, 5, code)
	assert.True(t, strings.HasPrefix(out, "cluster t-"), "the first line names the problem:\n%s", out)
	assert.Contains(t, out, "⏭  Nodes Ready — not run: the cluster's API did not answer or refused access")
}

// spctlProcess starts the real binary (this test binary as spctl, see
// TestMain) with the real deadlines.
func spctlProcess(t *testing.T, env []string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	cmd := faultnet.Child("SPCTL_TEST_MAIN", "--spctl", env, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	return cmd, &out, &errOut
}

func waitProcess(t *testing.T, cmd *exec.Cmd, limit time.Duration) time.Duration {
	t.Helper()
	return faultnet.Wait(t, cmd, limit)
}

// The end-to-end bound, with the real deadlines (no test shortening): a
// cluster that never answers ends the run well within 30 s, exit 5.
func TestVerifyEndToEndBoundWithRealDeadlines(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the real 10 s cluster probe")
	}
	awsTestEnv(t, motoserver.Endpoint(t), true)
	org := deployedOrg(t)
	cmd, out, errOut := spctlProcess(t, []string{"ORG=" + org, "KUBECONFIG=" + kubeconfigFor(t, "http://"+faultnet.Silent(t))}, "verify", "--env", "dev")
	took := waitProcess(t, cmd, 60*time.Second)
	assert.Less(t, took, 30*time.Second)
	assert.Equal(t, 5, cmd.ProcessState.ExitCode(), errOut.String())
	assert.Contains(t, out.String(), "did not answer within 10s")
}

// GIVEN verify waiting on an AWS endpoint that never answers WHEN it gets
// SIGINT or SIGTERM THEN it stops within a second or two, says so, and
// exits 130 or 143.
func TestVerifyStopsOnSignal(t *testing.T) {
	awsTestEnv(t, "http://"+faultnet.Silent(t), true)
	for sig, want := range map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd, _, errOut := spctlProcess(t, nil, "verify", "--env", "dev")
			time.Sleep(700 * time.Millisecond)
			require.NoError(t, cmd.Process.Signal(sig))
			took := waitProcess(t, cmd, 10*time.Second)
			assert.Less(t, took, 3*time.Second)
			assert.Equal(t, want, cmd.ProcessState.ExitCode(), errOut.String())
			assert.Contains(t, errOut.String(), "interrupted by "+map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig])
		})
	}
}

// GIVEN verify --help THEN it lists every exit code the command can end
// with, the same table docs/spctl-verify.md gives.
func TestVerifyHelpListsItsExitCodes(t *testing.T) {
	code, out, _ := spctl(t, "verify", "--help")
	require.Equal(t, 0, code)
	for _, line := range []string{"0  every check ran", "1  a check ran and found", "2  bad usage", "3  AWS credentials missing, expired or rejected",
		"4  AWS did not answer in the env's region, or the env is not deployed there", "5  the cluster's API did not answer or refused access",
		"6  some checks could not run", "130, 143  interrupted by SIGINT or SIGTERM"} {
		assert.Contains(t, out, line)
	}
	doc, err := os.ReadFile("docs/spctl-verify.md")
	require.NoError(t, err)
	for _, code := range []string{"| 3 |", "| 4 |", "| 5 |", "| 6 |", "| 130, 143 |"} {
		assert.Contains(t, string(doc), code, "the runbook documents exit code %s", code)
	}
}
