package tests

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"gopkg.in/yaml.v3"
)

func configMap(t *testing.T, doc gjson.Result, name string) gjson.Result {
	t.Helper()
	for _, cm := range resources(doc, "kubernetes_config_map_v1") {
		if cm.Get("metadata.name").String() == name {
			return cm
		}
	}
	t.Fatalf("no ConfigMap %s", name)
	return gjson.Result{}
}

func TestObservabilityReleases(t *testing.T) {
	doc := stack(t, "dev-observability").Doc
	names := map[string]string{}
	for _, r := range resources(doc, "helm_release") {
		names[r.Get("name").String()] = r.Get("chart").String()
		assert.Equal(t, "observability", r.Get("namespace").String())
		assert.Regexp(t, `^\d+\.\d+\.\d+$`, r.Get("version").String())
	}
	assert.Equal(t, map[string]string{
		"kube-prometheus-stack": "kube-prometheus-stack", "loki": "loki", "alloy": "alloy",
		"tempo": "tempo", "opentelemetry-collector": "opentelemetry-collector",
	}, names)
}

func TestPrometheusRetentionAndStorage(t *testing.T) {
	for env, size := range map[string]string{"dev": "50Gi", "prod": "100Gi"} {
		_, v := releaseValues(t, stack(t, env+"-observability").Doc, "kube-prometheus-stack")
		spec := v["prometheus"].(map[string]any)["prometheusSpec"].(map[string]any)
		assert.Equal(t, "15d", spec["retention"], env)
		vct := spec["storageSpec"].(map[string]any)["volumeClaimTemplate"].(map[string]any)["spec"].(map[string]any)
		assert.Equal(t, "gp3-encrypted", vct["storageClassName"])
		assert.Equal(t, size, vct["resources"].(map[string]any)["requests"].(map[string]any)["storage"])
		for _, c := range []string{"alertmanager", "nodeExporter", "kubeStateMetrics", "grafana"} {
			assert.Equal(t, true, v[c].(map[string]any)["enabled"], "%s: %s", env, c)
		}
	}
	_, loki := releaseValues(t, stack(t, "dev-observability").Doc, "loki")
	assert.Equal(t, "10Gi", loki["singleBinary"].(map[string]any)["persistence"].(map[string]any)["size"], "the guide's 10Gi in dev")
}

// literalSecret finds keys that look like credentials and carry a literal
// value rather than a reference resolved at apply time.
var secretKey = regexp.MustCompile(`(?i)(password|passwd|secret_key|adminpassword)`)

func TestNoPlaintextPasswordAnywhere(t *testing.T) {
	for _, s := range allStacks(t) {
		raw := string(s.Raw)
		assert.NotContains(t, raw, "changeme123!", s.ID)
		var walk func(path string, v gjson.Result)
		walk = func(path string, v gjson.Result) {
			v.ForEach(func(k, child gjson.Result) bool {
				p := path + "." + k.String()
				// "${...}" is resolved at apply time; "{{ .x }}" is an ESO
				// template filled in the cluster from a generator.
				if secretKey.MatchString(k.String()) && child.Type == gjson.String && !strings.HasPrefix(child.String(), "${") &&
					!esoTemplate.MatchString(child.String()) {
					t.Errorf("%s: %s holds a literal %q", s.ID, p, child.String())
				}
				if child.IsObject() || child.IsArray() {
					walk(p, child)
				}
				return true
			})
		}
		walk("", s.Doc)
		// Helm values are YAML strings: look inside them too.
		for _, r := range resources(s.Doc, "helm_release") {
			for _, v := range r.Get("values").Array() {
				assert.NotRegexp(t, `(?i)adminPassword:`, v.String(), "%s: %s sets a Grafana password in values", s.ID, r.Get("name"))
			}
		}
	}
	for _, s := range allStacks(t) {
		// Nothing writes a Secret or a generated credential through
		// Terraform: its value would sit in state.
		for _, typ := range []string{"kubernetes_secret_v1", "random_password", "aws_secretsmanager_secret_version"} {
			assert.Empty(t, resources(s.Doc, typ), "%s has %s", s.ID, typ)
		}
		assert.False(t, s.Doc.Get("provider.random").Exists(), "%s still configures the random provider", s.ID)
	}
	doc := stack(t, "dev-observability").Doc
	es := manifestByKindName(t, doc, "ExternalSecret", "grafana-admin")
	assert.Equal(t, "CreatedOnce", es.Get("manifest.spec.refreshPolicy").String(), "a refresh would rotate the password under Grafana")
	assert.Equal(t, "Password", es.Get("manifest.spec.dataFrom.0.sourceRef.generatorRef.kind").String(), "generated in-cluster")
	_, v := releaseValues(t, doc, "kube-prometheus-stack")
	admin := v["grafana"].(map[string]any)["admin"].(map[string]any)
	assert.Equal(t, es.Get("manifest.spec.target.name").String(), admin["existingSecret"], "Grafana reads the generated secret")
	assert.Equal(t, "admin-password", admin["passwordKey"])
	assert.True(t, es.Get("manifest.spec.target.template.data.admin-password").Exists(), "the key Grafana reads is the key ESO writes")
}

