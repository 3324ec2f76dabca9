package observability

//lint:file-ignore SA1019 Grafana's file provisioning (the dashboard sidecar) loads classic dashboard JSON; the v2 schema the SDK now prefers needs Grafana's new dashboard APIs, which provisioning from ConfigMaps does not use.

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// OverviewUID is the stable uid of the platform overview dashboard, so
// links and bookmarks survive re-provisioning.
const OverviewUID = "spatial-packs-platform"

// promDS points every query at the provisioned Prometheus datasource.
func promDS() common.DataSourceRef {
	t, uid := "prometheus", PrometheusUID
	return common.DataSourceRef{Type: &t, Uid: &uid}
}

func query(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(promDS()).Expr(expr).LegendFormat(legend)
}

func fixed(color string) *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdFixed).FixedColor(color)
}

func thresholds(steps ...dashboard.Threshold) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
}

func step(value *float64, color string) dashboard.Threshold {
	return dashboard.Threshold{Value: value, Color: color}
}

func at(v float64) *float64 { return &v }

// statPanel is a single number drawn in a brand colour.
func statPanel(title, unit, color string, q *prometheus.DataqueryBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Title(title).Unit(unit).Height(5).Span(6).Datasource(promDS()).
		ColorMode(common.BigValueColorModeValue).GraphMode(common.BigValueGraphModeArea).
		ColorScheme(fixed(color)).WithTarget(q)
}

// seriesPanel is a time series drawn in a brand colour.
func seriesPanel(title, unit, color string, qs ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Unit(unit).Height(8).Span(12).Datasource(promDS()).
		ColorScheme(fixed(color)).LineWidth(2).FillOpacity(15)
	for _, q := range qs {
		p = p.WithTarget(q)
	}
	return p
}

// Overview builds the "Spatial Packs platform" dashboard: capacity and
// autoscaling, restarts, controller health. Colours are the brand palette,
// which is only legible on the dark theme (see brand.go).
func Overview() (dashboard.Dashboard, error) {
	controllers := `deployment=~"metrics-server|cluster-autoscaler.*|aws-load-balancer-controller"`
	return dashboard.NewDashboardBuilder("Spatial Packs platform").
		Uid(OverviewUID).
		Description("Cluster capacity and autoscaling, pod restarts and platform controller health.").
		Tags([]string{"spatial-properties", "platform"}).
		Refresh("1m").
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithRow(dashboard.NewRowBuilder("Capacity and autoscaling")).
		WithPanel(statPanel("Nodes Ready", "short", Teal,
			query(`sum(kube_node_status_condition{condition="Ready",status="true"})`, "ready"))).
		WithPanel(statPanel("Unschedulable pods", "short", Orange,
			query(`sum(kube_pod_status_unschedulable) or vector(0)`, "pending")).
			Thresholds(thresholds(step(nil, Teal), step(at(1), Orange)))).
		WithPanel(statPanel("CPU requested / allocatable", "percentunit", Teal,
			query(`sum(kube_pod_container_resource_requests{resource="cpu"}) / sum(kube_node_status_allocatable{resource="cpu"})`, "cpu"))).
		WithPanel(statPanel("Memory requested / allocatable", "percentunit", Teal,
			query(`sum(kube_pod_container_resource_requests{resource="memory"}) / sum(kube_node_status_allocatable{resource="memory"})`, "memory"))).
		WithPanel(seriesPanel("Nodes over time (autoscaler decisions)", "short", Teal,
			query(`sum(kube_node_info)`, "nodes"),
			query(`sum(cluster_autoscaler_nodes_count{state="ready"})`, "autoscaler: ready"))).
		WithPanel(seriesPanel("Autoscaler scale-ups and errors", "short", Pink,
			query(`sum(increase(cluster_autoscaler_scaled_up_nodes_total[10m]))`, "scaled up"),
			query(`sum by (type) (increase(cluster_autoscaler_errors_total[10m]))`, "errors: {{type}}"))).
		WithRow(dashboard.NewRowBuilder("Workloads")).
		WithPanel(seriesPanel("Container restarts (1h) by namespace", "short", Pink,
			query(`sum by (namespace) (increase(kube_pod_container_status_restarts_total[1h]))`, "{{namespace}}"))).
		WithPanel(seriesPanel("Pods crash-looping", "short", Orange,
			query(`sum by (namespace) (kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"})`, "{{namespace}}"))).
		WithRow(dashboard.NewRowBuilder("Platform controllers")).
		WithPanel(seriesPanel("Available replicas", "short", Teal,
			query(`sum by (deployment) (kube_deployment_status_replicas_available{namespace=~"kube-system|aws-lbc",`+controllers+`})`, "{{deployment}}"))).
		WithPanel(seriesPanel("Observability components ready", "short", Teal,
			query(`sum by (statefulset) (kube_statefulset_status_replicas_ready{namespace="observability"})`, "{{statefulset}}"),
			query(`sum by (deployment) (kube_deployment_status_replicas_available{namespace="observability"})`, "{{deployment}}"))).
		Build()
}

// Dashboards returns every dashboard as JSON, keyed by file name, ready to
// be mounted by Grafana's dashboard sidecar.
func Dashboards() (map[string]string, error) {
	builders := map[string]func() (dashboard.Dashboard, error){"spatial-packs-platform.json": Overview}
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
