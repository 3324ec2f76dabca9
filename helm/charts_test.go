// Package helm tests the service charts the deploy workflows install: each
// chart lints, renders, and every rendered object decodes strictly into its
// Kubernetes API type (an unknown or misspelt field fails the test).
//
// The service charts share the library chart spatial-service the Helm way:
// a file:// dependency pinned by a committed Chart.lock, packaged into
// charts/ by `helm dependency build` (the .tgz is git-ignored). TestMain
// runs that build first, exactly as a user or the deploy workflow does, so
// the tests pass on a fresh clone and after any earlier build.
package helm

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli"
	"helm.sh/helm/v3/pkg/downloader"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// services are the charts of the Go services on the service kit (each a
// Deployment on the library chart, /metrics on the kit's operations port).
var services = []string{"pack-service", "frontend", "mcp-gateway", "marketplace-api", "marketplace-ui", "billing-stub",
	"dtn-gateway", "beacons", "beacons-admin", "edge-sync", "device-enrollment", "cdn-presigner", "provenance-gate"}

// stackDeployed are the privileged services the infra stacks deploy
// (contracts.md): no workflow runs helm for them, so their ci values stand
// for what the stack sets.
var stackDeployed = map[string]bool{"device-enrollment": true, "cdn-presigner": true, "provenance-gate": true, "crl-sync": true}

// placeholders are the only charts that run a placeholder image, as the
// guide asks: the two uplink adapters.
var placeholders = []string{"uplink-satellite", "uplink-lpwan"}

// jobs are the CronJob charts.
var jobs = []string{"beacon-rotate", "crl-sync"}

func allCharts() []string {
	return append(append(append([]string{}, services...), placeholders...), jobs...)
}

func TestMain(m *testing.M) {
	for _, svc := range allCharts() {
		if err := dependencyBuild(svc); err != nil {
			fmt.Fprintf(os.Stderr, "helm dependency build %s: %v\n", svc, err)
			os.Exit(1)
		}
	}
	os.Exit(m.Run())
}

// dependencyBuild is `helm dependency build <chart>`: it checks Chart.lock
// against Chart.yaml and packages each locked dependency into charts/.
// file:// dependencies need no repository, so nothing is fetched.
func dependencyBuild(chart string) error {
	tmp, err := os.MkdirTemp("", "helm-repo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	m := &downloader.Manager{
		Out: io.Discard, ChartPath: chart, Getters: getter.All(cli.New()), SkipUpdate: true,
		RepositoryConfig: filepath.Join(tmp, "repositories.yaml"), RepositoryCache: filepath.Join(tmp, "cache"),
	}
	return m.Build()
}

// lint is `helm lint --strict` with the given values.
func lint(chart string, vals map[string]any) *action.LintResult {
	l := action.NewLint()
	l.Strict = true
	l.Namespace = "spatial-properties"
	return l.Run([]string{chart}, vals)
}

// workflowExpressions stand in for the deploy workflow's run-time values:
// the documentation account, the org and region of dev, a commit SHA.
var workflowExpressions = strings.NewReplacer(
	"${{ vars.ORG }}", "spatialprops", "${{ vars.AWS_REGION }}", "ap-southeast-2", "$account", "111122223333",
	"$IMAGE_TAG", "0123456789abcdef0123456789abcdef01234567")

var setFlag = regexp.MustCompile(`--set ([\w.]+)="([^"]*)"`)

// deployValues are what .github/workflows/deploy-<svc>.yml sets with --set
// in its dev job, read from the workflow itself (so a chart test sees what
// a rollout gets); for a service the infra stacks deploy, its ci values.
func deployValues(svc string) map[string]any {
	if stackDeployed[svc] {
		vals, err := chartutil.ReadValuesFile(filepath.Join(svc, "ci", "ci-values.yaml"))
		if err != nil {
			panic(err)
		}
		return vals.AsMap()
	}
	raw, err := os.ReadFile(filepath.Join("..", ".github", "workflows", "deploy-"+svc+".yml"))
	if err != nil {
		panic(err)
	}
	text := string(raw)
	dev := text[strings.Index(text, "\n  dev:\n"):]
	step := dev[strings.Index(dev, "helm upgrade --install"):]
	step = step[:strings.Index(step, "--atomic")]
	out := map[string]any{}
	for _, m := range setFlag.FindAllStringSubmatch(step, -1) {
		value := m[2]
		if value == "$REPOSITORY" {
			value = "111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/spatialprops/" + svc
		}
		keys := strings.Split(m[1], ".")
		d := out
		for _, k := range keys[:len(keys)-1] {
			if _, ok := d[k]; !ok {
				d[k] = map[string]any{}
			}
			d = d[k].(map[string]any)
		}
		d[keys[len(keys)-1]] = workflowExpressions.Replace(value)
	}
	return out
}

