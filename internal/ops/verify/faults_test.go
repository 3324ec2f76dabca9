package verify

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// deniedS3 answers every call with AccessDenied, as for a principal
// without s3:Get* on the buckets.
type deniedS3 struct{ S3API }

func denied() error {
	return &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
}

func (deniedS3) HeadBucket(context.Context, *s3.HeadBucketInput, ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	return nil, denied()
}
func (deniedS3) GetBucketEncryption(context.Context, *s3.GetBucketEncryptionInput, ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error) {
	return nil, denied()
}
func (deniedS3) GetBucketVersioning(context.Context, *s3.GetBucketVersioningInput, ...func(*s3.Options)) (*s3.GetBucketVersioningOutput, error) {
	return nil, denied()
}
func (deniedS3) GetBucketCors(context.Context, *s3.GetBucketCorsInput, ...func(*s3.Options)) (*s3.GetBucketCorsOutput, error) {
	return nil, denied()
}

// GIVEN S3 refusing every read WHEN the bucket checks run THEN none is a
// failure: each is "not run", says it could not look and why, and carries
// no fix (issue 25: "no default encryption" was printed though nothing had
// been read). GIVEN the bucket answering "no such configuration" THEN that
// is a finding.
func TestAccessDeniedIsNotRunNeverAFailure(t *testing.T) {
	cfg := devConfig(t)
	res := byID(t, cfg, Deps{S3: deniedS3{}}, "e1.2/packs/exists", "e1.2/packs/encryption", "e1.2/packs/versioning", "e1.2/stac/cors")
	for id, r := range res {
		assert.Equal(t, NotRun, r.Status, id)
		assert.False(t, r.OK, id)
		assert.Contains(t, r.Detail, "AccessDenied", id)
		assert.Empty(t, r.Fix, "%s: a check that did not look guesses no cause", id)
		assert.NotContains(t, r.Detail, "no default encryption", id)
	}
	rep := Run(context.Background(), "dev", []Check{{ID: "x", Run: func(context.Context) (string, error) { return "", denied() }}})
	assert.Equal(t, 1, rep.Failed, "a raw error from a check is still a failure; the checks classify their calls")
	assert.Equal(t, ExitFailed, rep.ExitCode())
}

// GIVEN a check whose call ignores its context and never returns (the old
// ServerVersion()) WHEN Run gives each check 100 ms THEN Run returns after
// about that, reporting it not run, and the next check runs.
func TestACheckThatIgnoresItsDeadlineCannotHoldTheRun(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	checks := []Check{
		{ID: "stuck", Run: func(context.Context) (string, error) { <-block; return "", nil }},
		{ID: "next", Run: func(context.Context) (string, error) { return "fine", nil }},
	}
	start := time.Now()
	rep := Run(context.Background(), "dev", checks, Options{CheckTimeout: 100 * time.Millisecond})
	assert.Less(t, time.Since(start), time.Second)
	assert.Equal(t, NotRun, rep.Results[0].Status)
	assert.Contains(t, rep.Results[0].Detail, "no answer within 100ms")
	assert.Equal(t, Passed, rep.Results[1].Status)
	assert.Equal(t, ExitNotRun, rep.ExitCode())
}

// GIVEN a run interrupted during its second check THEN that check and the
// rest are "not run: interrupted by SIGINT", the first keeps its result,
// and the report names the signal.
func TestInterruptedRunReportsTheRestNotRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	checks := []Check{
		{ID: "a", Run: func(context.Context) (string, error) { return "ok", nil }},
		{ID: "b", Run: func(ctx context.Context) (string, error) { cancel(); <-ctx.Done(); return "", ctx.Err() }},
		{ID: "c", Run: func(context.Context) (string, error) { t.Error("c must not run"); return "", nil }},
	}
	rep := Run(ctx, "dev", checks, Options{Interrupted: func() string { return "SIGINT" }})
	assert.Equal(t, Passed, rep.Results[0].Status)
	assert.Equal(t, NotRun, rep.Results[1].Status)
	assert.Contains(t, rep.Results[1].Detail, "interrupted by SIGINT")
	assert.Equal(t, NotRun, rep.Results[2].Status)
	assert.Equal(t, "SIGINT", rep.Interrupted)
}

// GIVEN a real client-go clientset (no timeout of its own) against an API
// server that accepts and never answers WHEN the reachability check runs
// under a 200 ms deadline THEN it returns within it, not run. Before, the
// check called ServerVersion(), which takes no context and waited forever.
func TestClusterCheckHonoursItsDeadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: "http://" + l.Addr().String()})
	require.NoError(t, err)
	k := &kubeChecks{a: &awsChecks{d: &Deps{Kube: cs}}}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = k.reachable(ctx)
	assert.Less(t, time.Since(start), 2*time.Second)
	var nr *NotRunError
	assert.ErrorAs(t, err, &nr)
}
