package observability

//lint:file-ignore SA1019 Grafana's file provisioning (the dashboard sidecar) loads classic dashboard JSON (see dashboards.go).

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cloudwatch"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"gopkg.in/yaml.v3"
)

// CloudWatchUID is the uid of the CloudWatch datasource the edge dashboards
// read SQS and ACM Private CA metrics through (EdgeDatasourceYAML).
const CloudWatchUID = "cloudwatch"

// Edge dashboard uids, stable so links and bookmarks survive re-provisioning.
const (
	DTNBacklogUID          = "edge-dtn-backlog"
	MeshConvergenceUID     = "edge-mesh-convergence"
	BeaconUpdatesUID       = "edge-beacon-updates"
	CertificateRotationUID = "edge-certificate-rotations"
	CDNErrorsUID           = "edge-cdn-errors"
)

// EdgeDashboardInput is what the edge dashboards need from the environment:
// the region CloudWatch is read in and the DTN outbox queue's name.
type EdgeDashboardInput struct {
	Region   string
	DTNQueue string
}

func cwDS() common.DataSourceRef {
	t, uid := "cloudwatch", CloudWatchUID
	return common.DataSourceRef{Type: &t, Uid: &uid}
}

// cwQuery is a CloudWatch metric search (builder mode) for one statistic.
func cwQuery(region, namespace, metric, stat string, dims map[string]string, label string) *cloudwatch.MetricsQueryBuilder {
	d := cloudwatch.Dimensions{}
	for k, v := range dims {
		d[k] = cloudwatch.StringOrArrayOfString{String: &v}
	}
	return cloudwatch.NewMetricsQueryBuilder().Datasource(cwDS()).
		QueryMode(cloudwatch.QueryModeMetrics).MetricQueryType(cloudwatch.MetricQueryTypeSearch).
		MetricEditorMode(cloudwatch.MetricEditorModeBuilder).
		Region(region).Namespace(namespace).MetricName(metric).Statistic(stat).
		Dimensions(d).MatchExact(true).Period("300").Label(label)
}

// cwTarget adapts the SDK's CloudWatch metrics query builder to a panel
// target (its Build returns the concrete query type).
type cwTarget struct {
	q *cloudwatch.MetricsQueryBuilder
}

func (t cwTarget) Build() (variants.Dataquery, error) {
	q, err := t.q.Build()
	return cwDataquery{q}, err
}

// cwDataquery is a CloudWatch metrics query as a panel target; it marshals
// as the query itself.
type cwDataquery struct{ cloudwatch.MetricsQuery }

func (cwDataquery) DataqueryType() string { return "cloudwatch" }

func (cwDataquery) ImplementsDataqueryVariant() {}

func (q cwDataquery) Equals(other variants.Dataquery) bool {
	o, ok := other.(cwDataquery)
	return ok && q.MetricsQuery.Equals(o.MetricsQuery)
}

func cwPanel(title, unit, color string, qs ...*cloudwatch.MetricsQueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Unit(unit).Height(8).Span(12).Datasource(cwDS()).
		ColorScheme(fixed(color)).LineWidth(2).FillOpacity(15)
	for i, q := range qs {
		p = p.WithTarget(cwTarget{q.RefId(string(rune('A' + i)))})
	}
	return p
}

func edgeBoard(title, uid, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).Uid(uid).Description(description).
		Tags([]string{"spatial-properties", "edge"}).Refresh("1m").Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).Tooltip(dashboard.DashboardCursorSyncCrosshair)
}