var esoTemplate = regexp.MustCompile(`^\{\{ \.[a-z]+ \}\}$`)

// manifestByKindName finds a kubernetes_manifest by kind and name.
func manifestByKindName(t *testing.T, doc gjson.Result, kind, name string) gjson.Result {
	t.Helper()
	for _, m := range resources(doc, "kubernetes_manifest") {
		if m.Get("manifest.kind").String() == kind && m.Get("manifest.metadata.name").String() == name {
			return m
		}
	}
	t.Fatalf("no %s %s", kind, name)
	return gjson.Result{}
}

func TestDatasourcesMatchReleasesAndPorts(t *testing.T) {
	doc := stack(t, "dev-observability").Doc
	releases := map[string]bool{}
	for _, r := range resources(doc, "helm_release") {
		releases[r.Get("name").String()] = true
	}
	var prov struct {
		Datasources []struct {
			Name, Type, UID, URL string
			IsDefault            bool           `yaml:"isDefault"`
			JSONData             map[string]any `yaml:"jsonData"`
		}
	}
	cm := configMap(t, doc, "spatialprops-datasources")
	require.NoError(t, yaml.Unmarshal([]byte(cm.Get("data.datasources\\.yaml").String()), &prov))

	// Service names and ports as the pinned charts create them (read from
	// their templates): <release>-prometheus:9090, <release>-alertmanager:9093,
	// loki:3100 (monolithic, no gateway), tempo:3200 (not the guide's 3100).
	want := map[string]struct {
		release, service string
		port             string
	}{
		"Prometheus":   {"kube-prometheus-stack", "kube-prometheus-stack-prometheus", "9090"},
		"Alertmanager": {"kube-prometheus-stack", "kube-prometheus-stack-alertmanager", "9093"},
		"Loki":         {"loki", "loki", "3100"},
		"Tempo":        {"tempo", "tempo", "3200"},
	}
	require.Len(t, prov.Datasources, len(want))
	defaults := 0
	for _, ds := range prov.Datasources {
		w, ok := want[ds.Name]
		require.True(t, ok, ds.Name)
		u, err := url.Parse(ds.URL)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("%s.observability.svc", w.service), u.Hostname(), ds.Name)
		assert.Equal(t, w.port, u.Port(), ds.Name)
		assert.True(t, releases[w.release], "%s points at release %s, which this stack installs", ds.Name, w.release)
		if ds.IsDefault {
			defaults++
			assert.Equal(t, "Prometheus", ds.Name)
		}
	}
	assert.Equal(t, 1, defaults, "exactly one default datasource, or Grafana refuses to start")
	for _, ds := range prov.Datasources {
		if ds.Name == "Tempo" {
			assert.Equal(t, "loki", ds.JSONData["tracesToLogsV2"].(map[string]any)["datasourceUid"], "traces link to logs")
			assert.Equal(t, "prometheus", ds.JSONData["tracesToMetrics"].(map[string]any)["datasourceUid"], "traces link to metrics")
		}
	}
	// the chart's own default datasource is off, so ours is the only default
	_, v := releaseValues(t, doc, "kube-prometheus-stack")
	assert.Equal(t, false, v["grafana"].(map[string]any)["sidecar"].(map[string]any)["datasources"].(map[string]any)["defaultDatasourceEnabled"])

	// the collector exports to the same services
	_, c := releaseValues(t, doc, "opentelemetry-collector")
	exporters := c["config"].(map[string]any)["exporters"].(map[string]any)
	assert.Equal(t, "tempo.observability.svc:4317", exporters["otlp_grpc/tempo"].(map[string]any)["endpoint"])
	assert.Equal(t, "http://loki.observability.svc:3100/otlp", exporters["otlp_http/loki"].(map[string]any)["endpoint"])
	assert.Equal(t, "otel/opentelemetry-collector-contrib", c["image"].(map[string]any)["repository"], "the chart refuses to render without an image repository")
	_, a := releaseValues(t, doc, "alloy")
	assert.Contains(t, a["alloy"].(map[string]any)["configMap"].(map[string]any)["content"], `url = "http://loki.observability.svc:3100/loki/api/v1/push"`)
}

