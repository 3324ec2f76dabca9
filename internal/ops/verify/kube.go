package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
	obs "github.com/spatialprops/spatialprops-infra/stacks/observability"
)

// PackService is the walking-skeleton service E1.4/E1.5 are proven with.
const PackService = "pack-service"

// NATS monitoring: the chart's Service exposes it on 8222.
const natsMonitorPort = 8222

// kubeChecks read the cluster through client-go and in-cluster HTTP APIs
// through the API server's service proxy.
type kubeChecks struct {
	a *awsChecks
}

var errNoCluster = notRunf("no cluster access: run aws eks update-kubeconfig for the env's cluster (or pass --kubeconfig)")

func (k *kubeChecks) reachable(ctx context.Context) (string, error) {
	if k.a.d.Kube == nil {
		return "", errNoCluster
	}
	v, err := serverVersion(ctx, *k.a.d)
	if err != nil {
		return "", notRunf("API server: could not look: %v", err)
	}
	return "API server answers, " + v, nil
}

// kubeErr is the outcome of a failed Kubernetes API call.
func kubeErr(err error, what string) error {
	if isNotFound(err) {
		return failf("%s: %v", what, err)
	}
	return notRunf("%s: could not look: %v", what, err)
}

func (k *kubeChecks) nodesReady(ctx context.Context) (string, error) {
	if k.a.d.Kube == nil {
		return "", errNoCluster
	}
	nodes, err := k.a.d.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", kubeErr(err, "list nodes")
	}
	ready, notReady := 0, []string{}
	for _, n := range nodes.Items {
		ok := slices.ContainsFunc(n.Status.Conditions, func(c corev1.NodeCondition) bool {
			return c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
		})
		if ok {
			ready++
		} else {
			notReady = append(notReady, n.Name)
		}
	}
	want := k.a.cfg.Cluster.NodeGroup.MinSize
	if ready < want {
		return "", failf("%d nodes Ready, want at least %d (node group minimum); not ready: %v", ready, want, notReady)
	}
	return fmt.Sprintf("%d nodes Ready (minimum %d)", ready, want), nil
}

// releaseReady: every Deployment of a Helm release has all replicas ready
// on the current generation.
func (k *kubeChecks) releaseReady(ns, release string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		if k.a.d.Kube == nil {
			return "", errNoCluster
		}
		list, err := k.a.d.Kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release})
		if err != nil {
			return "", kubeErr(err, "list deployments in "+ns)
		}
		if len(list.Items) == 0 {
			return "", failf("release %s has no Deployment in namespace %s", release, ns)
		}
		var parts []string
		for _, d := range list.Items {
			if msg := rolloutProblem(&d); msg != "" {
				return "", failf("%s/%s: %s", ns, d.Name, msg)
			}
			parts = append(parts, fmt.Sprintf("%s %d/%d ready", d.Name, d.Status.ReadyReplicas, replicas(&d)))
		}
		return strings.Join(parts, ", "), nil
	}
}

func replicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// rolloutProblem is why a Deployment has not finished rolling out, or "".
func rolloutProblem(d *appsv1.Deployment) string {
	want := replicas(d)
	switch {
	case d.Status.ObservedGeneration < d.Generation:
		return "the controller has not seen the latest spec yet"
	case want == 0:
		return "scaled to 0"
	case d.Status.UpdatedReplicas < want:
		return fmt.Sprintf("%d of %d replicas updated (rollout in progress or stuck)", d.Status.UpdatedReplicas, want)
	case d.Status.ReadyReplicas < want:
		return fmt.Sprintf("%d of %d replicas ready", d.Status.ReadyReplicas, want)
	}
	return ""
}

// getJSON reads an in-cluster API through the service proxy.
func (k *kubeChecks) getJSON(ctx context.Context, ns, svc string, port int, path string, q url.Values, into any) error {
	if k.a.d.Services == nil {
		return errNoCluster
	}
	body, err := k.a.d.Services.Get(ctx, ns, svc, port, path, q)
	if err != nil {
		return err
	}
	if into == nil {
		return nil
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("%s/%s%s answered, but not JSON: %v", ns, svc, path, err)
	}
	return nil
}

type promTargets struct {
	Data struct {
		ActiveTargets []struct {
			ScrapePool string            `json:"scrapePool"`
			Labels     map[string]string `json:"labels"`
			Health     string            `json:"health"`
			LastError  string            `json:"lastError"`
		} `json:"activeTargets"`
	} `json:"data"`
}

