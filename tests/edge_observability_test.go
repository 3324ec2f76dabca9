package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/spatialprops/spatialprops-infra/stacks"
	obs "github.com/spatialprops/spatialprops-infra/stacks/observability"
)

// policyDocs returns the data.aws_iam_policy_document blocks whose key
// contains part.
func policyDocs(doc gjson.Result, part string) []gjson.Result {
	var out []gjson.Result
	doc.Get("data.aws_iam_policy_document").ForEach(func(k, v gjson.Result) bool {
		if strings.Contains(k.String(), part) {
			out = append(out, v)
		}
		return true
	})
	return out
}

// GIVEN an env with Edge Sync THEN Grafana reads CloudWatch through its own
// role, which may only read (no Put*, no Set*, no Delete*), is trusted only
// by Grafana's service account, and that service account carries it.
func TestGrafanaCloudWatchRoleIsReadOnlyAndOnGrafanasServiceAccount(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-observability").Doc
		var role gjson.Result
		for _, r := range resources(doc, "aws_iam_role") {
			if strings.HasSuffix(r.Get("name").String(), "-irsa-grafana-cloudwatch") {
				role = r
			}
		}
		require.True(t, role.Exists(), "%s: no irsa-grafana-cloudwatch role", env)
		assert.Contains(t, role.Get("permissions_boundary").String(), "workload-boundary", env)

		perms := policyDocs(doc, "grafana-cloudwatch-irsa_permissions")
		require.Len(t, perms, 1, env)
		var actions []string
		for _, s := range perms[0].Get("statement").Array() {
			assert.NotEqual(t, "Deny", s.Get("effect").String())
			for _, a := range s.Get("actions").Array() {
				actions = append(actions, a.String())
			}
		}
		assert.ElementsMatch(t, stacks.GrafanaCloudWatchActions, actions, env)
		for _, a := range actions {
			assert.Regexp(t, `^cloudwatch:(Get|List|Describe)`, a, "%s: %s is not a read", env, a)
		}
		trust := policyDocs(doc, "grafana-cloudwatch-irsa_trust")
		require.Len(t, trust, 1, env)
		assert.Contains(t, trust[0].Raw, "system:serviceaccount:observability:"+obs.GrafanaService, env)

		_, v := releaseValues(t, doc, "kube-prometheus-stack")
		sa := v["grafana"].(map[string]any)["serviceAccount"].(map[string]any)
		assert.Equal(t, obs.GrafanaService, sa["name"], env)
		assert.Contains(t, sa["annotations"].(map[string]any)["eks.amazonaws.com/role-arn"], "aws_iam_role.grafana-cloudwatch-irsa", env)
	}
}

// The CloudWatch datasource the edge dashboards query is provisioned next
// to them, and the dashboards ConfigMap carries the sidecar's label.
func TestEdgeDashboardsAndCloudWatchDatasourceAreProvisioned(t *testing.T) {
	doc := stack(t, "dev-observability").Doc
	ds := configMap(t, doc, "spatialprops-cloudwatch-datasource")
	assert.Equal(t, "1", ds.Get("metadata.labels.grafana_datasource").String())
	assert.Contains(t, ds.Get(`data.cloudwatch\.yaml`).String(), "uid: "+obs.CloudWatchUID)
	assert.Contains(t, ds.Get(`data.cloudwatch\.yaml`).String(), "authType: default")
	assert.NotContains(t, ds.Get(`data.cloudwatch\.yaml`).String(), "secretKey")

	dash := configMap(t, doc, "spatialprops-edge-dashboards")
	assert.Equal(t, "1", dash.Get("metadata.labels.grafana_dashboard").String())
	var files []string
	dash.Get("data").ForEach(func(k, v gjson.Result) bool {
		files = append(files, k.String())
		if strings.Contains(v.String(), `"type": "cloudwatch"`) {
			assert.Contains(t, v.String(), `"uid": "`+obs.CloudWatchUID+`"`, k.String())
		}
		return true
	})
	assert.ElementsMatch(t, []string{"edge-dtn-backlog.json", "edge-mesh-convergence.json", "edge-beacon-updates.json", "edge-certificate-rotations.json", "edge-cdn-errors.json"}, files)
	assert.Contains(t, dash.Get(`data.edge-dtn-backlog\.json`).String(), `"QueueName": "spatialprops-dev-dtn-outbox"`)
	// The dashboard draws the alarm's threshold.
	assert.Equal(t, stacks.DTNBacklogAgeAlarmSeconds, obs.DTNBacklogAgeAlarmSeconds)

	// The CDN alert rules (on the CloudWatch datasource) reach Grafana
	// through its alerts sidecar, which watches exactly this label in this
	// namespace, and Grafana hands them to Alertmanager.
	alerts := configMap(t, doc, "spatialprops-cdn-alerts")
	assert.Equal(t, "1", alerts.Get("metadata.labels."+obs.AlertLabel).String())
	assert.Contains(t, alerts.Get("metadata.namespace").String(), "kubernetes_namespace_v1.namespace", "in the observability namespace the stack creates")
	assert.Contains(t, alerts.Get(`data.cdn-alerts\.yaml`).String(), "datasourceUid: "+obs.CloudWatchUID)
	_, v := releaseValues(t, doc, "kube-prometheus-stack")
	sc := v["grafana"].(map[string]any)["sidecar"].(map[string]any)["alerts"].(map[string]any)
	assert.Equal(t, true, sc["enabled"])
	assert.Equal(t, obs.AlertLabel, sc["label"])
	assert.Equal(t, "1", sc["labelValue"])
	assert.Equal(t, "observability", sc["searchNamespace"], "only ConfigMaps in observability may inject alert rules")
	assert.Contains(t, configMap(t, doc, obs.DatasourcesConfigMap).Raw, `handleGrafanaManagedAlerts: true`)
}

// GIVEN edge-sync THEN NATS runs its Prometheus exporter with a PodMonitor
// Prometheus selects, in a restricted security context, and only
// Prometheus may reach the exporter port.
func TestNATSExporterIsScrapedByPrometheusOnly(t *testing.T) {
	doc := stack(t, "dev-edge").Doc
	_, v := releaseValues(t, doc, "nats")
	pe := v["promExporter"].(map[string]any)
	assert.Equal(t, true, pe["enabled"])
	pm := pe["podMonitor"].(map[string]any)
	assert.Equal(t, true, pm["enabled"])
	assert.Equal(t, obs.KubePrometheusRelease, pm["merge"].(map[string]any)["metadata"].(map[string]any)["labels"].(map[string]any)["release"])
	sc := pe["merge"].(map[string]any)["securityContext"].(map[string]any)
	assert.Equal(t, false, sc["allowPrivilegeEscalation"])
	assert.Equal(t, true, sc["readOnlyRootFilesystem"])

	var found bool
	for _, p := range resources(doc, "kubernetes_network_policy_v1") {
		if p.Get("metadata.name").String() != "allow-nats-metrics" {
			continue
		}
		found = true
		assert.Equal(t, "7777", p.Get("spec.ingress.0.ports.0.port").String())
		from := p.Get("spec.ingress.0.from").Array()
		require.Len(t, from, 1)
		assert.Equal(t, "prometheus", from[0].Get(`pod_selector.match_labels.app\.kubernetes\.io/name`).String())
		assert.Contains(t, from[0].Get("namespace_selector").Raw, "observability")
	}
	assert.True(t, found, "allow-nats-metrics is missing")
}
