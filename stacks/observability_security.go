package stacks

import (
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	obs "github.com/spatialprops/spatialprops-infra/stacks/observability"
)

// NodeExporterNamespace holds only prometheus-node-exporter. It needs the
// host's network, PID namespace and root filesystem (hostNetwork, hostPID,
// hostPath), which even the baseline Pod Security level refuses; keeping
// it apart lets observability itself enforce restricted.
const NodeExporterNamespace = "node-exporter"

// Ports the observability policies open, from each chart's templates at
// its pinned version.
const (
	ReloaderPort         = 8080 // config-reloader sidecar of Prometheus and Alertmanager
	AlertmanagerMeshPort = 9094
	GrafanaPort          = 3000
	MemberlistPort       = 7946
	GRPCPort             = 9095 // Loki and Tempo internal gRPC
	KubeStateMetricsPort = 8080
	KubeStateMetricsSelf = 8081
	OperatorWebhookPort  = 10250
)

// Pods of the observability namespace, by the labels their charts set.
var (
	prometheusPods   = map[string]string{"app.kubernetes.io/name": "prometheus"}
	alertmanagerPods = map[string]string{"app.kubernetes.io/name": "alertmanager"}
	grafanaPods      = map[string]string{"app.kubernetes.io/name": "grafana"}
	lokiPods         = map[string]string{"app.kubernetes.io/name": "loki"}
	tempoPods        = map[string]string{"app.kubernetes.io/name": "tempo"}
	collectorPods    = map[string]string{"app.kubernetes.io/name": "opentelemetry-collector"}
	alloyPods        = map[string]string{"app.kubernetes.io/name": "alloy"}
	ksmPods          = map[string]string{"app.kubernetes.io/name": "kube-state-metrics"}
	operatorPods     = map[string]string{"app": obs.KubePrometheusRelease + "-operator"}
)

// OTLPSourceNamespaces may send telemetry to the collector: the services
// and the edge workloads. Everything else reaches the collector not at all.
var OTLPSourceNamespaces = []string{naming.NamespaceServices, naming.NamespaceEdge}