func (k *kubeChecks) targets(ctx context.Context) (*promTargets, error) {
	var t promTargets
	err := k.getJSON(ctx, obs.Namespace, obs.KubePrometheusRelease+"-prometheus", obs.PrometheusPort, "/api/v1/targets", url.Values{"state": {"active"}}, &t)
	return &t, err
}

func (k *kubeChecks) prometheusTargets(ctx context.Context) (string, error) {
	t, err := k.targets(ctx)
	if err != nil {
		return "", kubeErr(err, "Prometheus")
	}
	var down []string
	for _, tg := range t.Data.ActiveTargets {
		if tg.Health != "up" {
			down = append(down, fmt.Sprintf("%s %s (%s)", tg.ScrapePool, tg.Labels["instance"], tg.LastError))
		}
	}
	n := len(t.Data.ActiveTargets)
	if n == 0 {
		return "", failf("Prometheus has no active targets")
	}
	if len(down) > 0 {
		return "", failf("%d of %d targets down: %s", len(down), n, strings.Join(down[:min(len(down), 5)], "; "))
	}
	return fmt.Sprintf("%d targets up", n), nil
}

func (k *kubeChecks) serviceTarget(ctx context.Context) (string, error) {
	t, err := k.targets(ctx)
	if err != nil {
		return "", kubeErr(err, "Prometheus")
	}
	up := 0
	for _, tg := range t.Data.ActiveTargets {
		if tg.Labels["namespace"] == naming.NamespaceServices && (tg.Labels["service"] == PackService || tg.Labels["job"] == PackService) {
			if tg.Health != "up" {
				return "", failf("%s target %s is %s: %s", PackService, tg.Labels["instance"], tg.Health, tg.LastError)
			}
			up++
		}
	}
	if up == 0 {
		return "", failf("Prometheus has no %s target: its ServiceMonitor is missing or not selected", PackService)
	}
	return fmt.Sprintf("%d %s targets up", up, PackService), nil
}

// endpoints are the Loki and Tempo Services of this env's deployment.
func (k *kubeChecks) endpoints() obs.Endpoints { return obs.EndpointsFor(obs.Replicated(k.a.cfg)) }

