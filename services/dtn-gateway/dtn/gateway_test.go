package dtn

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/edgeworld"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

// adapter is an uplink adapter on httptest: it records bundles by key and
// answers with status (200 unless set).
type adapter struct {
	mu      sync.Mutex
	bundles map[string][][]byte
	status  int
	down    bool
	srv     *httptest.Server
}

func newAdapter(t *testing.T) *adapter {
	a := &adapter{bundles: map[string][][]byte{}, status: 200}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.down {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			a.bundles[r.Header.Get(KeyHeader)] = append(a.bundles[r.Header.Get(KeyHeader)], b)
			w.WriteHeader(a.status)
			return
		}
		w.WriteHeader(200)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

type fixture struct {
	w   *edgeworld.World
	g   *Gateway
	q   *sqs.Client
	s3  *s3.Client
	api string
	up  *adapter
}

func newFixture(t *testing.T, o edgeworld.Options, wrap func(SQSAPI) SQSAPI) *fixture {
	t.Helper()
	w := edgeworld.New(t, o)
	f := &fixture{w: w, q: sqs.NewFromConfig(w.AWS), s3: w.S3(), up: newAdapter(t)}
	client := kit.NewClient()
	client.Retry = kit.Retry{Attempts: 1, PerCall: 2 * time.Second}
	var q SQSAPI = f.q
	if wrap != nil {
		q = wrap(q)
	}
	ks := kittest.New("dtn-gateway", 0)
	f.g = &Gateway{S3: f.s3, SQS: q, Bucket: w.DTNBucket, QueueURL: w.DTNQueueURL, MaxBytes: edge.MaxEnvelopeBytes,
		Uplinks: []Uplink{HTTPUplink{LinkName: "satellite", URL: f.up.srv.URL, Client: client}}, Log: ks.Log, Wait: 1, Idle: 100 * time.Millisecond}
	f.g.Register(prometheus.NewRegistry())
	f.g.Routes(ks.Service)
	f.api = kittest.Start(t, ks.Service).API
	return f
}

func (f *fixture) post(t *testing.T, key string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.api+"/v1/envelopes", bytes.NewReader(body))
	if key != "" {
		req.Header.Set(KeyHeader, key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f *fixture) depth(t *testing.T, url string) int {
	t.Helper()
	a, err := f.q.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	require.NoError(t, err)
	n := 0
	for _, v := range a.Attributes {
		i, _ := strconv.Atoi(v)
		n += i
	}
	return n
}

func (f *fixture) exists(t *testing.T, key string) bool {
	_, err := f.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(f.w.DTNBucket), Key: aws.String(key)})
	return err == nil
}

// GIVEN a 49 KB envelope THEN it is stored and queued, and with an uplink
// available it is delivered with its key and the queue drains; GIVEN 51 KB
// THEN it is refused with a clear error and nothing is stored or queued.
func TestEnvelopeLimitStoreQueueDrain(t *testing.T) {
	f := newFixture(t, edgeworld.Options{}, nil)
	body := bytes.Repeat([]byte("h"), 49*1024)
	code, out := f.post(t, "hint-0001-abc", body)
	require.Equal(t, http.StatusAccepted, code, out)
	assert.True(t, f.exists(t, EnvelopePrefix+"hint-0001-abc"), "stored in the DTN bucket")
	assert.Equal(t, 1, f.depth(t, f.w.DTNQueueURL), "queued on the outbox")

	n, err := f.g.Forward(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, [][]byte{body}, f.up.bundles["hint-0001-abc"], "delivered once, with its idempotency key")
	assert.Equal(t, 0, f.depth(t, f.w.DTNQueueURL), "drained")
	assert.True(t, f.exists(t, ForwardedPrefix+"hint-0001-abc"))

	code, out = f.post(t, "hint-0002-abc", bytes.Repeat([]byte("h"), 51*1024))
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)
	assert.Contains(t, out, `"error":"envelope_too_large"`)
	assert.Contains(t, out, "52224 bytes, over the 51200-byte (50 KB) limit")
	assert.False(t, f.exists(t, EnvelopePrefix+"hint-0002-abc"), "nothing stored")
	assert.Equal(t, 0, f.depth(t, f.w.DTNQueueURL), "nothing queued")
}

