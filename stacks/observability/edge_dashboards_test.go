package observability

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type panelJSON struct {
	Title      string `json:"title"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []map[string]any `json:"targets"`
}

func edgeBoards(t *testing.T) map[string][]panelJSON {
	t.Helper()
	out, err := EdgeDashboards(EdgeDashboardInput{Region: "eu-west-1", DTNQueue: "sp-dev-dtn-outbox"})
	require.NoError(t, err)
	boards := map[string][]panelJSON{}
	for name, js := range out {
		var d struct {
			UID    string      `json:"uid"`
			Panels []panelJSON `json:"panels"`
		}
		require.NoError(t, json.Unmarshal([]byte(js), &d), name)
		require.NotEmpty(t, d.Panels, name)
		boards[d.UID] = d.Panels
	}
	return boards
}

// The four edge dashboards the guide names (and the CDN errors one) exist, and every panel queries
// a datasource that is provisioned (Prometheus, or the CloudWatch one).
func TestEdgeDashboardsUseProvisionedDatasources(t *testing.T) {
	boards := edgeBoards(t)
	assert.ElementsMatch(t, []string{DTNBacklogUID, MeshConvergenceUID, BeaconUpdatesUID, CertificateRotationUID, CDNErrorsUID}, keys(boards))
	cw, err := EdgeDatasourceYAML("eu-west-1")
	require.NoError(t, err)
	assert.Contains(t, cw, "uid: "+CloudWatchUID)
	assert.Contains(t, cw, "authType: default", "credentials come from IRSA, never a stored key")
	for uid, panels := range boards {
		for _, p := range panels {
			assert.Contains(t, []string{PrometheusUID, CloudWatchUID}, p.Datasource.UID, "%s/%s", uid, p.Title)
			for _, q := range p.Targets {
				ds := q["datasource"].(map[string]any)["uid"]
				assert.Equal(t, p.Datasource.UID, ds, "%s/%s", uid, p.Title)
			}
		}
	}
}

// The DTN backlog dashboard reads the three SQS metrics of the outbox queue.
func TestDTNBacklogDashboardReadsTheOutboxQueue(t *testing.T) {
	var metrics []string
	for _, p := range edgeBoards(t)[DTNBacklogUID] {
		for _, q := range p.Targets {
			assert.Equal(t, "AWS/SQS", q["namespace"])
			assert.Equal(t, map[string]any{"QueueName": "sp-dev-dtn-outbox"}, q["dimensions"])
			metrics = append(metrics, q["metricName"].(string))
		}
	}
	assert.ElementsMatch(t, []string{"ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible", "ApproximateAgeOfOldestMessage"}, metrics)
}

// Every Prometheus metric the edge dashboards query is one the exporters
// really emit (the list below is read from prometheus-nats-exporter with
// -prefix=nats and from cert-manager) or one the edge alert rules use, so a
// typo shows up here instead of as an empty panel.
func TestEdgeDashboardMetricsExist(t *testing.T) {
	known := map[string]bool{
		"nats_varz_routes": true, "nats_varz_leafnodes": true,
		"nats_stream_last_seq": true, "nats_stream_total_messages": true,
		"certmanager_certificate_expiration_timestamp_seconds": true, "certmanager_certificate_ready_status": true,
	}
	rules, err := os.ReadFile("rules/edge.rules.yaml")
	require.NoError(t, err)
	name := regexp.MustCompile(`\b(nats|certmanager|provenance|marketplace|edge|device)_[a-z_]+\b`)
	for _, m := range name.FindAllString(string(rules), -1) {
		known[m] = true
	}
	seen := 0
	for uid, panels := range edgeBoards(t) {
		for _, p := range panels {
			for _, q := range p.Targets {
				expr, _ := q["expr"].(string)
				for _, m := range name.FindAllString(expr, -1) {
					seen++
					assert.True(t, known[m], "%s/%s queries %s, which no exporter or rule knows", uid, p.Title, m)
				}
			}
		}
	}
	assert.Greater(t, seen, 5)
	assert.False(t, known["nats_stream_total_msgs"], "a misspelt name is not in the list")
	assert.True(t, strings.Contains(string(rules), `edge_replay_detected_total[10m]`), "the replay panel and alert read one series")
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// GIVEN the CDN errors dashboard THEN it plots CloudFront's 4xx and 5xx
// error rates of every distribution, read where CloudFront publishes them
// (us-east-1), through the CloudWatch datasource.
func TestCDNErrorPanels(t *testing.T) {
	panels := edgeBoards(t)[CDNErrorsUID]
	require.Len(t, panels, 2)
	var metrics []string
	for _, p := range panels {
		require.Len(t, p.Targets, 1, p.Title)
		q := p.Targets[0]
		assert.Equal(t, "AWS/CloudFront", q["namespace"], p.Title)
		assert.Equal(t, CloudFrontRegion, q["region"], p.Title)
		assert.Equal(t, CloudWatchUID, p.Datasource.UID)
		assert.Equal(t, map[string]any{"DistributionId": "*", "Region": "Global"}, q["dimensions"], "every distribution")
		metrics = append(metrics, q["metricName"].(string))
	}
	assert.Equal(t, []string{"4xxErrorRate", "5xxErrorRate"}, metrics)
}

// GIVEN the CDN alert rules THEN each queries the CloudWatch datasource for
// the metric the dashboard plots, with a relative time range (Grafana
// refuses a provisioning file with a rule that has none), reduces it to the
// worst distribution, fires over its threshold for 10 minutes, and carries
// the severity Alertmanager routes on and a runbook.
func TestCDNAlertRulesQueryCloudWatch(t *testing.T) {
	raw, err := CDNAlertRulesYAML()
	require.NoError(t, err)
	var doc struct {
		APIVersion int `yaml:"apiVersion"`
		Groups     []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Title     string            `yaml:"title"`
				Condition string            `yaml:"condition"`
				For       string            `yaml:"for"`
				Labels    map[string]string `yaml:"labels"`
				Ann       map[string]string `yaml:"annotations"`
				Data      []struct {
					RefID string         `yaml:"refId"`
					DS    string         `yaml:"datasourceUid"`
					Range map[string]int `yaml:"relativeTimeRange"`
					Model map[string]any `yaml:"model"`
				} `yaml:"data"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(raw), &doc))
	require.Equal(t, 1, doc.APIVersion)
	require.Len(t, doc.Groups, 1)
	want := map[string][2]any{"CDN5xxErrorRateHigh": {"5xxErrorRate", CDN5xxErrorRateThreshold}, "CDN4xxErrorRateHigh": {"4xxErrorRate", CDN4xxErrorRateThreshold}}
	require.Len(t, doc.Groups[0].Rules, len(want))
	for _, r := range doc.Groups[0].Rules {
		w, ok := want[r.Title]
		require.True(t, ok, r.Title)
		assert.Equal(t, "C", r.Condition)
		assert.Equal(t, "10m", r.For)
		assert.Contains(t, []string{"critical", "warning"}, r.Labels["severity"])
		assert.Contains(t, r.Ann["runbook_url"], "docs/edge-observability.md#"+strings.ToLower(r.Title))
		require.Len(t, r.Data, 3)
		a := r.Data[0]
		assert.Equal(t, CloudWatchUID, a.DS, "%s reads the CloudWatch datasource", r.Title)
		assert.Equal(t, w[0], a.Model["metricName"])
		assert.Equal(t, "AWS/CloudFront", a.Model["namespace"])
		assert.Equal(t, CloudFrontRegion, a.Model["region"])
		for _, d := range r.Data {
			assert.Greater(t, d.Range["from"], 0, "%s/%s needs a relative time range", r.Title, d.RefID)
		}
		threshold := r.Data[2].Model["conditions"].([]any)[0].(map[string]any)["evaluator"].(map[string]any)
		assert.Equal(t, "gt", threshold["type"])
		assert.Equal(t, []any{w[1]}, threshold["params"])
	}
}
