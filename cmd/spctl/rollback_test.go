package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/internal/faultnet"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/internal/ops/awsenv"
	"github.com/spatialprops/spatialprops-infra/internal/ops/opstest"
)

// emptyCluster is an API server with no workloads: every list is empty.
func emptyCluster(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		kind := "DeploymentList"
		if strings.Contains(r.URL.Path, "statefulsets") {
			kind = "StatefulSetList"
		}
		fmt.Fprintf(w, `{"kind":%q,"apiVersion":"apps/v1","metadata":{},"items":[]}`, kind)
	}))
	t.Cleanup(srv.Close)
	return kubeconfigFor(t, srv.URL)
}

// GIVEN a rollback waiting for the DTN outbox to drain (a message in
// flight) WHEN the real binary gets SIGINT or SIGTERM THEN it stops within
// a second or two with exit 130 or 143, saying it was interrupted and that
// a rerun is safe.
func TestRollbackStopsOnSignal(t *testing.T) {
	awsTestEnv(t, motoserver.Endpoint(t), true)
	for sig, want := range map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143} {
		t.Run(sig.String(), func(t *testing.T) {
			org := motoserver.UniqueName("t")
			q := sqs.NewFromConfig(opstest.AWS(t, motoserver.Region))
			created, err := q.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(naming.New(org, "dev", motoserver.Region).DTNOutboxQueue()),
				Attributes: map[string]string{"VisibilityTimeout": "600"}})
			require.NoError(t, err)
			_, err = q.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: created.QueueUrl, MessageBody: aws.String("envelope")})
			require.NoError(t, err)
			_, err = q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: created.QueueUrl})
			require.NoError(t, err)

			cmd, out, errOut := spctlProcess(t, []string{"ORG=" + org, "KUBECONFIG=" + emptyCluster(t)}, "edge", "rollback", "--env", "dev", "--confirm", "dev")
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(out.String(), "in flight") {
				require.True(t, time.Now().Before(deadline), "rollback never started draining:\n%s\n%s", out.String(), errOut.String())
				time.Sleep(50 * time.Millisecond)
			}
			require.NoError(t, cmd.Process.Signal(sig))
			took := waitProcess(t, cmd, 10*time.Second)
			assert.Less(t, took, 3*time.Second)
			assert.Equal(t, want, cmd.ProcessState.ExitCode(), errOut.String())
			assert.Contains(t, errOut.String(), "interrupted by")
			assert.Contains(t, errOut.String(), "rerunning the same command is safe")
			sc := bufio.NewScanner(strings.NewReader(out.String()))
			for sc.Scan() {
				assert.NotContains(t, sc.Text(), "3/4", "nothing after the drain ran")
			}
		})
	}
}

// GIVEN an AWS endpoint that accepts and never answers WHEN rollback runs
// THEN its first AWS call fails within the per-attempt timeout (shortened
// here from 30 s) and the SDK's 3 attempts, exit 1, instead of hanging.
func TestRollbackWhenAWSNeverAnswers(t *testing.T) {
	awsTestEnv(t, "http://"+faultnet.Silent(t), true)
	old := awsenv.HTTPTimeout
	awsenv.HTTPTimeout = 300 * time.Millisecond
	t.Cleanup(func() { awsenv.HTTPTimeout = old })
	t.Setenv("KUBECONFIG", emptyCluster(t))
	start := time.Now()
	code, out, errOut := spctl(t, "edge", "rollback", "--env", "dev", "--confirm", "dev")
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, errOut, "queue ")
	assert.Contains(t, out, "2/4 drain")
}