// observabilityPolicies are the named allows of the observability
// namespace. Write paths (Loki push, Tempo OTLP, Prometheus remote write)
// accept only the collectors; read paths only Grafana. Prometheus serves
// remote write and queries on one port, so its allow lists exactly the
// collectors (OpenTelemetry Collector, Tempo's metrics generator) and
// Grafana, and nothing else reaches 9090.
//
// Loki runs with auth_enabled: false (one tenant). That is acceptable only
// because of these policies: nothing but Alloy, the collector and Grafana
// can open a connection to it.
func observabilityPolicies() []sp.IngressAllow {
	local := func(labels map[string]string) sp.Peer { return sp.Peer{PodLabels: labels} }
	prometheus, grafana := local(prometheusPods), local(grafanaPods)
	collectors := []sp.Peer{local(collectorPods), local(tempoPods)}
	var otlpSources []sp.Peer
	for _, ns := range OTLPSourceNamespaces {
		otlpSources = append(otlpSources, sp.Peer{Namespace: ns})
	}
	return []sp.IngressAllow{
		{Name: "prometheus-queries", PodLabels: prometheusPods, Ports: []int{obs.PrometheusPort}, From: []sp.Peer{grafana}},
		{Name: "prometheus-remote-write", PodLabels: prometheusPods, Ports: []int{obs.PrometheusPort}, From: collectors},
		{Name: "prometheus-self-scrape", PodLabels: prometheusPods, Ports: []int{obs.PrometheusPort, ReloaderPort}, From: []sp.Peer{prometheus}},
		{Name: "alertmanager-alerts", PodLabels: alertmanagerPods, Ports: []int{obs.AlertmanagerPort}, From: []sp.Peer{prometheus, grafana}},
		{Name: "alertmanager-scrape", PodLabels: alertmanagerPods, Ports: []int{obs.AlertmanagerPort, ReloaderPort}, From: []sp.Peer{prometheus}},
		{Name: "alertmanager-mesh", PodLabels: alertmanagerPods, Ports: []int{AlertmanagerMeshPort}, From: []sp.Peer{local(alertmanagerPods)}},
		{Name: "grafana-scrape", PodLabels: grafanaPods, Ports: []int{GrafanaPort}, From: []sp.Peer{prometheus}},
		{Name: "loki-push", PodLabels: lokiPods, Ports: []int{obs.LokiPort}, From: []sp.Peer{local(alloyPods), local(collectorPods)}},
		{Name: "loki-queries", PodLabels: lokiPods, Ports: []int{obs.LokiPort}, From: []sp.Peer{grafana}},
		{Name: "loki-scrape", PodLabels: lokiPods, Ports: []int{obs.LokiPort}, From: []sp.Peer{prometheus}},
		{Name: "loki-ring", PodLabels: lokiPods, Ports: []int{GRPCPort, MemberlistPort}, From: []sp.Peer{local(lokiPods)}},
		{Name: "tempo-otlp", PodLabels: tempoPods, Ports: []int{obs.OTLPGRPCPort, obs.OTLPHTTPPort}, From: []sp.Peer{local(collectorPods)}},
		{Name: "tempo-queries", PodLabels: tempoPods, Ports: []int{obs.TempoQueryPort}, From: []sp.Peer{grafana}},
		{Name: "tempo-scrape", PodLabels: tempoPods, Ports: []int{obs.TempoQueryPort}, From: []sp.Peer{prometheus}},
		{Name: "tempo-ring", PodLabels: tempoPods, Ports: []int{GRPCPort, MemberlistPort}, From: []sp.Peer{local(tempoPods)}},
		{Name: "collector-otlp", PodLabels: collectorPods, Ports: []int{obs.OTLPGRPCPort, obs.OTLPHTTPPort}, From: otlpSources},
		{Name: "kube-state-metrics-scrape", PodLabels: ksmPods, Ports: []int{KubeStateMetricsPort, KubeStateMetricsSelf}, From: []sp.Peer{prometheus}},
		{
			Name: "operator-webhook", PodLabels: operatorPods, Ports: []int{OperatorWebhookPort},
			AnySourceReason: "the EKS API server calls the PrometheusRule admission webhook from control-plane ENIs " +
				"in the cluster subnets, which share addresses with pods; the port serves TLS only",
		},
	}
}

// newObservabilityNamespaces creates observability (restricted) and the
// node-exporter namespace (privileged, see NodeExporterNamespace).
func newObservabilityNamespaces(b *base) (*sp.Namespace, []cdktf.ITerraformDependable, error) {
	ns, err := sp.NewNamespace(b.stack, "namespace", &sp.NamespaceProps{Name: obs.Namespace, Policies: observabilityPolicies()})
	if err != nil {
		return nil, nil, err
	}
	nodeNS, err := sp.NewNamespace(b.stack, "node-exporter-namespace", &sp.NamespaceProps{
		Name:        NodeExporterNamespace,
		PodSecurity: sp.PodSecurityPrivileged,
		PodSecurityReason: "prometheus-node-exporter reads host metrics through hostNetwork, hostPID and a " +
			"read-only hostPath of /; baseline refuses all three. Nothing else runs here.",
		// hostNetwork pods are outside pod network policy; the default deny
		// still covers anything else scheduled here by mistake.
	})
	if err != nil {
		return nil, nil, err
	}
	return ns, []cdktf.ITerraformDependable{ns.Resource, nodeNS.Resource}, nil
}

