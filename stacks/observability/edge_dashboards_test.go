package observability

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

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

// The four edge dashboards the guide names exist, and every panel queries
// a datasource that is provisioned (Prometheus, or the CloudWatch one).
func TestEdgeDashboardsUseProvisionedDatasources(t *testing.T) {
	boards := edgeBoards(t)
	assert.ElementsMatch(t, []string{DTNBacklogUID, MeshConvergenceUID, BeaconUpdatesUID, CertificateRotationUID}, keys(boards))
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
	name := regexp.MustCompile(`\b(nats|certmanager|provenance|marketplace)_[a-z_]+\b`)
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
	assert.True(t, strings.Contains(string(rules), `nats_stream_last_seq{stream_name="SECURITY"}`))
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
