// Command dtn-gateway is the DTN store-and-forward gateway on the service
// kit (package dtn): POST /v1/envelopes (at most 50 KB, an Idempotency-Key
// header) stores an envelope in the DTN bucket and queues it on the
// outbox; a worker forwards queued envelopes through the first available
// uplink adapter; failures go to the DLQ by the queue's redrive policy.
//
// Configuration (environment), beside the kit's PORT, OPS_PORT, ...:
//
//	DTN_BUCKET          the DTN store, spatial-dtn-<org>-<env>-<region>
//	DTN_QUEUE_URL       the outbox queue (edge stack output dtn_queue_url)
//	MAX_ENVELOPE_BYTES  at most 51200 (edge.MaxEnvelopeBytes, the default)
//	UPLINKS             name=url,... of the uplink adapters, in order of preference
//	AWS_REGION
package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/services/dtn-gateway/dtn"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
)

// longPoll is the outbox receive wait in seconds.
const longPoll = 20

func main() { kit.Program{Name: "dtn-gateway", Setup: setup}.Main() }

func setup(ctx context.Context, env *kit.Env, s *kit.Service) error {
	g := &dtn.Gateway{
		Bucket:   env.Required("DTN_BUCKET", "the DTN store bucket, spatial-dtn-<org>-<env>-<region> (edge stack)"),
		QueueURL: env.Required("DTN_QUEUE_URL", "the outbox queue URL (edge stack output dtn_queue_url)"),
		MaxBytes: env.Int("MAX_ENVELOPE_BYTES", edge.MaxEnvelopeBytes, 1, edge.MaxEnvelopeBytes),
		Log:      s.Log, Wait: longPoll, Idle: 10 * time.Second,
	}
	for _, spec := range env.List("UPLINKS") {
		name, url, ok := strings.Cut(spec, "=")
		if !ok || name == "" || !strings.HasPrefix(url, "http") {
			env.Fail(fmt.Errorf("UPLINKS entry %q must be name=http(s)://host", spec))
			continue
		}
		g.Uplinks = append(g.Uplinks, dtn.HTTPUplink{LinkName: name, URL: url, Client: kit.NewClient()})
	}
	if len(g.Uplinks) == 0 {
		env.Fail(fmt.Errorf("UPLINKS is required: name=url of each uplink adapter, e.g. satellite=http://uplink-satellite.edge-sync.svc"))
	}
	if env.Err() != nil {
		return nil
	}
	cfg, err := awskit.Config(ctx, awskit.Options{Region: env.String("AWS_REGION", ""), AttemptTimeout: (longPoll + 5) * time.Second, OperationTimeout: 90 * time.Second})
	if err != nil {
		return err
	}
	g.S3 = s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = awskit.PathStyle(cfg) })
	g.SQS = sqs.NewFromConfig(cfg)
	g.Register(s.Metrics)
	g.Routes(s)
	s.Go("forward", g.Run)
	return nil
}