func (k *kubeChecks) lokiLogs(ctx context.Context) (string, error) {
	now := k.a.d.Now()
	q := url.Values{
		"query": {fmt.Sprintf(`{namespace=%q, app=%q}`, naming.NamespaceServices, PackService)},
		"limit": {"1"},
		"start": {strconv.FormatInt(now.Add(-time.Hour).UnixNano(), 10)},
		"end":   {strconv.FormatInt(now.UnixNano(), 10)},
	}
	var r struct {
		Data struct {
			Result []struct {
				Values [][]string `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	loki := k.endpoints().LokiQuery
	if err := k.getJSON(ctx, obs.Namespace, loki.Name, loki.Port, "/loki/api/v1/query_range", q, &r); err != nil {
		return "", kubeErr(err, "Loki")
	}
	for _, s := range r.Data.Result {
		if len(s.Values) > 0 {
			return fmt.Sprintf("Loki has %s logs from the last hour", PackService), nil
		}
	}
	return "", failf("Loki returned no %s log line in the last hour (query %s)", PackService, q.Get("query"))
}

func (k *kubeChecks) tempoTrace(ctx context.Context) (string, error) {
	now := k.a.d.Now()
	q := url.Values{
		"tags":  {"service.name=" + PackService},
		"limit": {"1"},
		"start": {strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)},
		"end":   {strconv.FormatInt(now.Unix(), 10)},
	}
	var r struct {
		Traces []struct {
			TraceID string `json:"traceID"`
		} `json:"traces"`
	}
	tempo := k.endpoints().TempoQuery
	if err := k.getJSON(ctx, obs.Namespace, tempo.Name, tempo.Port, "/api/search", q, &r); err != nil {
		return "", kubeErr(err, "Tempo")
	}
	if len(r.Traces) == 0 {
		return "", failf("Tempo found no %s trace in the last hour", PackService)
	}
	id := r.Traces[0].TraceID
	if err := k.getJSON(ctx, obs.Namespace, tempo.Name, tempo.Port, "/api/traces/"+id, nil, nil); err != nil {
		return "", kubeErr(err, "Tempo listed trace "+id+" but returning it")
	}
	return "trace " + id + " from " + PackService, nil
}

// grafanaDatasources: the provisioning ConfigMap carries the sidecar's
// label in Grafana's namespace, Grafana answers, and every datasource's
// backend is ready. Grafana's own datasource health API needs an admin
// login that the API server's proxy does not pass on, so the backends are
// asked directly, at the URLs the datasources use.
func (k *kubeChecks) grafanaDatasources(ctx context.Context) (string, error) {
	if k.a.d.Kube == nil {
		return "", errNoCluster
	}
	cm, err := k.a.d.Kube.CoreV1().ConfigMaps(obs.Namespace).Get(ctx, obs.DatasourcesConfigMap, metav1.GetOptions{})
	if err != nil {
		return "", kubeErr(err, "datasource ConfigMap "+obs.Namespace+"/"+obs.DatasourcesConfigMap)
	}
	if cm.Labels[obs.DatasourceLabel] != obs.SidecarValue {
		return "", failf("ConfigMap %s lacks label %s=%q, so Grafana never loads it", obs.DatasourcesConfigMap, obs.DatasourceLabel, obs.SidecarValue)
	}
	var health struct {
		Database string `json:"database"`
	}
	if err := k.getJSON(ctx, obs.Namespace, obs.GrafanaService, obs.GrafanaPort, "/api/health", nil, &health); err != nil {
		return "", kubeErr(err, "Grafana /api/health")
	}
	if health.Database != "ok" {
		return "", failf("Grafana /api/health: database %q", health.Database)
	}
	backends := []struct {
		uid, svc string
		port     int
		path     string
	}{
		{obs.PrometheusUID, obs.KubePrometheusRelease + "-prometheus", obs.PrometheusPort, "/-/ready"},
		{obs.AlertmanagerUID, obs.KubePrometheusRelease + "-alertmanager", obs.AlertmanagerPort, "/-/ready"},
		{obs.LokiUID, k.endpoints().LokiQuery.Name, k.endpoints().LokiQuery.Port, "/ready"},
		{obs.TempoUID, k.endpoints().TempoQuery.Name, k.endpoints().TempoQuery.Port, "/ready"},
	}
	var bad, unread, ok []string
	for _, b := range backends {
		_, err := k.a.d.Services.Get(ctx, obs.Namespace, b.svc, b.port, b.path, nil)
		switch {
		case err == nil:
			ok = append(ok, b.uid)
		case isNotFound(err):
			bad = append(bad, b.uid+": "+err.Error())
		default:
			unread = append(unread, b.uid+": "+err.Error())
		}
	}
	if len(bad) > 0 {
		return "", failf("datasources not ready: %s", strings.Join(append(bad, unread...), "; "))
	}
	if len(unread) > 0 {
		return "", notRunf("datasource backends: could not look: %s", strings.Join(unread, "; "))
	}
	return "Grafana ok; datasources " + strings.Join(ok, ", ") + " ready", nil
}

// natsStreams: the Edge Sync streams exist with the 50 KB message cap,
// read from the NATS monitoring endpoint (/jsz).
func (k *kubeChecks) natsStreams(ctx context.Context) (string, error) {
	var jsz struct {
		Accounts []struct {
			Streams []struct {
				Name   string `json:"name"`
				Config struct {
					MaxMsgSize int `json:"max_msg_size"`
				} `json:"config"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	q := url.Values{"accounts": {"true"}, "streams": {"true"}, "config": {"true"}}
	if err := k.getJSON(ctx, naming.NamespaceNATS, naming.ReleaseNATS, natsMonitorPort, "/jsz", q, &jsz); err != nil {
		return "", kubeErr(err, "NATS monitoring")
	}
	found := map[string]int{}
	for _, acc := range jsz.Accounts {
		for _, s := range acc.Streams {
			found[s.Name] = s.Config.MaxMsgSize
		}
	}
	streams, err := edge.Streams(k.a.cfg.Edge.EnvelopeMaxBytes, 1)
	if err != nil {
		return "", err
	}
	var names []string
	for _, s := range streams {
		size, ok := found[s.Name]
		if !ok {
			return "", failf("stream %s is missing (the edge-streams Job has not run)", s.Name)
		}
		if size <= 0 || size > edge.MaxEnvelopeBytes {
			return "", failf("stream %s max_msg_size is %d, want 1..%d (50 KB envelope)", s.Name, size, edge.MaxEnvelopeBytes)
		}
		names = append(names, fmt.Sprintf("%s (max %d B)", s.Name, size))
	}
	return strings.Join(names, ", "), nil
}