// securityValues are merged over each release's values: non-root pods
// with the restricted securityContext where the chart leaves it open, and
// requests and limits everywhere the chart offers them. They live apart
// from the functional values so both can change independently.
// replicated selects Loki's and Tempo's replicated components.
func securityValues(release string, replicated bool) map[string]any {
	restrictedPod := func(uid int) map[string]any {
		return map[string]any{
			"runAsNonRoot": true, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
			"seccompProfile": map[string]any{"type": "RuntimeDefault"},
		}
	}
	// Writable root filesystem for processes that write scratch files
	// outside their volumes; everything else from restrictedContainer.
	writable := restrictedContainer()
	writable["readOnlyRootFilesystem"] = false
	switch release {
	case obs.KubePrometheusRelease:
		// Every component's securityContext already meets restricted at
		// this chart version; node-exporter moves to its own namespace.
		return map[string]any{
			"prometheusOperator": map[string]any{"resources": podResources("100m", "128Mi", "500m", "512Mi")},
			"prometheus": map[string]any{"prometheusSpec": map[string]any{
				"resources": podResources("500m", "2Gi", "2", "4Gi"),
			}},
			"alertmanager": map[string]any{"alertmanagerSpec": map[string]any{
				"resources": podResources("50m", "128Mi", "500m", "256Mi"),
			}},
			"grafana": map[string]any{
				"resources": podResources("100m", "256Mi", "1", "512Mi"),
				"sidecar":   map[string]any{"resources": podResources("20m", "64Mi", "200m", "128Mi")},
			},
			"kube-state-metrics": map[string]any{"resources": podResources("50m", "128Mi", "500m", "256Mi")},
			"prometheus-node-exporter": map[string]any{
				"namespaceOverride": NodeExporterNamespace,
				"resources":         podResources("50m", "64Mi", "250m", "128Mi"),
			},
		}
	case obs.LokiRelease:
		// The chart's own pod and container securityContext meet restricted.
		if !replicated {
			return map[string]any{"singleBinary": map[string]any{"resources": podResources("250m", "512Mi", "1", "1Gi")}}
		}
		return map[string]any{
			"write":   map[string]any{"resources": podResources("200m", "512Mi", "1", "1Gi")},
			"read":    map[string]any{"resources": podResources("100m", "256Mi", "1", "1Gi")},
			"backend": map[string]any{"resources": podResources("100m", "256Mi", "500m", "512Mi")},
		}
	case obs.AlloyRelease:
		// The image defines user alloy (473) but starts as root; our
		// config tails logs through the API, so root is never needed.
		return map[string]any{
			"global": map[string]any{"podSecurityContext": restrictedPod(473)},
			"alloy": map[string]any{
				"securityContext": writable,
				"resources":       podResources("50m", "128Mi", "500m", "512Mi"),
			},
		}
	case obs.TempoRelease:
		if replicated {
			// tempo-distributed: one pod and container securityContext for
			// every component; scratch goes to the chart's volumes.
			return map[string]any{
				"tempo": map[string]any{
					"podSecurityContext": restrictedPod(1000),
					"securityContext":    restrictedContainer(),
				},
				"ingester":         map[string]any{"resources": podResources("200m", "512Mi", "1", "2Gi")},
				"distributor":      map[string]any{"resources": podResources("100m", "128Mi", "500m", "512Mi")},
				"querier":          map[string]any{"resources": podResources("100m", "256Mi", "1", "1Gi")},
				"queryFrontend":    map[string]any{"resources": podResources("50m", "128Mi", "500m", "512Mi")},
				"compactor":        map[string]any{"resources": podResources("100m", "256Mi", "1", "1Gi")},
				"metricsGenerator": map[string]any{"resources": podResources("100m", "256Mi", "500m", "1Gi")},
			}
		}
		return map[string]any{
			"securityContext": restrictedPod(10001),
			"tempo": map[string]any{
				"securityContext": writable,
				"resources":       podResources("200m", "512Mi", "1", "2Gi"),
			},
		}
	case obs.CollectorRelease:
		return map[string]any{
			"podSecurityContext": restrictedPod(10001),
			"securityContext":    restrictedContainer(),
			"resources":          podResources("100m", "256Mi", "1", "512Mi"),
		}
	}
	return nil
}

// mergeValues deep-merges overlay into base (overlay wins on leaves) and
// returns base. Maps merge like Helm merges values with chart defaults.
func mergeValues(base, overlay map[string]any) map[string]any {
	if base == nil {
		base = map[string]any{}
	}
	for k, v := range overlay {
		if om, ok := v.(map[string]any); ok {
			if bm, ok := base[k].(map[string]any); ok {
				base[k] = mergeValues(bm, om)
				continue
			}
		}
		base[k] = v
	}
	return base
}
