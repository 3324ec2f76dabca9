package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
)

// TestMain stops the moto_server motoserver.Endpoint started for a
// standalone run (under `make test` the shared MOTO_ENDPOINT is used).
func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

func client(endpoint string) *sqs.Client {
	return sqs.New(sqs.Options{
		Region: "ap-southeast-2", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

func newQueue(t *testing.T, c *sqs.Client) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("billing-events-" + hex.EncodeToString(b))})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

func TestConsumesLogsAcksAndCounts(t *testing.T) {
	c := client(motoserver.Endpoint(t))
	url := newQueue(t, c)
	ctx := context.Background()
	bodies := []string{`{"type":"pack.purchased","pack":"p1"}`, `{"type":"pack.purchased","pack":"p2"}`, `{"type":"license.renewed","pack":"p3"}`}
	for _, b := range bodies {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	var logs strings.Builder
	cons := &Consumer{SQS: c, QueueURL: url, Log: slog.New(slog.NewJSONHandler(&logs, nil)), WaitSeconds: 1}
	for i := 0; i < 5 && cons.Events() < 3; i++ {
		if _, err := cons.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if cons.Events() != 3 {
		t.Fatalf("billing_events_total = %d, want 3", cons.Events())
	}
	for _, b := range bodies {
		if !strings.Contains(logs.String(), strings.ReplaceAll(b, `"`, `\"`)) {
			t.Errorf("event %s was not logged:\n%s", b, logs.String())
		}
	}
	// Acknowledged: nothing is left, even after the visibility timeout.
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range attrs.Attributes {
		if v != "0" {
			t.Errorf("%s = %s after acknowledging every event", k, v)
		}
	}
	// The counter is on /metrics in Prometheus text format.
	srv := httptest.NewServer(cons.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "# TYPE billing_events_total counter\nbilling_events_total 3\n") {
		t.Errorf("/metrics lacks billing_events_total 3:\n%s", body)
	}
	if r, _ := http.Get(srv.URL + "/readyz"); r.StatusCode != http.StatusOK {
		t.Errorf("ready after a successful receive, got %d", r.StatusCode)
	}
}

// failingDelete makes every acknowledgement fail.
type failingDelete struct{ *sqs.Client }

func (f failingDelete) DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	return nil, fmt.Errorf("AccessDenied")
}

func TestAFailedAckIsNotCountedAndTheEventComesBack(t *testing.T) {
	c := client(motoserver.Endpoint(t))
	url := newQueue(t, c)
	ctx := context.Background()
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: map[string]string{"VisibilityTimeout": "1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"type":"pack.purchased"}`)}); err != nil {
		t.Fatal(err)
	}
	bad := &Consumer{SQS: failingDelete{c}, QueueURL: url, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), WaitSeconds: 1}
	if n, err := bad.Poll(ctx); err != nil || n != 0 || bad.Events() != 0 {
		t.Fatalf("failed ack: n=%d events=%d err=%v; want nothing counted", n, bad.Events(), err)
	}
	time.Sleep(1500 * time.Millisecond)
	good := &Consumer{SQS: c, QueueURL: url, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), WaitSeconds: 1}
	if n, err := good.Poll(ctx); err != nil || n != 1 {
		t.Fatalf("the unacknowledged event must be redelivered: n=%d err=%v", n, err)
	}
}

func TestNotReadyBeforeAReceive(t *testing.T) {
	srv := httptest.NewServer((&Consumer{}).Handler())
	defer srv.Close()
	r, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d before any receive, want 503", r.StatusCode)
	}
}
