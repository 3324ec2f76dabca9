package kit

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Tracing returns the tracer provider of service and installs it (and the
// W3C trace-context propagator) globally. Spans are exported over
// OTLP/gRPC when endpoint (OTEL_EXPORTER_OTLP_ENDPOINT) is set; the
// exporter reads OTEL_EXPORTER_OTLP_INSECURE for the in-cluster plaintext
// collector. Without an endpoint spans are made (trace ids reach the logs)
// but not exported.
func Tracing(ctx context.Context, service, endpoint string) (*sdktrace.TracerProvider, error) {
	res := resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(service))
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if endpoint != "" {
		exp, err := otlptracegrpc.New(ctx)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return tp, nil
}