// rendered holds one chart's objects, decoded into API types.
type rendered struct {
	Deployment     *appsv1.Deployment
	Service        *corev1.Service
	ServiceAccount *corev1.ServiceAccount
	HPA            *autoscalingv2.HorizontalPodAutoscaler
	PDB            *policyv1.PodDisruptionBudget
	Ingress        *networkingv1.Ingress
	ServiceMonitor *monitoringv1.ServiceMonitor
	CronJob        *batchv1.CronJob
}

func render(t *testing.T, svc string, overrides map[string]any) (*rendered, error) {
	t.Helper()
	return renderPath(t, svc, svc, overrides)
}

// renderPath renders the chart at path with svc's deploy values.
func renderPath(t *testing.T, path, svc string, overrides map[string]any) (*rendered, error) {
	t.Helper()
	chrt, err := loader.Load(path)
	require.NoError(t, err)
	vals := deployValues(svc)
	for k, v := range overrides {
		vals[k] = v
	}
	if err := chartutil.ProcessDependenciesWithMerge(chrt, vals); err != nil {
		return nil, err
	}
	top, err := chartutil.ToRenderValues(chrt, vals, chartutil.ReleaseOptions{Name: svc, Namespace: "spatial-properties", IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(chrt, top)
	if err != nil {
		return nil, err
	}
	out := &rendered{}
	for name, content := range files {
		if !strings.HasSuffix(name, ".yaml") || strings.TrimSpace(content) == "" {
			continue
		}
		if err := decodeAll(content, out); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return out, nil
}

// decodeAll splits a stream and decodes each document strictly by kind.
func decodeAll(stream string, out *rendered) error {
	r := k8syaml.NewYAMLReader(bufio.NewReader(strings.NewReader(stream)))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return err
		}
		var target any
		switch meta.Kind {
		case "Deployment":
			out.Deployment = &appsv1.Deployment{}
			target = out.Deployment
		case "Service":
			out.Service = &corev1.Service{}
			target = out.Service
		case "ServiceAccount":
			out.ServiceAccount = &corev1.ServiceAccount{}
			target = out.ServiceAccount
		case "HorizontalPodAutoscaler":
			out.HPA = &autoscalingv2.HorizontalPodAutoscaler{}
			target = out.HPA
		case "PodDisruptionBudget":
			out.PDB = &policyv1.PodDisruptionBudget{}
			target = out.PDB
		case "Ingress":
			out.Ingress = &networkingv1.Ingress{}
			target = out.Ingress
		case "ServiceMonitor":
			out.ServiceMonitor = &monitoringv1.ServiceMonitor{}
			target = out.ServiceMonitor
		case "CronJob":
			out.CronJob = &batchv1.CronJob{}
			target = out.CronJob
		default:
			return fmt.Errorf("unexpected kind %q", meta.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, target); err != nil {
			return fmt.Errorf("%s does not decode strictly: %w", meta.Kind, err)
		}
	}
}

// ciValues reads a chart's ci/ci-values.yaml, what `helm lint -f` and
// chart-testing use in place of the deploy workflow's --set.
func ciValues(t *testing.T, svc string) map[string]any {
	t.Helper()
	vals, err := chartutil.ReadValuesFile(filepath.Join(svc, "ci", "ci-values.yaml"))
	require.NoError(t, err)
	return vals
}

func TestChartsLint(t *testing.T) {
	for _, svc := range append([]string{"spatial-service"}, services...) {
		t.Run(svc, func(t *testing.T) {
			vals := map[string]any{}
			if svc != "spatial-service" {
				vals = ciValues(t, svc)
			}
			res := lint(svc, vals)
			for _, m := range res.Messages {
				assert.Less(t, m.Severity, support.WarningSev, "%s: %s", svc, m)
			}
			assert.Empty(t, res.Errors)
		})
	}
}

// TestDependencyBuildLintRenderInAnyOrder follows a user on a fresh copy of
// the charts: lint before the build names the missing dependency; after it,
// lint is clean and the chart renders; building again (as CI does on every
// run) changes nothing.
func TestDependencyBuildLintRenderInAnyOrder(t *testing.T) {
	for _, svc := range services {
		t.Run(svc, func(t *testing.T) {
			dir := t.TempDir()
			for _, chart := range []string{svc, "spatial-service"} {
				require.NoError(t, os.CopyFS(filepath.Join(dir, chart), os.DirFS(chart)))
			}
			chart := filepath.Join(dir, svc)
			require.NoError(t, os.RemoveAll(filepath.Join(chart, "charts")))

			res := lint(chart, deployValues(svc))
			require.NotEmpty(t, res.Errors, "lint without the dependency must fail")
			assert.Contains(t, fmt.Sprint(res.Messages), "chart directory is missing these dependencies: spatial-service")

			for range 2 {
				require.NoError(t, dependencyBuild(chart))
				res = lint(chart, deployValues(svc))
				assert.Empty(t, res.Errors)
				for _, m := range res.Messages {
					assert.Less(t, m.Severity, support.WarningSev, "%s: %s", svc, m)
				}
				r, err := renderPath(t, chart, svc, nil)
				require.NoError(t, err)
				require.NotNil(t, r.Deployment)
			}
			packaged, err := filepath.Glob(filepath.Join(chart, "charts", "*"))
			require.NoError(t, err)
			assert.Equal(t, []string{filepath.Join(chart, "charts", "spatial-service-0.1.0.tgz")}, packaged)
		})
	}
}

func TestChartLockIsInSyncAndThePackageIsIgnored(t *testing.T) {
	for _, svc := range services {
		chrt, err := loader.Load(svc)
		require.NoError(t, err)
		require.NotNil(t, chrt.Lock, "%s/Chart.lock is committed", svc)
		require.Len(t, chrt.Lock.Dependencies, 1)
		assert.Equal(t, "file://../spatial-service", chrt.Lock.Dependencies[0].Repository)
		// Build refuses a Chart.lock whose digest no longer matches Chart.yaml.
		assert.NoError(t, dependencyBuild(svc))

		tgz := filepath.Join("helm", svc, "charts", "spatial-service-0.1.0.tgz")
		out, err := exec.Command("git", "-C", "..", "check-ignore", tgz).CombinedOutput()
		assert.NoError(t, err, "%s must be git-ignored: %s", tgz, out)
		out, err = exec.Command("git", "-C", "..", "check-ignore", filepath.Join("helm", svc, "Chart.lock")).CombinedOutput()
		assert.Error(t, err, "Chart.lock must be committed, not ignored: %s", out)
	}
}

func TestLintWithoutValuesNamesTheMissingValue(t *testing.T) {
	// Run as a user would, without the workflow's values: lint must show
	// the chart's own message (helm's lint mode logs a missing required
	// value instead of failing), not a YAML parse error of what the empty
	// value rendered to.
	var logged bytes.Buffer
	log.SetOutput(&logged)
	defer log.SetOutput(os.Stderr)
	for _, svc := range services {
		logged.Reset()
		res := lint(svc, map[string]any{})
		assert.Contains(t, logged.String(), "Missing required value: image.repository is required (the ECR repository URL)", svc)
		for _, e := range res.Errors {
			assert.NotContains(t, e.Error(), "parse", svc)
		}
		for _, m := range res.Messages {
			assert.NotContains(t, m.Error(), "parse", svc)
		}
	}
}

func TestCIValuesMatchWhatTheWorkflowSets(t *testing.T) {
	// ci/ci-values.yaml stands in for the deploy workflow's --set; the two
	// must set the same keys or lint proves nothing.
	for _, svc := range allCharts() {
		assert.Equal(t, deployValues(svc), ciValues(t, svc), svc)
	}
}

func TestChartsRenderSecureWorkloads(t *testing.T) {
	for _, svc := range services {
		t.Run(svc, func(t *testing.T) {
			r, err := render(t, svc, nil)
			require.NoError(t, err)
			require.NotNil(t, r.Deployment)
			require.NotNil(t, r.Service)
			require.NotNil(t, r.ServiceAccount)
			require.NotNil(t, r.PDB)
			assert.Nil(t, r.Ingress, "no ALB unless asked for")

			pod := r.Deployment.Spec.Template.Spec
			require.Len(t, pod.Containers, 1)
			c := pod.Containers[0]
			assert.Equal(t, deployValues(svc)["image"].(map[string]any)["repository"].(string)+":0123456789abcdef0123456789abcdef01234567", c.Image)
			assertRestrictedPod(t, pod, c)
			// probes, so rollouts wait for readiness
			require.NotNil(t, c.LivenessProbe)
			require.NotNil(t, c.ReadinessProbe)
			// Prometheus finds the service through a ServiceMonitor, not
			// pod annotations that kube-prometheus-stack never reads
			assert.NotContains(t, r.Deployment.Spec.Template.Annotations, "prometheus.io/scrape")
			sm := r.ServiceMonitor
			require.NotNil(t, sm, "metrics.enabled renders a ServiceMonitor")
			assert.Equal(t, "kube-prometheus-stack", sm.Labels["release"], "the label kube-prometheus-stack's serviceMonitorSelector matches")
			require.NotEmpty(t, sm.Spec.Selector.MatchLabels)
			assert.Equal(t, sm.Spec.Selector.MatchLabels, subset(r.Service.Labels, sm.Spec.Selector.MatchLabels), "selector matches the Service's labels")
			assert.Empty(t, sm.Spec.NamespaceSelector.MatchNames, "same namespace as the Service")
			require.Len(t, sm.Spec.Endpoints, 1)
			assertScrapesTheOpsPort(t, r)
			// the Service, HPA and PDB point at this Deployment's pods
			assert.Equal(t, r.Deployment.Spec.Selector.MatchLabels, r.Service.Spec.Selector)
			assert.Equal(t, r.Deployment.Spec.Selector.MatchLabels, r.PDB.Spec.Selector.MatchLabels)
			if svc == "edge-sync" {
				// nonces are remembered per process: one detector
				assert.Nil(t, r.HPA)
				assert.Equal(t, int32(1), *r.Deployment.Spec.Replicas)
			} else {
				require.NotNil(t, r.HPA, "HPA on by default")
				assert.Equal(t, r.Deployment.Name, r.HPA.Spec.ScaleTargetRef.Name)
				assert.Nil(t, r.Deployment.Spec.Replicas, "the HPA owns the replica count")
			}
			assert.Equal(t, r.ServiceAccount.Name, pod.ServiceAccountName)
			assert.Equal(t, svc, r.ServiceAccount.Name, "the service account an IRSA role would trust")
			sa, _ := deployValues(svc)["serviceAccount"].(map[string]any)
			role, _ := sa["roleArn"].(string)
			assert.Equal(t, role, r.ServiceAccount.Annotations["eks.amazonaws.com/role-arn"], "the role the deploy sets, and none unless it sets one")
		})
	}
}

// kitOpsPort is services/kit's DefaultOpsPort: where every service on the
// kit serves /metrics, apart from its API (services/edge-e2e checks each
// chart's metrics.port against the constant itself).
const kitOpsPort = 9090

// assertScrapesTheOpsPort: the ServiceMonitor scrapes /metrics on a
// Service port, by name, whose target is the container port "metrics",
// the kit's operations listener.
func assertScrapesTheOpsPort(t *testing.T, r *rendered) {
	t.Helper()
	require.NotNil(t, r.ServiceMonitor)
	require.Len(t, r.ServiceMonitor.Spec.Endpoints, 1)
	ep := r.ServiceMonitor.Spec.Endpoints[0]
	assert.Equal(t, "/metrics", ep.Path)
	var target string
	for _, p := range r.Service.Spec.Ports {
		if p.Name == ep.Port {
			target = p.TargetPort.String()
		}
	}
	require.NotEmpty(t, target, "the ServiceMonitor scrapes port %q, which the Service lacks", ep.Port)
	c := r.Deployment.Spec.Template.Spec.Containers[0]
	var container int32
	for _, p := range c.Ports {
		if p.Name == target {
			container = p.ContainerPort
		}
	}
	assert.Equal(t, "metrics", target, "metrics are scraped on the operations port, not the API")
	assert.Equal(t, int32(kitOpsPort), container, "the container port is where the kit serves /metrics")
}

// subset returns the entries of all whose keys are in want, so a label
// selector can be checked against an object's labels.
func subset(all, want map[string]string) map[string]string {
	out := map[string]string{}
	for k := range want {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out
}

func TestMetricsCanBeTurnedOff(t *testing.T) {
	r, err := render(t, "mcp-gateway", map[string]any{"metrics": map[string]any{"enabled": false, "path": "/metrics", "interval": "30s"}})
	require.NoError(t, err)
	assert.Nil(t, r.ServiceMonitor)
}

func TestChartOptionalParts(t *testing.T) {
	r, err := render(t, "pack-service", map[string]any{
		"serviceAccount": map[string]any{"roleArn": "arn:aws:iam::111122223333:role/workload/spatialprops-dev-pack-service", "name": "", "automountToken": false},
		"ingress":        map[string]any{"enabled": true, "host": "api.dev.spatial.properties", "scheme": "internet-facing", "path": "/", "certificateArn": "", "groupName": "spatial-properties"},
		"autoscaling":    map[string]any{"enabled": false, "minReplicas": 2, "maxReplicas": 10, "targetCPUUtilizationPercentage": 70},
	})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::111122223333:role/workload/spatialprops-dev-pack-service", r.ServiceAccount.Annotations["eks.amazonaws.com/role-arn"])
	require.NotNil(t, r.Ingress)
	assert.Equal(t, "alb", *r.Ingress.Spec.IngressClassName)
	assert.Equal(t, "api.dev.spatial.properties", r.Ingress.Spec.Rules[0].Host)
	assert.Nil(t, r.HPA)
	require.NotNil(t, r.Deployment.Spec.Replicas)
	assert.Equal(t, int32(2), *r.Deployment.Spec.Replicas)
}

func TestChartRefusesAnUntaggedImage(t *testing.T) {
	_, err := render(t, "frontend", map[string]any{"image": map[string]any{"repository": "x", "tag": ""}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "image.tag is required (the commit SHA the workflow built)")
}

func TestServiceChartsShareTheLibrary(t *testing.T) {
	// One library, not copies: each service chart's only template includes
	// it, and the packaged dependency is today's library chart, file for
	// file (a symlink or a stale copy would show up here).
	library, err := loader.Load("spatial-service")
	require.NoError(t, err)
	want := map[string]string{}
	for _, f := range library.Templates {
		want[f.Name] = string(f.Data)
	}
	for _, svc := range services {
		chrt, err := loader.Load(svc)
		require.NoError(t, err)
		require.Len(t, chrt.Templates, 1, svc)
		assert.Equal(t, "{{ include \"spatial-service.all\" . }}", strings.TrimSpace(string(chrt.Templates[0].Data)))
		deps := chrt.Dependencies()
		require.Len(t, deps, 1)
		assert.Equal(t, "library", deps[0].Metadata.Type)
		got := map[string]string{}
		for _, f := range deps[0].Templates {
			got[f.Name] = string(f.Data)
		}
		assert.Equal(t, want, got, svc)
		entries, err := os.ReadDir(filepath.Join(svc, "charts"))
		require.NoError(t, err)
		for _, e := range entries {
			assert.True(t, e.Type().IsRegular(), "%s/charts/%s must be a packaged chart, not a link", svc, e.Name())
		}
	}
}

// GIVEN pack-service's chart THEN its pods get the collector endpoint and
// service name the service reads, and the probe/metrics ports are the one
// port services/pack-service listens on (PORT default 8080).
func TestPackServiceWiring(t *testing.T) {
	r, err := render(t, "pack-service", deployValues("pack-service"))
	require.NoError(t, err)
	c := r.Deployment.Spec.Template.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	assert.Equal(t, "http://opentelemetry-collector.observability.svc:4317", env["OTEL_EXPORTER_OTLP_ENDPOINT"], "traces reach the in-cluster collector")
	assert.Equal(t, "pack-service", env["OTEL_SERVICE_NAME"], "spctl verify searches Tempo for this service.name")
	assert.Equal(t, int32(8080), c.Ports[0].ContainerPort)
	// Prometheus scrapes it through the ServiceMonitor, on the Service port
	// that targets the kit's operations listener, at the path it serves.
	assertScrapesTheOpsPort(t, r)
	assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
}

// assertRestrictedPod checks what Pod Security "restricted" and our charts
// require of every workload: non-root with a UID, RuntimeDefault seccomp,
// no privilege escalation, every capability dropped, a read-only root
// filesystem, and resources for the scheduler.
func assertRestrictedPod(t *testing.T, pod corev1.PodSpec, c corev1.Container) {
	t.Helper()
	require.NotNil(t, pod.SecurityContext.RunAsNonRoot)
	assert.True(t, *pod.SecurityContext.RunAsNonRoot)
	require.NotNil(t, pod.SecurityContext.RunAsUser)
	assert.NotZero(t, *pod.SecurityContext.RunAsUser)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SecurityContext.SeccompProfile.Type)
	require.NotNil(t, c.SecurityContext)
	assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
	assert.Equal(t, []corev1.Capability{"ALL"}, c.SecurityContext.Capabilities.Drop)
	assert.False(t, c.Resources.Requests.Cpu().IsZero())
	assert.False(t, c.Resources.Limits.Memory().IsZero())
}