func TestSidecarLabelsMatchTheConfigMaps(t *testing.T) {
	// The guide's "dashboards empty" pitfall: a label mismatch and Grafana
	// silently ignores the ConfigMap.
	doc := stack(t, "dev-observability").Doc
	_, v := releaseValues(t, doc, "kube-prometheus-stack")
	sidecar := v["grafana"].(map[string]any)["sidecar"].(map[string]any)
	for cmName, kind := range map[string]string{"spatialprops-datasources": "datasources", "spatialprops-dashboards": "dashboards"} {
		sc := sidecar[kind].(map[string]any)
		label, value := sc["label"].(string), sc["labelValue"].(string)
		cm := configMap(t, doc, cmName)
		assert.Equal(t, value, cm.Get("metadata.labels."+gjson.Escape(label)).String(), "%s must carry %s=%s", cmName, label, value)
		// same namespace as Grafana (the sidecar's searchNamespace)
		assert.Regexp(t, `^\$\{kubernetes_namespace_v1\.namespace_\w+\.metadata\[0\]\.name\}$`, cm.Get("metadata.namespace").String())
	}
	var names []string
	for _, ns := range resources(doc, "kubernetes_namespace_v1") {
		names = append(names, ns.Get("metadata.name").String())
	}
	assert.ElementsMatch(t, []string{"observability", "node-exporter"}, names)
	// Both sidecars read only observability: with "ALL", anyone able to
	// create a ConfigMap anywhere could inject a dashboard or datasource.
	assert.Equal(t, "observability", sidecar["datasources"].(map[string]any)["searchNamespace"])
	assert.Equal(t, "observability", sidecar["dashboards"].(map[string]any)["searchNamespace"])
	assert.Equal(t, "grafana_datasource", sidecar["datasources"].(map[string]any)["label"], "the guide's label")
	assert.Equal(t, "grafana_dashboard", sidecar["dashboards"].(map[string]any)["label"])
}

func TestGrafanaIsDarkAndDashboardsAreOnBrand(t *testing.T) {
	doc := stack(t, "dev-observability").Doc
	_, v := releaseValues(t, doc, "kube-prometheus-stack")
	ini := v["grafana"].(map[string]any)["grafana.ini"].(map[string]any)
	assert.Equal(t, "dark", ini["users"].(map[string]any)["default_theme"])

	dash := gjson.Parse(configMap(t, doc, "spatialprops-dashboards").Get("data.spatial-packs-platform\\.json").String())
	assert.Equal(t, "Spatial Packs platform", dash.Get("title").String())
	colours := map[string]bool{}
	for _, p := range dash.Get("panels").Array() {
		if c := p.Get("fieldConfig.defaults.color.fixedColor").String(); c != "" {
			colours[c] = true
		}
		for _, target := range p.Get("targets").Array() {
			assert.Equal(t, "prometheus", target.Get("datasource.uid").String())
			assert.NotEmpty(t, target.Get("expr").String())
		}
	}
	assert.Equal(t, map[string]bool{"#02b0ad": true, "#f1456d": true, "#fe8305": true}, colours, "panels use only the brand palette")
}

func TestAlertRulesAreLoadedAndEachHasAUnitTest(t *testing.T) {
	_, v := releaseValues(t, stack(t, "dev-observability").Doc, "kube-prometheus-stack")
	groups := v["additionalPrometheusRulesMap"].(map[string]any)["spatialprops-platform"].(map[string]any)["groups"].([]any)
	var alerts []string
	for _, g := range groups {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			alerts = append(alerts, r.(map[string]any)["alert"].(string))
		}
	}
	assert.ElementsMatch(t, []string{
		"NodeNotReady", "PodCrashLooping", "ClusterAutoscalerErrors", "ClusterAutoscalerUnavailable",
		"PersistentVolumeFillingUp", "LokiDown", "TempoDown", "TelemetryReplicaMissing", "OpenTelemetryCollectorDown", "LogCollectorDegraded",
	}, alerts)
	tests := readFile(t, "../stacks/observability/rules/platform.rules.test.yaml")
	for _, a := range alerts {
		assert.Contains(t, tests, "alertname: "+a, "alert %s has no promtool unit test", a)
	}
}
