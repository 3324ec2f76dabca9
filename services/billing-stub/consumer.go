package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQSAPI is the part of the SQS client the consumer uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// Consumer drains the billing-events queue.
type Consumer struct {
	SQS      SQSAPI
	QueueURL string
	Log      *slog.Logger
	// WaitSeconds is the long-poll wait (SQS maximum 20).
	WaitSeconds int32

	events  atomic.Uint64 // logged and acknowledged
	errors  atomic.Uint64 // receive or delete failures
	healthy atomic.Bool   // last receive succeeded
}

// Poll receives one batch, logs and deletes each event, and returns how
// many it acknowledged. An event whose delete fails is not counted: SQS
// redelivers it after the visibility timeout (and moves it to the DLQ
// after maxReceiveCount), so a billing event is never silently lost.
func (c *Consumer) Poll(ctx context.Context) (int, error) {
	out, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(c.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: c.WaitSeconds,
	})
	if err != nil {
		c.errors.Add(1)
		c.healthy.Store(false)
		return 0, fmt.Errorf("receive: %w", err)
	}
	c.healthy.Store(true)
	acked := 0
	for _, m := range out.Messages {
		c.Log.Info("billing event", "messageId", aws.ToString(m.MessageId), "body", aws.ToString(m.Body))
		if _, err := c.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(c.QueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			c.errors.Add(1)
			c.Log.Error("ack failed; SQS will redeliver", "messageId", aws.ToString(m.MessageId), "err", err)
			continue
		}
		c.events.Add(1)
		acked++
	}
	return acked, nil
}

// Run polls until ctx ends, backing off after errors.
func (c *Consumer) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if _, err := c.Poll(ctx); err != nil && ctx.Err() == nil {
			c.Log.Error("poll", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
		}
	}
}

// Events is billing_events_total.
func (c *Consumer) Events() uint64 { return c.events.Load() }

// Handler serves /metrics (Prometheus text format), /healthz and /readyz.
func (c *Consumer) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprintf(w, "# HELP billing_events_total Billing events logged and acknowledged (deleted from the queue).\n")
		fmt.Fprintf(w, "# TYPE billing_events_total counter\nbilling_events_total %d\n", c.events.Load())
		fmt.Fprintf(w, "# HELP billing_consumer_errors_total Failed receives and acknowledgements.\n")
		fmt.Fprintf(w, "# TYPE billing_consumer_errors_total counter\nbilling_consumer_errors_total %d\n", c.errors.Load())
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !c.healthy.Load() {
			http.Error(w, "no successful receive yet", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return mux
}