// DTNBacklog: the outbox queue's visible and in-flight envelopes and the age
// of the oldest, from CloudWatch (SQS metrics never reach Prometheus). The
// age panel marks the DTNBacklogOld alarm's threshold.
func DTNBacklog(in EdgeDashboardInput) (dashboard.Dashboard, error) {
	q := map[string]string{"QueueName": in.DTNQueue}
	return edgeBoard("Edge: DTN backlog", DTNBacklogUID,
		"Store-and-forward backlog of the DTN outbox queue "+in.DTNQueue+" (CloudWatch AWS/SQS).").
		WithPanel(cwPanel("Envelopes waiting (visible) and in flight (not visible)", "short", Teal,
			cwQuery(in.Region, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", q, "visible"),
			cwQuery(in.Region, "AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "Maximum", q, "in flight"))).
		WithPanel(cwPanel("Age of the oldest envelope", "s", Orange,
			cwQuery(in.Region, "AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", q, "oldest")).
			Thresholds(thresholds(step(nil, Teal), step(at(DTNBacklogAgeAlarmSeconds), Pink))).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine))).
		Build()
}

// DTNBacklogAgeAlarmSeconds mirrors the DTNBacklogOld CloudWatch alarm's
// threshold (stacks.DTNBacklogAgeAlarmSeconds; a test keeps them equal).
const DTNBacklogAgeAlarmSeconds = 6 * 3600

// MeshConvergence: route and leaf-node connections per NATS server, and
// JetStream replica lag, read as how far each stream's furthest-behind
// replica trails its leader (max minus min last_seq across the servers that
// hold it). Series come from the NATS chart's prometheus-nats-exporter
// (-prefix=nats), scraped through its PodMonitor.
func MeshConvergence() (dashboard.Dashboard, error) {
	return edgeBoard("Edge: mesh convergence", MeshConvergenceUID,
		"NATS cluster routes, leaf-node connections and JetStream replica lag (prometheus-nats-exporter).").
		WithPanel(seriesPanel("Cluster routes per server", "short", Teal,
			query(`sum by (server_id) (nats_varz_routes)`, "{{server_id}}"))).
		WithPanel(seriesPanel("Leaf-node connections per server", "short", Teal,
			query(`sum by (server_id) (nats_varz_leafnodes)`, "{{server_id}}"))).
		WithPanel(seriesPanel("JetStream replica lag (messages behind the leader)", "short", Orange,
			query(`max by (stream_name) (nats_stream_last_seq) - min by (stream_name) (nats_stream_last_seq)`, "{{stream_name}}"))).
		WithPanel(seriesPanel("Messages stored per stream", "short", Teal,
			query(`max by (stream_name) (nats_stream_total_messages)`, "{{stream_name}}"))).
		Build()
}

// BeaconUpdates: the publish rate on edge.beacon.updated, which is the
// BEACONS stream's alone (edge/streams.go gives each subject its own
// stream), so the stream's sequence rate is the subject's message rate;
// and the replays edge-sync detected, from the series the
// EdgeReplayDetected alert reads.
func BeaconUpdates() (dashboard.Dashboard, error) {
	return edgeBoard("Edge: beacon updates", BeaconUpdatesUID,
		"Rate of edge.beacon.updated (stream BEACONS), and replays detected by edge-sync (security.replay.detected).").
		WithPanel(seriesPanel("Beacon updates per second (edge.beacon.updated)", "ops", Teal,
			query(`max by (stream_name) (rate(nats_stream_last_seq{stream_name="BEACONS"}[5m]))`, "{{stream_name}}"))).
		WithPanel(seriesPanel("Replays detected (security.replay.detected, 1h)", "short", Pink,
			query(`sum by (reason) (increase(edge_replay_detected_total[1h]))`, "{{reason}}"))).
		Build()
}

// CertificateRotations: cert-manager's view (time to expiry, Ready) and the
// private CA's own issue successes and failures from CloudWatch
// (AWS/ACMPrivateCA, IssueCertificate).
func CertificateRotations(in EdgeDashboardInput) (dashboard.Dashboard, error) {
	return edgeBoard("Edge: certificate rotations", CertificateRotationUID,
		"cert-manager certificate expiry and readiness, and ACM Private CA IssueCertificate successes and failures.").
		WithPanel(seriesPanel("Time to expiry per certificate", "s", Teal,
			query(`min by (namespace, name) (certmanager_certificate_expiration_timestamp_seconds) - time()`, "{{namespace}}/{{name}}"))).
		WithPanel(seriesPanel("Certificates not Ready", "short", Pink,
			query(`sum by (namespace, name) (certmanager_certificate_ready_status{condition="False"})`, "{{namespace}}/{{name}}"))).
		WithPanel(cwPanel("Private CA issuance (IssueCertificate)", "short", Teal,
			cwQuery(in.Region, "AWS/ACMPrivateCA", "Success", "Sum", map[string]string{"Operation": "IssueCertificate"}, "success"),
			cwQuery(in.Region, "AWS/ACMPrivateCA", "Failure", "Sum", map[string]string{"Operation": "IssueCertificate"}, "failure"))).
		Build()
}

// CloudFrontRegion is where CloudFront publishes its metrics (AWS/CloudFront,
// dimension Region=Global), whatever the environment's region.
const CloudFrontRegion = "us-east-1"

// cdnErrorQuery is one CloudFront error-rate metric (percent of requests)
// of every distribution of the account, one series per distribution.
func cdnErrorQuery(metric, label string) *cloudwatch.MetricsQueryBuilder {
	return cwQuery(CloudFrontRegion, "AWS/CloudFront", metric, "Average",
		map[string]string{"DistributionId": "*", "Region": "Global"}, label).MatchExact(false)
}

// CDNErrors: the CDN's 4xx and 5xx error rates from CloudWatch (CloudFront
// metrics never reach Prometheus), per distribution; the 5xx panel marks
// the CDN5xxErrorRateHigh alert's threshold (CDNAlertRulesYAML).
func CDNErrors() (dashboard.Dashboard, error) {
	return edgeBoard("Edge: CDN errors", CDNErrorsUID,
		"CloudFront 4xx and 5xx error rates per distribution (CloudWatch AWS/CloudFront, us-east-1).").
		WithPanel(cwPanel("4xx error rate (% of requests)", "percent", Orange, cdnErrorQuery("4xxErrorRate", "4xx {{DistributionId}}")).
			Thresholds(thresholds(step(nil, Teal), step(at(CDN4xxErrorRateThreshold), Pink))).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine))).
		WithPanel(cwPanel("5xx error rate (% of requests)", "percent", Pink, cdnErrorQuery("5xxErrorRate", "5xx {{DistributionId}}")).
			Thresholds(thresholds(step(nil, Teal), step(at(CDN5xxErrorRateThreshold), Pink))).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine))).
		Build()
}

