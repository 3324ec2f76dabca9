package verify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/ops/kubeapi"
)

func devConfig(t *testing.T) *envs.Config {
	cfg, err := envs.Load("dev", envs.Overrides{Env: "dev"})
	require.NoError(t, err)
	return cfg
}

func byID(t *testing.T, cfg *envs.Config, d Deps, ids ...string) map[string]Result {
	var picked []Check
	for _, c := range Checks(cfg, d) {
		for _, id := range ids {
			if c.ID == id {
				picked = append(picked, c)
			}
		}
	}
	require.Len(t, picked, len(ids))
	out := map[string]Result{}
	for _, r := range Run(context.Background(), "dev", picked).Results {
		out[r.ID] = r
	}
	return out
}

// cdn serves one 4 KiB asset; honour switches Range and CORS support.
func cdn(honourRange, honourCORS bool) *httptest.Server {
	body := strings.Repeat("x", 4096)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if honourCORS && r.Header.Get("Origin") != "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		if honourRange && r.Header.Get("Range") == "bytes=0-1023" {
			w.Header().Set("Content-Range", "bytes 0-1023/4096")
			w.WriteHeader(http.StatusPartialContent)
			_, _ = w.Write([]byte(body[:1024]))
			return
		}
		_, _ = w.Write([]byte(body))
	}))
}

// GIVEN a CDN that honours Range and CORS THEN both checks pass; GIVEN one
// that ignores them (200 full body, no CORS header) THEN both fail, naming
// the status and the missing header.
func TestHTTPChecksRangeAndCORS(t *testing.T) {
	cfg := devConfig(t)
	good, bad := cdn(true, true), cdn(false, false)
	defer good.Close()
	defer bad.Close()

	res := byID(t, cfg, Deps{HTTP: good.Client(), CDNBaseURL: good.URL, Asset: "tiles/world.pmtiles"}, "e1.3/range", "e1.3/cors")
	assert.True(t, res["e1.3/range"].OK, res["e1.3/range"].Detail)
	assert.Contains(t, res["e1.3/range"].Detail, "bytes 0-1023/4096")
	assert.True(t, res["e1.3/cors"].OK, res["e1.3/cors"].Detail)

	res = byID(t, cfg, Deps{HTTP: bad.Client(), CDNBaseURL: bad.URL, Asset: "tiles/world.pmtiles"}, "e1.3/range", "e1.3/cors")
	assert.False(t, res["e1.3/range"].OK)
	assert.Contains(t, res["e1.3/range"].Detail, "answered 200 to a Range request, want 206")
	assert.Contains(t, res["e1.3/range"].Fix, "regional endpoint", "the guide's CDN 403 pitfall")
	assert.False(t, res["e1.3/cors"].OK)
	assert.Contains(t, res["e1.3/cors"].Detail, `Access-Control-Allow-Origin ""`)
}

func deployment(ns, name, release string, want, ready int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app.kubernetes.io/instance": release}, Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: &want},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 2, UpdatedReplicas: want, ReadyReplicas: ready},
	}
}

func node(name string, ready bool) *corev1.Node {
	s := corev1.ConditionFalse
	if ready {
		s = corev1.ConditionTrue
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: s}}}}
}

