// Package helm tests the service charts the deploy workflows install: each
// chart lints, renders, and every rendered object decodes strictly into its
// Kubernetes API type (an unknown or misspelt field fails the test).
package helm

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

var services = []string{"pack-service", "frontend", "mcp-gateway"}

// deployValues are what the deploy workflow sets with --set.
func deployValues(svc string) map[string]any {
	return map[string]any{"image": map[string]any{
		"repository": "111122223333.dkr.ecr.ap-southeast-2.amazonaws.com/spatialprops/" + svc,
		"tag":        "0123456789abcdef0123456789abcdef01234567",
	}}
}

// rendered holds one chart's objects, decoded into API types.
type rendered struct {
	Deployment     *appsv1.Deployment
	Service        *corev1.Service
	ServiceAccount *corev1.ServiceAccount
	HPA            *autoscalingv2.HorizontalPodAutoscaler
	PDB            *policyv1.PodDisruptionBudget
	Ingress        *networkingv1.Ingress
}

func render(t *testing.T, svc string, overrides map[string]any) (*rendered, error) {
	t.Helper()
	chrt, err := loader.Load(svc)
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
		default:
			return fmt.Errorf("unexpected kind %q", meta.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, target); err != nil {
			return fmt.Errorf("%s does not decode strictly: %w", meta.Kind, err)
		}
	}
}

func TestChartsLint(t *testing.T) {
	for _, svc := range append([]string{"spatial-service"}, services...) {
		t.Run(svc, func(t *testing.T) {
			lint := action.NewLint()
			lint.Strict = true
			lint.Namespace = "spatial-properties"
			vals := map[string]any{}
			if svc != "spatial-service" {
				vals = deployValues(svc)
			}
			res := lint.Run([]string{svc}, vals)
			for _, m := range res.Messages {
				assert.Less(t, m.Severity, support.WarningSev, "%s: %s", svc, m)
			}
			assert.Empty(t, res.Errors)
		})
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
			require.NotNil(t, r.HPA, "HPA on by default")
			require.NotNil(t, r.PDB)
			assert.Nil(t, r.Ingress, "no ALB unless asked for")

			pod := r.Deployment.Spec.Template.Spec
			require.Len(t, pod.Containers, 1)
			c := pod.Containers[0]
			assert.Equal(t, deployValues(svc)["image"].(map[string]any)["repository"].(string)+":0123456789abcdef0123456789abcdef01234567", c.Image)
			// non-root, read-only root, no privilege escalation, no capabilities
			require.NotNil(t, pod.SecurityContext.RunAsNonRoot)
			assert.True(t, *pod.SecurityContext.RunAsNonRoot)
			assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SecurityContext.SeccompProfile.Type)
			require.NotNil(t, c.SecurityContext)
			assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
			assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
			assert.Equal(t, []corev1.Capability{"ALL"}, c.SecurityContext.Capabilities.Drop)
			// probes and resources, so rollouts wait for readiness and the
			// scheduler and HPA have numbers to work with
			require.NotNil(t, c.LivenessProbe)
			require.NotNil(t, c.ReadinessProbe)
			assert.False(t, c.Resources.Requests.Cpu().IsZero())
			assert.False(t, c.Resources.Limits.Memory().IsZero())
			// Prometheus finds the pods
			ann := r.Deployment.Spec.Template.Annotations
			assert.Equal(t, "true", ann["prometheus.io/scrape"])
			assert.Equal(t, "/metrics", ann["prometheus.io/path"])
			// the Service, HPA and PDB point at this Deployment's pods
			assert.Equal(t, r.Deployment.Spec.Selector.MatchLabels, r.Service.Spec.Selector)
			assert.Equal(t, r.Deployment.Spec.Selector.MatchLabels, r.PDB.Spec.Selector.MatchLabels)
			assert.Equal(t, r.Deployment.Name, r.HPA.Spec.ScaleTargetRef.Name)
			assert.Nil(t, r.Deployment.Spec.Replicas, "the HPA owns the replica count")
			assert.Equal(t, r.ServiceAccount.Name, pod.ServiceAccountName)
			assert.Empty(t, r.ServiceAccount.Annotations, "no IRSA role unless one is given")
		})
	}
}

func TestChartOptionalParts(t *testing.T) {
	r, err := render(t, "pack-service", map[string]any{
		"serviceAccount": map[string]any{"roleArn": "arn:aws:iam::111122223333:role/spatialprops-dev-pack-service", "name": "", "automountToken": false},
		"ingress":        map[string]any{"enabled": true, "host": "api.dev.spatial.properties", "scheme": "internet-facing", "path": "/", "certificateArn": "", "groupName": "spatial-properties"},
		"autoscaling":    map[string]any{"enabled": false, "minReplicas": 2, "maxReplicas": 10, "targetCPUUtilizationPercentage": 70},
	})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:iam::111122223333:role/spatialprops-dev-pack-service", r.ServiceAccount.Annotations["eks.amazonaws.com/role-arn"])
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
	// One library, not copies: each service chart's only template includes it.
	for _, svc := range services {
		chrt, err := loader.Load(svc)
		require.NoError(t, err)
		require.Len(t, chrt.Templates, 1, svc)
		assert.Equal(t, "{{ include \"spatial-service.all\" . }}", strings.TrimSpace(string(chrt.Templates[0].Data)))
		deps := chrt.Dependencies()
		require.Len(t, deps, 1)
		assert.Equal(t, "library", deps[0].Metadata.Type)
		p, _ := filepath.EvalSymlinks(filepath.Join(svc, "charts", "spatial-service"))
		assert.Equal(t, "spatial-service", p)
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
	assert.Equal(t, "8080", r.Deployment.Spec.Template.Annotations["prometheus.io/port"])
	assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
}
