// Command pack-service is the walking skeleton of the Spatial Packs API:
// health, readiness and Prometheus metrics, OTLP traces to the in-cluster
// OpenTelemetry Collector, JSON logs, and a graceful stop on SIGTERM.
//
// Configuration (environment):
//
//	PORT                         listen port (default 8080)
//	OTEL_EXPORTER_OTLP_ENDPOINT  collector, e.g. http://opentelemetry-collector.observability.svc:4317;
//	                             unset disables trace export
//	OTEL_SERVICE_NAME            service.name of the traces (default pack-service)
//	SHUTDOWN_GRACE               time to drain requests on SIGTERM (default 20s, below the pod's 30s)
package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/spatialprops/spatialprops-infra/services/pack-service/internal/server"
)

func main() {
	log := server.NewLogger(os.Stdout, slog.LevelInfo)
	if err := run(log); err != nil {
		log.Error("exiting", "error", err.Error())
		os.Exit(1)
	}
}

func getenv(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	grace, err := time.ParseDuration(getenv("SHUTDOWN_GRACE", "20s"))
	if err != nil {
		return err
	}
	tp, err := tracerProvider(ctx, getenv("OTEL_SERVICE_NAME", "pack-service"))
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tp.Shutdown(sctx)
	}()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := server.New(log, tp.Tracer("pack-service"), reg)
	ln, err := net.Listen("tcp", ":"+getenv("PORT", "8080"))
	if err != nil {
		return err
	}
	log.Info("listening", "addr", ln.Addr().String())
	return server.Run(ctx, s, ln, grace)
}

// tracerProvider exports spans over OTLP/gRPC when
// OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporter reads it, and
// OTEL_EXPORTER_OTLP_INSECURE for the in-cluster plaintext collector).
func tracerProvider(ctx context.Context, service string) (*sdktrace.TracerProvider, error) {
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(service))
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" {
		return sdktrace.NewTracerProvider(sdktrace.WithResource(res)), nil
	}
	exp, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, err
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}
