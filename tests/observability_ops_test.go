package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestLokiDeletesLogsAfterTheConfiguredRetention(t *testing.T) {
	// Without retention Loki keeps everything, its volume fills and
	// LokiDown fires. Loki 3 also refuses retention without a
	// delete-request store.
	for env, want := range map[string]struct{ period, size string }{
		"dev": {"336h", "10Gi"}, "staging": {"720h", "10Gi"}, "prod": {"720h", "50Gi"},
	} {
		_, v := releaseValues(t, stack(t, env+"-observability").Doc, "loki")
		loki := v["loki"].(map[string]any)
		assert.Equal(t, map[string]any{"retention_enabled": true, "delete_request_store": "s3"}, loki["compactor"], env)
		assert.Equal(t, want.period, loki["limits_config"].(map[string]any)["retention_period"], env)
		// the volume holds the WAL: the single binary's in dev, each writer's elsewhere
		wal := "singleBinary"
		if env != "dev" {
			wal = "write"
		}
		assert.Equal(t, want.size, v[wal].(map[string]any)["persistence"].(map[string]any)["size"], env)
	}
}

func TestNoUsageReportingToVendors(t *testing.T) {
	doc := stack(t, "dev-observability").Doc
	_, loki := releaseValues(t, doc, "loki")
	assert.Equal(t, map[string]any{"reporting_enabled": false}, loki["loki"].(map[string]any)["analytics"], "Loki analytics")
	cfg := tempoConfigFile(t)
	assert.Equal(t, map[string]any{"reporting_enabled": false}, cfg["usage_report"], "Tempo usage_report")
	_, td := releaseValues(t, stack(t, "prod-observability").Doc, "tempo")
	assert.Equal(t, false, td["reportingEnabled"], "tempo-distributed usage_report")
	_, lokiProd := releaseValues(t, stack(t, "prod-observability").Doc, "loki")
	assert.Equal(t, map[string]any{"reporting_enabled": false}, lokiProd["loki"].(map[string]any)["analytics"], "Loki analytics in prod")
	_, kps := releaseValues(t, doc, "kube-prometheus-stack")
	ini := kps["grafana"].(map[string]any)["grafana.ini"].(map[string]any)
	assert.Equal(t, false, ini["analytics"].(map[string]any)["reporting_enabled"], "Grafana analytics")
}

// tempoConfigFile is Tempo's configuration as the chart writes it: the
// chart passes our config value through tpl into tempo.yaml.
func tempoConfigFile(t *testing.T) map[string]any {
	t.Helper()
	_, v := releaseValues(t, stack(t, "dev-observability").Doc, "tempo")
	raw, ok := v["config"].(string)
	require.True(t, ok, "tempo config must be our own string, not the chart's template")
	assert.NotContains(t, raw, "{{", "no template left for the chart to fill from its defaults")
	var cfg map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(raw), &cfg))
	return cfg
}

func TestTempoListensForOTLPOnly(t *testing.T) {
	// The chart's default receivers include Jaeger, and Helm merges our
	// map into them; the config Tempo reads must name OTLP alone.
	cfg := tempoConfigFile(t)
	receivers := cfg["distributor"].(map[string]any)["receivers"].(map[string]any)
	assert.Equal(t, []string{"otlp"}, keys(receivers))
	protocols := receivers["otlp"].(map[string]any)["protocols"].(map[string]any)
	assert.Equal(t, "0.0.0.0:4317", protocols["grpc"].(map[string]any)["endpoint"])
	assert.Equal(t, "0.0.0.0:4318", protocols["http"].(map[string]any)["endpoint"])

	// The chart renders a Jaeger Service port for each Jaeger protocol
	// that has an endpoint; ours have none.
	_, v := releaseValues(t, stack(t, "dev-observability").Doc, "tempo")
	jaeger := v["tempo"].(map[string]any)["receivers"].(map[string]any)["jaeger"].(map[string]any)["protocols"].(map[string]any)
	assert.Len(t, jaeger, 4, "every protocol of the chart's default is overridden")
	for name, p := range jaeger {
		ep, set := p.(map[string]any)["endpoint"]
		assert.True(t, set && ep == nil, "jaeger %s must have its endpoint removed (null)", name)
	}
	assert.NotContains(t, cfg, "zipkin")
	// the metrics generator's scratch paths are on the emptyDir the chart
	// mounts at /tmp when metricsGenerator.enabled
	assert.Equal(t, map[string]any{"enabled": true}, v["tempo"].(map[string]any)["metricsGenerator"])
	gen := cfg["metrics_generator"].(map[string]any)
	assert.Equal(t, "http://kube-prometheus-stack-prometheus.observability.svc:9090/api/v1/write",
		gen["storage"].(map[string]any)["remote_write"].([]any)[0].(map[string]any)["url"])
}

func TestAlertmanagerKeepsSilencesOnAVolume(t *testing.T) {
	// Pods may now move on scale-down; silences and the notification log
	// must move with them.
	_, v := releaseValues(t, stack(t, "prod-observability").Doc, "kube-prometheus-stack")
	spec := v["alertmanager"].(map[string]any)["alertmanagerSpec"].(map[string]any)
	vct := spec["storage"].(map[string]any)["volumeClaimTemplate"].(map[string]any)["spec"].(map[string]any)
	assert.Equal(t, "gp3-encrypted", vct["storageClassName"])
	assert.Equal(t, "2Gi", vct["resources"].(map[string]any)["requests"].(map[string]any)["storage"])
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestPrometheusSelectsTheServiceChartsServiceMonitors(t *testing.T) {
	// helm/spatial-service labels its ServiceMonitor release:
	// kube-prometheus-stack; Prometheus selects exactly that label, in
	// every namespace, only while this stays true.
	r, v := releaseValues(t, stack(t, "dev-observability").Doc, "kube-prometheus-stack")
	assert.Equal(t, "kube-prometheus-stack", r.Get("name").String())
	spec := v["prometheus"].(map[string]any)["prometheusSpec"].(map[string]any)
	assert.Equal(t, true, spec["serviceMonitorSelectorNilUsesHelmValues"])
	assert.NotContains(t, spec, "serviceMonitorSelector")
	assert.Equal(t, map[string]any{}, spec["serviceMonitorNamespaceSelector"])
	chart := readFile(t, "../helm/spatial-service/templates/_servicemonitor.tpl")
	assert.Contains(t, chart, "release: kube-prometheus-stack")
}
