package observability

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Release names and the Service names and ports their pinned charts create
// (read from each chart's templates; see docs/observability.md).
const (
	Namespace = "observability"

	KubePrometheusRelease = "kube-prometheus-stack"
	LokiRelease           = "loki"
	TempoRelease          = "tempo"
	AlloyRelease          = "alloy"
	CollectorRelease      = "opentelemetry-collector"

	PrometheusPort   = 9090 // <release>-prometheus
	AlertmanagerPort = 9093 // <release>-alertmanager
	LokiPort         = 3100 // loki, loki-write and loki-read (gateway off)
	TempoQueryPort   = 3200 // tempo, tempo-query-frontend; the guide's 3100 is the pre-1.21 chart port
	OTLPGRPCPort     = 4317
	OTLPHTTPPort     = 4318
)

// Grafana provisioning: the datasource ConfigMap and the label Grafana's
// sidecar watches (the guide's label, which is also the chart default).
const (
	DatasourcesConfigMap = "spatialprops-datasources"
	DatasourceLabel      = "grafana_datasource"
	SidecarValue         = "1"
	// GrafanaService and GrafanaPort: the grafana subchart's Service,
	// "<release>-grafana" on port 80.
	GrafanaService = KubePrometheusRelease + "-grafana"
	GrafanaPort    = 80
)

// Datasource uids, stable so dashboards and cross-links can refer to them.
const (
	PrometheusUID   = "prometheus"
	AlertmanagerUID = "alertmanager"
	LokiUID         = "loki"
	TempoUID        = "tempo"
)

// ServiceURL is the in-cluster URL of a Service in the observability
// namespace.
func ServiceURL(service string, port int) string {
	return fmt.Sprintf("http://%s.%s.svc:%d", service, Namespace, port)
}

// Service URLs, each derived from a release name and its chart's port.
// Loki's and Tempo's depend on the deployment (EndpointsFor).
var (
	PrometheusURL   = ServiceURL(KubePrometheusRelease+"-prometheus", PrometheusPort)
	AlertmanagerURL = ServiceURL(KubePrometheusRelease+"-alertmanager", AlertmanagerPort)
)

type datasource struct {
	Name      string         `yaml:"name"`
	Type      string         `yaml:"type"`
	UID       string         `yaml:"uid"`
	Access    string         `yaml:"access"`
	URL       string         `yaml:"url"`
	IsDefault bool           `yaml:"isDefault"`
	Editable  bool           `yaml:"editable"`
	JSONData  map[string]any `yaml:"jsonData,omitempty"`
}

// DatasourcesYAML is Grafana's provisioning file for Prometheus (default),
// Alertmanager, Loki and Tempo, cross-linked: a trace opens its logs and
// metrics, a log line with a trace_id opens the trace, and a Prometheus
// exemplar opens its trace. "$$" is Grafana's escape for a literal "$".
// Loki and Tempo are queried at e's query Services.
func DatasourcesYAML(e Endpoints) (string, error) {
	doc := map[string]any{
		"apiVersion": 1,
		"datasources": []datasource{
			{
				Name: "Prometheus", Type: "prometheus", UID: PrometheusUID, Access: "proxy", URL: PrometheusURL, IsDefault: true,
				JSONData: map[string]any{
					"timeInterval":                "30s",
					"exemplarTraceIdDestinations": []map[string]any{{"name": "trace_id", "datasourceUid": TempoUID}},
				},
			},
			{
				Name: "Alertmanager", Type: "alertmanager", UID: AlertmanagerUID, Access: "proxy", URL: AlertmanagerURL,
				// Grafana-managed alerts (the CDN rules on CloudWatch) go to
				// this Alertmanager, so they route like the Prometheus ones.
				JSONData: map[string]any{"implementation": "prometheus", "handleGrafanaManagedAlerts": true},
			},
			{
				Name: "Loki", Type: "loki", UID: LokiUID, Access: "proxy", URL: e.LokiQuery.URL(),
				JSONData: map[string]any{
					"maxLines": 1000,
					"derivedFields": []map[string]any{{
						"name": "TraceID", "matcherType": "regex", "matcherRegex": `(?:trace_id|traceID|traceId)[=:]"?(\w+)`,
						"datasourceUid": TempoUID, "url": "$${__value.raw}", "urlDisplayLabel": "View trace",
					}},
				},
			},
			{
				Name: "Tempo", Type: "tempo", UID: TempoUID, Access: "proxy", URL: e.TempoQuery.URL(),
				JSONData: map[string]any{
					"tracesToLogsV2": map[string]any{
						"datasourceUid": LokiUID, "spanStartTimeShift": "-2m", "spanEndTimeShift": "2m",
						"filterByTraceID": true, "filterBySpanID": false,
						"tags": []map[string]string{{"key": "k8s.namespace.name", "value": "namespace"}, {"key": "k8s.pod.name", "value": "pod"}},
					},
					"tracesToMetrics": map[string]any{
						"datasourceUid": PrometheusUID, "spanStartTimeShift": "-2m", "spanEndTimeShift": "2m",
						"tags": []map[string]string{{"key": "service.name", "value": "service"}},
					},
					"serviceMap": map[string]any{"datasourceUid": PrometheusUID},
					"nodeGraph":  map[string]any{"enabled": true},
					"search":     map[string]any{"hide": false},
				},
			},
		},
	}
	b, err := yaml.Marshal(doc)
	return string(b), err
}