// The size limit is exactly 50 KB: 51200 bytes pass, 51201 do not, also
// when the client sends no Content-Length (a chunked body).
func TestSizeLimitBoundary(t *testing.T) {
	f := newFixture(t, edgeworld.Options{}, nil)
	code, _ := f.post(t, "edge-51200-ok", bytes.Repeat([]byte("x"), edge.MaxEnvelopeBytes))
	assert.Equal(t, http.StatusAccepted, code)
	code, _ = f.post(t, "edge-51201-no", bytes.Repeat([]byte("x"), edge.MaxEnvelopeBytes+1))
	assert.Equal(t, http.StatusRequestEntityTooLarge, code)
	req, _ := http.NewRequest(http.MethodPost, f.api+"/v1/envelopes", io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("x"), edge.MaxEnvelopeBytes)), strings.NewReader("y")))
	req.Header.Set(KeyHeader, "chunked-51201")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	code, _ = f.post(t, "", []byte("x"))
	assert.Equal(t, http.StatusBadRequest, code, "no idempotency key")
}

// GIVEN the same envelope sent twice under one key THEN it is stored once,
// its pointer may be queued twice (at-least-once), and the uplink receives
// it once: the forwarded marker drops the second pointer. A different
// body under a used key is a conflict.
func TestIdempotency(t *testing.T) {
	f := newFixture(t, edgeworld.Options{}, nil)
	body := []byte("claim 42")
	for range 2 {
		code, _ := f.post(t, "claim-0042-xyz", body)
		require.Equal(t, http.StatusAccepted, code)
	}
	code, out := f.post(t, "claim-0042-xyz", []byte("another claim"))
	assert.Equal(t, http.StatusConflict, code, out)
	for i := 0; i < 5 && f.depth(t, f.w.DTNQueueURL) > 0; i++ {
		_, err := f.g.Forward(context.Background())
		require.NoError(t, err)
	}
	assert.Equal(t, 0, f.depth(t, f.w.DTNQueueURL))
	assert.Len(t, f.up.bundles["claim-0042-xyz"], 1, "delivered once")
}

// failOnce makes the first SendMessage fail, as a crash between storing
// the body and queueing the pointer would.
type failOnce struct {
	SQSAPI
	failed bool
}

func (f *failOnce) SendMessage(ctx context.Context, in *sqs.SendMessageInput, o ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if !f.failed {
		f.failed = true
		return nil, errors.New("connection reset")
	}
	return f.SQSAPI.SendMessage(ctx, in, o...)
}

// GIVEN the gateway fails after storing the body but before queueing THEN
// the client's retry with the same key queues it: nothing is lost.
func TestRetryAfterAFailureHalfWayQueues(t *testing.T) {
	f := newFixture(t, edgeworld.Options{}, func(q SQSAPI) SQSAPI { return &failOnce{SQSAPI: q} })
	code, out := f.post(t, "hint-retry-001", []byte("hint"))
	require.Equal(t, http.StatusServiceUnavailable, code, out)
	assert.Contains(t, out, "retry with the same Idempotency-Key")
	assert.True(t, f.exists(t, EnvelopePrefix+"hint-retry-001"))
	assert.Equal(t, 0, f.depth(t, f.w.DTNQueueURL))
	code, out = f.post(t, "hint-retry-001", []byte("hint"))
	require.Equal(t, http.StatusAccepted, code, out)
	assert.Contains(t, out, `"key":"hint-retry-001"`)
	assert.Equal(t, 1, f.depth(t, f.w.DTNQueueURL))
}

// GIVEN no uplink available THEN the forwarder takes nothing off the queue
// (a link outage never pushes envelopes to the DLQ); GIVEN an uplink that
// keeps failing THEN the pointer comes back and the redrive policy moves it
// to the dead-letter queue.
func TestOutageWaitsFailureRedrives(t *testing.T) {
	f := newFixture(t, edgeworld.Options{VisibilitySeconds: 1, MaxReceives: 2}, nil)
	code, _ := f.post(t, "hint-outage-01", []byte("hint"))
	require.Equal(t, http.StatusAccepted, code)
	f.up.mu.Lock()
	f.up.down = true
	f.up.mu.Unlock()
	for range 4 {
		n, err := f.g.Forward(context.Background())
		require.NoError(t, err)
		assert.Zero(t, n)
		time.Sleep(300 * time.Millisecond)
	}
	assert.Equal(t, 1, f.depth(t, f.w.DTNQueueURL), "still queued while the link is down")
	assert.Equal(t, 0, f.depth(t, f.w.DTNDeadLetterURL))

	f.up.mu.Lock()
	f.up.down, f.up.status = false, http.StatusInternalServerError
	f.up.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for f.depth(t, f.w.DTNDeadLetterURL) == 0 {
		require.True(t, time.Now().Before(deadline), "the failing envelope never reached the DLQ")
		_, err := f.g.Forward(context.Background())
		require.NoError(t, err)
		time.Sleep(500 * time.Millisecond)
	}
	assert.Equal(t, 0, f.depth(t, f.w.DTNQueueURL))
}
