// Package billing is the dev billing consumer (services/billing-stub).
package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatialprops/spatialprops-infra/marketplace"
	"github.com/spatialprops/spatialprops-infra/services/kit"
)

// SQSAPI is the part of the SQS client the consumer uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// Consumer drains the billing-events queue. It deletes (acknowledges) a
// message only once it was a valid billing event and was handled (logged
// and counted); anything else stays in the queue, comes back after the
// visibility timeout, and after maxReceiveCount receives moves to the
// dead-letter queue, where a person looks at it. Logs carry message ids,
// purchase ids and sizes, never a body: an event is customer data.
type Consumer struct {
	SQS      SQSAPI
	QueueURL string
	Log      *slog.Logger
	// WaitSeconds is the long-poll wait (SQS maximum 20).
	WaitSeconds int32

	events, invalid, errors prometheus.Counter
	healthy                 atomic.Bool // the last receive succeeded
}

// NewConsumer builds a consumer and registers its counters in reg.
func NewConsumer(q SQSAPI, queueURL string, log *slog.Logger, wait int32, reg prometheus.Registerer) *Consumer {
	c := &Consumer{SQS: q, QueueURL: queueURL, Log: log, WaitSeconds: wait,
		events: prometheus.NewCounter(prometheus.CounterOpts{Name: "billing_events_total",
			Help: "Billing events that were valid, handled and acknowledged (deleted from the queue)."}),
		invalid: prometheus.NewCounter(prometheus.CounterOpts{Name: "billing_invalid_events_total",
			Help: "Messages that were not valid billing events; left in the queue for the redrive policy (DLQ)."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "billing_consumer_errors_total",
			Help: "Failed receives and acknowledgements."}),
	}
	reg.MustRegister(c.events, c.invalid, c.errors)
	return c
}

// Ready is the readiness check: the last receive succeeded.
func (c *Consumer) Ready(context.Context) error {
	if !c.healthy.Load() {
		return errors.New("no successful receive from the billing queue yet")
	}
	return nil
}

// Poll receives one batch and handles each message; it returns how many
// it acknowledged.
func (c *Consumer) Poll(ctx context.Context) (int, error) {
	out, err := c.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(c.QueueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: c.WaitSeconds,
	})
	if err != nil {
		c.errors.Inc()
		c.healthy.Store(false)
		return 0, fmt.Errorf("receive: %w", err)
	}
	c.healthy.Store(true)
	acked := 0
	for _, m := range out.Messages {
		id, body := aws.ToString(m.MessageId), aws.ToString(m.Body)
		e, err := decode(body)
		if err != nil {
			c.invalid.Inc()
			c.Log.WarnContext(ctx, "not a valid billing event; left for the dead-letter queue", "messageId", id, "bytes", len(body), "reason", err.Error())
			continue
		}
		c.Log.InfoContext(ctx, "billing event", "messageId", id, "purchaseId", e.PurchaseID, "type", e.Type, "pack", e.Pack, "bytes", len(body))
		if _, err := c.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(c.QueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			c.errors.Inc()
			c.Log.ErrorContext(ctx, "ack failed; SQS will redeliver", "messageId", id, "error", err.Error())
			continue
		}
		c.events.Inc()
		acked++
	}
	return acked, nil
}

// Run polls until ctx ends, backing off after a failed receive.
func (c *Consumer) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if _, err := c.Poll(ctx); err != nil && ctx.Err() == nil {
			c.Log.Error("poll", "error", err.Error())
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
		}
	}
	return nil
}

// decode accepts exactly one valid billing event.
func decode(body string) (marketplace.BillingEvent, error) {
	var e marketplace.BillingEvent
	if len(body) > marketplace.MaxBillingEventBytes {
		return e, fmt.Errorf("%d bytes is over the %d-byte limit of a billing event", len(body), marketplace.MaxBillingEventBytes)
	}
	if err := kit.DecodeStrict([]byte(body), &e); err != nil {
		return e, err
	}
	return e, e.Validate()
}
