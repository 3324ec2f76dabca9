package rotate

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// GIVEN three due beacons and a NATS server that is gone (an outage) WHEN
// the job runs with a 30 s run timeout THEN it gives up after one
// announcement's bounded attempts (2 × 100 ms here), not the run's 30 s:
// one beacon is claimed and left for the next run, the other two are not
// touched (Deferred), and the run fails. WHEN NATS is back THEN the next
// run announces all three, each once.
func TestNATSOutageCostsOneAnnouncementNotTheRun(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"b-1", "b-2", "b-3"} {
		e.beacon("venue-1", id, -time.Minute, time.Hour)
	}
	e.srv.Shutdown()
	r := e.rotator(nil, nil)
	r.PublishTimeout, r.PublishAttempts = 100*time.Millisecond, 2
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	start := time.Now()
	s, err := r.Run(ctx)
	took := time.Since(start)
	require.Error(t, err)
	assert.Less(t, took, 3*time.Second, "bounded by the per-publish deadline and attempts, not the run's timeout")
	assert.Contains(t, err.Error(), "NATS unavailable")
	assert.Contains(t, err.Error(), "2 attempt(s), 100ms each")
	assert.Equal(t, 1, s.Failed)
	assert.Equal(t, 2, s.Deferred, "no further beacon is claimed while NATS is down")
	claimed := 0
	for _, it := range e.items() {
		if it[edge.BeaconAttrSuccessorID] != "" {
			claimed++
		}
	}
	assert.Equal(t, 1, claimed)

	e.startNATS() // NATS is back (a new server with the BEACONS stream)
	s, err = e.rotator(nil, nil).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, s.Rotated)
	assert.Equal(t, 1, s.Recovered, "the claimed one is finished with its successor")
	assert.Len(t, e.messages(), 3)
}

// flaky fails its first n publishes, counting every attempt.
type flaky struct {
	Publisher
	n     int32
	calls atomic.Int32
}

func (f *flaky) Publish(ctx context.Context, msgID string, body []byte) (bool, error) {
	if f.calls.Add(1) <= f.n {
		return false, errors.New("nats: timeout")
	}
	return f.Publisher.Publish(ctx, msgID, body)
}

// GIVEN a publish that fails once (a blip) THEN the retry announces it,
// once; GIVEN one that always fails THEN it is tried exactly
// PublishAttempts times.
func TestPublishRetryIsBounded(t *testing.T) {
	e := newEnv(t)
	e.beacon("venue-1", "b-1", -time.Minute, time.Hour)
	pub := &flaky{Publisher: JetStream{JS: e.js}, n: 1}
	r := e.rotator(nil, pub)
	r.PublishAttempts = 3
	s, err := r.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, s.Rotated)
	assert.EqualValues(t, 2, pub.calls.Load())
	assert.Len(t, e.messages(), 1)

	e.beacon("venue-1", "b-2", -time.Minute, time.Hour)
	down := &flaky{Publisher: JetStream{JS: e.js}, n: 1000}
	r = e.rotator(nil, down)
	r.PublishAttempts = 3
	_, err = r.Run(context.Background())
	require.Error(t, err)
	assert.EqualValues(t, 3, down.calls.Load(), "three attempts, no more")
}

// GIVEN DynamoDB that never answers WHEN the job runs THEN the scan fails
// within its per-call deadline.
func TestDynamoDBThatNeverAnswersFailsTheCall(t *testing.T) {
	e := newEnv(t)
	r := e.rotator(hangingDB{}, nil)
	r.CallTimeout = 100 * time.Millisecond
	start := time.Now()
	_, err := r.Run(context.Background())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
}

type hangingDB struct{ DynamoDB }

func (hangingDB) Scan(ctx context.Context, _ *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