// EdgeDashboards returns the edge dashboards as JSON keyed by file name, for
// a ConfigMap the dashboard sidecar mounts.
func EdgeDashboards(in EdgeDashboardInput) (map[string]string, error) {
	builders := map[string]func() (dashboard.Dashboard, error){
		"edge-dtn-backlog.json":           func() (dashboard.Dashboard, error) { return DTNBacklog(in) },
		"edge-mesh-convergence.json":      MeshConvergence,
		"edge-beacon-updates.json":        BeaconUpdates,
		"edge-certificate-rotations.json": func() (dashboard.Dashboard, error) { return CertificateRotations(in) },
		"edge-cdn-errors.json":            CDNErrors,
	}
	out := map[string]string{}
	for name, build := range builders {
		d, err := build()
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", name, err)
		}
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return nil, err
		}
		out[name] = string(b)
	}
	return out, nil
}

// EdgeDatasourceYAML provisions the CloudWatch datasource. It uses the AWS
// SDK's default credential chain, which in the Grafana pod is the web
// identity of Grafana's service account (IRSA role irsa-grafana-cloudwatch,
// read-only), so no key is stored anywhere.
func EdgeDatasourceYAML(region string) (string, error) {
	doc := map[string]any{
		"apiVersion": 1,
		"datasources": []datasource{{
			Name: "CloudWatch", Type: "cloudwatch", UID: CloudWatchUID, Access: "proxy",
			JSONData: map[string]any{"authType": "default", "defaultRegion": region},
		}},
	}
	b, err := yaml.Marshal(doc)
	return string(b), err
}
