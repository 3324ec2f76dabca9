// Command billing-stub is the dev environment's billing consumer, on the
// service kit (services/kit): it long-polls the billing-events queue
// (<org>-<env>-billing-events), and for each valid billing event
// (marketplace.BillingEvent) logs its ids and size, deletes (acknowledges)
// it and counts it in billing_events_total on the metrics port. A message
// that is not a valid event is left for the queue's redrive policy (DLQ).
// Staging and prod run the billing provider's connector instead
// (docs/marketplace.md).
//
// Configuration (environment), beside the kit's PORT, OPS_PORT, ...:
//
//	QUEUE_URL         the billing-events queue URL (required)
//	AWS_REGION        the queue's region (IRSA supplies the credentials)
//	AWS_ENDPOINT_URL  optional endpoint override (tests: moto_server)
//
// It exits 1 when it cannot bind its ports (a consumer whose metrics no
// one can scrape must not run unseen) and 2 on a missing setting.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/spatialprops/spatialprops-infra/services/billing-stub/billing"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
)

// longPoll is the receive wait; each attempt may take that long.
const longPoll = 20

func main() { kit.Program{Name: "billing-stub", Setup: setup}.Main() }

func setup(ctx context.Context, env *kit.Env, s *kit.Service) error {
	queueURL := env.Required("QUEUE_URL", "the billing-events queue URL (marketplace stack output billing_events_queue_url)")
	if env.Err() != nil {
		return nil
	}
	cfg, err := awskit.Config(ctx, awskit.Options{Region: env.String("AWS_REGION", ""),
		AttemptTimeout: (longPoll + 5) * time.Second, OperationTimeout: 90 * time.Second})
	if err != nil {
		return err
	}
	c := billing.NewConsumer(sqs.NewFromConfig(cfg), queueURL, s.Log, longPoll, s.Metrics)
	s.ReadyWhen("billing queue", c.Ready)
	s.Go("consume", c.Run)
	return nil
}