// GIVEN a fake cluster WHEN nodes or controllers are not ready THEN the
// checks fail with counts; when they are, they pass.
func TestKubeChecksNodesAndControllers(t *testing.T) {
	cfg := devConfig(t)
	good := fake.NewClientset(
		node("a", true), node("b", true), node("c", false),
		deployment("kube-system", "metrics-server", "metrics-server", 1, 1),
		deployment("kube-system", "cluster-autoscaler-aws-cluster-autoscaler", "cluster-autoscaler", 1, 1),
		deployment("aws-lbc", "aws-load-balancer-controller", "aws-load-balancer-controller", 2, 2),
	)
	ids := []string{"e1.1/nodes-ready", "e1.1/metrics-server", "e1.1/cluster-autoscaler", "e1.1/lb-controller"}
	for id, r := range byID(t, cfg, Deps{Kube: good}, ids...) {
		assert.True(t, r.OK, "%s: %s", id, r.Detail)
	}
	bad := fake.NewClientset(
		node("a", true), node("b", false),
		deployment("kube-system", "metrics-server", "metrics-server", 1, 1),
		deployment("aws-lbc", "aws-load-balancer-controller", "aws-load-balancer-controller", 2, 1),
	)
	res := byID(t, cfg, Deps{Kube: bad}, ids...)
	assert.Contains(t, res["e1.1/nodes-ready"].Detail, "1 nodes Ready, want at least 2")
	assert.Contains(t, res["e1.1/cluster-autoscaler"].Detail, "release cluster-autoscaler has no Deployment in namespace kube-system")
	assert.Contains(t, res["e1.1/cluster-autoscaler"].Fix, "metrics-server", "the guide's autoscaler pitfall")
	assert.Contains(t, res["e1.1/lb-controller"].Detail, "1 of 2 replicas ready")
	assert.True(t, res["e1.1/metrics-server"].OK)

	res = byID(t, cfg, Deps{}, "e1.1/nodes-ready")
	assert.Contains(t, res["e1.1/nodes-ready"].Detail, "no cluster access", "no kubeconfig is said, never silently skipped")
	assert.Equal(t, NotRun, res["e1.1/nodes-ready"].Status, "without access nothing was observed: not run, not failed")
	assert.Empty(t, res["e1.1/nodes-ready"].Fix, "no fix guesses a cause")
}

// apiserver stands in for the Kubernetes API server's service proxy: it
// answers only at /api/v1/namespaces/<ns>/services/<svc>:<port>/proxy/<path>,
// so the test also proves the proxy URLs spctl builds.
func apiserver(t *testing.T, routes map[string]any) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := routes[r.URL.Path]
		if !ok {
			http.Error(w, "no route "+r.URL.Path, http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(v)
	}))
}

const proxy = "/api/v1/namespaces/"

func healthyObservability(streamMax int) map[string]any {
	target := func(job, ns, health string) map[string]any {
		return map[string]any{"scrapePool": "serviceMonitor/" + ns + "/" + job + "/0", "health": health, "lastError": "",
			"labels": map[string]string{"job": job, "namespace": ns, "service": job, "instance": "10.0.1.5:8080"}}
	}
	return map[string]any{
		proxy + "observability/services/kube-prometheus-stack-prometheus:9090/proxy/api/v1/targets": map[string]any{"data": map[string]any{
			"activeTargets": []any{target("pack-service", "spatial-properties", "up"), target("node-exporter", "observability", "up")}}},
		proxy + "observability/services/loki:3100/proxy/loki/api/v1/query_range": map[string]any{"data": map[string]any{
			"result": []any{map[string]any{"values": [][]string{{"1", `{"msg":"ready"}`}}}}}},
		proxy + "observability/services/tempo:3200/proxy/api/search":                           map[string]any{"traces": []any{map[string]any{"traceID": "abc123"}}},
		proxy + "observability/services/tempo:3200/proxy/api/traces/abc123":                    map[string]any{"batches": []any{}},
		proxy + "observability/services/kube-prometheus-stack-grafana:80/proxy/api/health":     map[string]any{"database": "ok"},
		proxy + "observability/services/kube-prometheus-stack-prometheus:9090/proxy/-/ready":   "ok",
		proxy + "observability/services/kube-prometheus-stack-alertmanager:9093/proxy/-/ready": "ok",
		proxy + "observability/services/loki:3100/proxy/ready":                                 "ok",
		proxy + "observability/services/tempo:3200/proxy/ready":                                "ok",
		proxy + "edge-nats/services/nats:8222/proxy/jsz": map[string]any{"account_details": []any{map[string]any{"stream_detail": []any{
			map[string]any{"name": "EDGE", "config": map[string]any{"max_msg_size": streamMax}},
			map[string]any{"name": "BEACONS", "config": map[string]any{"max_msg_size": 51200}},
			map[string]any{"name": "DEVICES", "config": map[string]any{"max_msg_size": 51200}},
			map[string]any{"name": "SECURITY", "config": map[string]any{"max_msg_size": 51200}}}}}},
	}
}

func datasourceCM(label string) runtime.Object {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "observability", Name: "spatialprops-datasources", Labels: map[string]string{label: "1"}}}
}

