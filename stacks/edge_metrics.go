package stacks

import (
	sp "github.com/spatialprops/spatialprops-infra/constructs"
	obs "github.com/spatialprops/spatialprops-infra/stacks/observability"
)

// NATSExporterPort is the NATS chart's promExporter port (the chart default).
const NATSExporterPort = 7777

// natsExporterValues turns on the NATS chart's prometheus-nats-exporter
// sidecar (which the chart runs with -jsz=all -prefix=nats, so JetStream
// series carry stream_name) and its PodMonitor, labelled with the
// kube-prometheus-stack release Prometheus selects monitors by. The sidecar
// gets the same restricted security context as the other NATS containers,
// or the namespace's pod security admission would refuse the pod.
func natsExporterValues(restricted map[string]any) map[string]any {
	return map[string]any{
		"enabled": true,
		"port":    NATSExporterPort,
		"merge": map[string]any{
			"securityContext": restricted, "resources": podResources("10m", "32Mi", "100m", "64Mi"),
		},
		"podMonitor": map[string]any{
			"enabled": true,
			"merge":   map[string]any{"metadata": map[string]any{"labels": map[string]any{"release": obs.KubePrometheusRelease}}},
		},
	}
}

// natsMetricsIngress admits Prometheus (namespace observability) to the
// exporter port and nothing else of NATS.
func natsMetricsIngress() sp.IngressAllow {
	return sp.IngressAllow{
		Name:      "nats-metrics",
		PodLabels: map[string]string{"app.kubernetes.io/name": "nats"},
		Ports:     []int{NATSExporterPort},
		From:      []sp.Peer{{Namespace: obs.Namespace, PodLabels: map[string]string{"app.kubernetes.io/name": "prometheus"}}},
	}
}
