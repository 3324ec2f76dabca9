// Command billing-stub is the dev environment's billing consumer: it
// long-polls the billing-events queue (<org>-<env>-billing-events), logs
// each event, deletes (acknowledges) it, and counts it in the Prometheus
// counter billing_events_total on /metrics. Staging and prod run the
// billing provider's connector instead (docs/marketplace.md).
//
// Configuration (environment):
//
//	QUEUE_URL     the billing-events queue URL (required)
//	AWS_REGION    the queue's region (IRSA supplies the credentials)
//	AWS_ENDPOINT_URL  optional endpoint override (tests: moto_server)
//	LISTEN_ADDR   metrics and health address, default :8080
package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	queueURL := os.Getenv("QUEUE_URL")
	if queueURL == "" {
		log.Error("QUEUE_URL is required: the billing-events queue URL (terraform output billing_events_queue_url)")
		os.Exit(2)
	}
	addr := os.Getenv("LISTEN_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	c := &Consumer{SQS: sqs.NewFromConfig(awsCfg), QueueURL: queueURL, Log: log, WaitSeconds: 20}
	srv := &http.Server{Addr: addr, Handler: c.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server", "err", err)
			stop()
		}
	}()
	log.Info("billing-stub consuming", "queue", queueURL, "listen", addr)
	c.Run(ctx)
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
}