// GIVEN an observability stack answering through the service proxy THEN
// the E1.5 and NATS checks pass; GIVEN a target down, no logs, no trace,
// a mislabelled datasource ConfigMap and a 1 MB stream THEN each fails.
func TestObservabilityAndNATSChecks(t *testing.T) {
	cfg := devConfig(t)
	ids := []string{"e1.5/prometheus-targets", "e1.5/service-metrics", "e1.5/loki-logs", "e1.5/tempo-trace", "e1.5/grafana-datasources", "edge/nats-streams"}
	deps := func(routes map[string]any, cm runtime.Object) Deps {
		srv := apiserver(t, routes)
		t.Cleanup(srv.Close)
		p, err := kubeapi.NewProxy(&rest.Config{Host: srv.URL})
		require.NoError(t, err)
		return Deps{Kube: fake.NewClientset(cm), Services: p, Now: time.Now}
	}
	for id, r := range byID(t, cfg, deps(healthyObservability(51200), datasourceCM("grafana_datasource")), ids...) {
		assert.True(t, r.OK, "%s: %s", id, r.Detail)
	}

	broken := healthyObservability(1 << 20)
	broken[proxy+"observability/services/kube-prometheus-stack-prometheus:9090/proxy/api/v1/targets"] = map[string]any{"data": map[string]any{"activeTargets": []any{
		map[string]any{"scrapePool": "serviceMonitor/spatial-properties/pack-service/0", "health": "down", "lastError": "connection refused",
			"labels": map[string]string{"namespace": "spatial-properties", "service": "pack-service", "instance": "10.0.1.5:8080"}}}}}
	broken[proxy+"observability/services/loki:3100/proxy/loki/api/v1/query_range"] = map[string]any{"data": map[string]any{"result": []any{}}}
	broken[proxy+"observability/services/tempo:3200/proxy/api/search"] = map[string]any{"traces": []any{}}
	res := byID(t, cfg, deps(broken, datasourceCM("grafana_dashboard")), ids...)
	assert.Contains(t, res["e1.5/prometheus-targets"].Detail, "1 of 1 targets down")
	assert.Contains(t, res["e1.5/service-metrics"].Detail, "connection refused")
	assert.Contains(t, res["e1.5/loki-logs"].Detail, "no pack-service log line")
	assert.Contains(t, res["e1.5/tempo-trace"].Detail, "no pack-service trace")
	assert.Contains(t, res["e1.5/grafana-datasources"].Detail, "lacks label grafana_datasource")
	assert.Contains(t, res["e1.5/grafana-datasources"].Fix, `grafana_datasource="1"`, "the guide's empty-dashboards pitfall")
	assert.Contains(t, res["edge/nats-streams"].Detail, "max_msg_size is 1048576")
	for id, r := range res {
		assert.False(t, r.OK, id)
	}
}

// GIVEN a fake cluster WHEN cert-manager runs but the Private CA issuer
// has no ready replica THEN the issuer check fails and names its IRSA role
// (the usual cause), while cert-manager's passes.
func TestKubeChecksCertManagerAndIssuer(t *testing.T) {
	cfg := devConfig(t)
	ids := []string{"identity/cert-manager", "identity/pca-issuer"}
	good := fake.NewClientset(
		deployment("cert-manager", "cert-manager", "cert-manager", 2, 2),
		deployment("cert-manager", "cert-manager-webhook", "cert-manager", 2, 2),
		deployment("cert-manager", "aws-privateca-issuer", "aws-privateca-issuer", 2, 2),
	)
	for id, r := range byID(t, cfg, Deps{Kube: good}, ids...) {
		assert.True(t, r.OK, "%s: %s", id, r.Detail)
	}
	bad := fake.NewClientset(
		deployment("cert-manager", "cert-manager", "cert-manager", 2, 2),
		deployment("cert-manager", "aws-privateca-issuer", "aws-privateca-issuer", 2, 0),
	)
	res := byID(t, cfg, Deps{Kube: bad}, ids...)
	assert.True(t, res["identity/cert-manager"].OK)
	assert.False(t, res["identity/pca-issuer"].OK)
	assert.Contains(t, res["identity/pca-issuer"].Detail, "0 of 2 replicas ready")
	assert.Contains(t, res["identity/pca-issuer"].Fix, "spatialprops-dev-irsa-pca-issuer")
}

// packsCDN is a CloudFront stand-in over objects (bucket keys): the
// distribution's origin path is origin ("/published" as the cdn stack
// builds it, "" for one serving the whole bucket); with signed, every
// path but /open/* needs a signature (the trusted key group), and an
// unsigned request gets CloudFront's 403 MissingKey before the origin.
func packsCDN(objects map[string]string, origin string, signed bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if signed && !strings.HasPrefix(r.URL.Path, "/open/") && r.URL.Query().Get("Signature") == "" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>MissingKey</Code><Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>"))
			return
		}
		body, ok := objects[strings.TrimPrefix(origin+r.URL.Path, "/")]
		if !ok {
			w.WriteHeader(http.StatusForbidden) // S3 through OAC: AccessDenied for an absent key
			_, _ = w.Write([]byte("<Error><Code>AccessDenied</Code></Error>"))
			return
		}
		_, _ = w.Write([]byte(body))
	}))
}

// GIVEN the packs bucket with a staging upload, an open and a licensed
// pack WHEN the CDN is built as the cdn stack builds it THEN staging/ is
// refused and an unsigned licensed request gets 403 MissingKey; GIVEN a
// distribution serving the whole bucket THEN the staging upload is served
// and the check fails; GIVEN one without the key group on licensed/ THEN
// the licensed pack is served unsigned and that check fails (an S3 403 for
// an absent key does not count as a signature refusal).
func TestHTTPChecksStagingHiddenAndLicensedSigned(t *testing.T) {
	ctx := context.Background()
	cfg := devConfig(t)
	c := newClients(t)
	bucket := aws.String(naming.New(cfg.Org, cfg.Env, cfg.Region).DataBucket("packs"))
	must(c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket,
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(cfg.Region)}}))
	objects := map[string]string{
		"staging/acme/harbour/1/tiles.pmtiles":     "unattested",
		"published/open/city/1/tiles.pmtiles":      "open",
		"published/licensed/venue/1/tiles.pmtiles": "licensed",
	}
	for k, v := range objects {
		must(c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(k), Body: strings.NewReader(v)}))
	}
	run := func(srv *httptest.Server) map[string]Result {
		d := c.deps()
		d.HTTP, d.CDNBaseURL = srv.Client(), srv.URL
		return byID(t, cfg, d, "e1.3/staging-hidden", "e1.3/licensed-signed")
	}

	good := packsCDN(objects, "/published", true)
	defer good.Close()
	res := run(good)
	assert.True(t, res["e1.3/staging-hidden"].OK, res["e1.3/staging-hidden"].Detail)
	assert.Contains(t, res["e1.3/staging-hidden"].Detail, "/staging/acme/harbour/1/tiles.pmtiles: 403")
	assert.True(t, res["e1.3/licensed-signed"].OK, res["e1.3/licensed-signed"].Detail)
	assert.Contains(t, res["e1.3/licensed-signed"].Detail, "unsigned /licensed/venue/1/tiles.pmtiles: 403 MissingKey")

	wholeBucket := packsCDN(objects, "", false)
	defer wholeBucket.Close()
	res = run(wholeBucket)
	assert.False(t, res["e1.3/staging-hidden"].OK)
	assert.Contains(t, res["e1.3/staging-hidden"].Detail, "answered 200: staging/ must never be served")
	assert.False(t, res["e1.3/licensed-signed"].OK)
	assert.Contains(t, res["e1.3/licensed-signed"].Detail, "answered 403 (\"<Error><Code>AccessDenied")
	assert.NotEmpty(t, res["e1.3/licensed-signed"].Fix)

	noKeyGroup := packsCDN(objects, "/published", false)
	defer noKeyGroup.Close()
	res = run(noKeyGroup)
	assert.True(t, res["e1.3/staging-hidden"].OK, "published/staging/ does not exist: %s", res["e1.3/staging-hidden"].Detail)
	assert.False(t, res["e1.3/licensed-signed"].OK)
	assert.Contains(t, res["e1.3/licensed-signed"].Detail, "unsigned /licensed/venue/1/tiles.pmtiles answered 200")
}
