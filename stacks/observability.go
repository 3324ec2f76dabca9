package stacks

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/configmapv1"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"gopkg.in/yaml.v3"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	obs "github.com/spatialprops/spatialprops-infra/stacks/observability"
)

// Labels Grafana's sidecars watch; the ConfigMaps below carry them. They
// are the guide's labels and the chart's defaults, set explicitly so the
// two can never drift apart.
const (
	DatasourceLabel = obs.DatasourceLabel
	DashboardLabel  = "grafana_dashboard"
	SidecarValue    = obs.SidecarValue
)

// ObservabilityOutputs locate the telemetry endpoints.
type ObservabilityOutputs struct {
	OTLPGRPCEndpoint string
	OTLPHTTPEndpoint string
}

// NewObservabilityStack installs metrics (kube-prometheus-stack), logs
// (Loki + Alloy), traces (Tempo + OpenTelemetry Collector), the provisioned
// datasources and dashboards, and the platform alerts into "observability".
// Loki and Tempo store in the storage stack's telemetry buckets through
// IRSA roles of their own (observability_storage.go).
func NewObservabilityStack(scope constructs.Construct, cfg *envs.Config, cluster *ClusterOutputs, platform *PlatformOutputs, storage *StorageOutputs) (*ObservabilityOutputs, error) {
	b, err := newBase(scope, cfg, Observability)
	if err != nil {
		return nil, err
	}
	if err := b.kubernetesProviders(cluster); err != nil {
		return nil, err
	}

	ns, deps, err := newObservabilityNamespaces(b)
	if err != nil {
		return nil, err
	}
	nsName := ns.Name

	// Grafana's admin password is generated in the cluster and never
	// passes through Terraform state (see observability_secrets.go).
	grafanaAdmin, err := observabilitySecrets(b, ns)
	if err != nil {
		return nil, err
	}

	endpoints := obs.EndpointsFor(obs.Replicated(cfg))
	datasources, err := obs.DatasourcesYAML(endpoints)
	if err != nil {
		return nil, err
	}
	configmapv1.NewConfigMapV1(b.stack, jsii.String("grafana-datasources"), &configmapv1.ConfigMapV1Config{
		Metadata: &configmapv1.ConfigMapV1Metadata{
			Name: jsii.String(obs.DatasourcesConfigMap), Namespace: nsName,
			Labels: &map[string]*string{DatasourceLabel: jsii.String(SidecarValue)},
		},
		Data: &map[string]*string{"datasources.yaml": jsii.String(datasources)},
	})
	dashboards, err := obs.Dashboards()
	if err != nil {
		return nil, err
	}
	configmapv1.NewConfigMapV1(b.stack, jsii.String("grafana-dashboards"), &configmapv1.ConfigMapV1Config{
		Metadata: &configmapv1.ConfigMapV1Metadata{
			Name: jsii.String("spatialprops-dashboards"), Namespace: nsName,
			Labels: &map[string]*string{DashboardLabel: jsii.String(SidecarValue)},
		},
		Data: sp.StringMap(dashboards),
	})

	rules, err := obs.Rules()
	if err != nil {
		return nil, err
	}
	o := cfg.Observability
	values := kubePrometheusValues(o, platform.StorageClass, rules)
	edgeRules, err := obs.EdgeRules()
	if err != nil {
		return nil, err
	}
	// A second PrometheusRule object, spatialprops-edge.
	values["additionalPrometheusRulesMap"].(map[string]any)["spatialprops-edge"] = edgeRules
	if cfg.Edge.Enabled {
		sa, err := newEdgeObservability(b, cluster, nsName)
		if err != nil {
			return nil, err
		}
		values["grafana"].(map[string]any)["serviceAccount"] = sa
	}
	alertmanager, err := alertmanagerValues(b, cluster, platform.StorageClass)
	if err != nil {
		return nil, err
	}
	values["alertmanager"] = alertmanager
	kps, err := sp.NewHelmRelease(b.stack, "kube-prometheus-stack", &sp.HelmReleaseProps{
		Chart: KubePrometheusStackChart, ReleaseName: obs.KubePrometheusRelease, Namespace: obs.Namespace,
		TimeoutSeconds: 900, DependsOn: append(deps, grafanaAdmin),
		Values: mergeValues(values, securityValues(obs.KubePrometheusRelease, false)),
	})
	if err != nil {
		return nil, err
	}
	roles, err := newTelemetryRoles(b, cluster, storage.Telemetry)
	if err != nil {
		return nil, err
	}
	replicated := obs.Replicated(cfg)
	tempoChart := TempoChart
	tempo, err := tempoValues(cfg, b.names, platform.StorageClass, roles["tempo"])
	if replicated {
		tempoChart = TempoDistributedChart
		tempo, err = tempoDistributedValues(cfg, b.names, platform.StorageClass, roles["tempo"])
	}
	if err != nil {
		return nil, err
	}
	// Loki, Tempo and the collector start after the operator's CRDs exist.
	after := []cdktf.ITerraformDependable{kps.Release}
	releases := []struct {
		id     string
		chart  sp.Chart
		name   string
		values map[string]any
	}{
		{"loki", LokiChart, obs.LokiRelease, lokiValues(cfg, b.names, platform.StorageClass, roles["loki"])},
		{"alloy", AlloyChart, obs.AlloyRelease, alloyValues(endpoints)},
		{"tempo", tempoChart, obs.TempoRelease, tempo},
		{"opentelemetry-collector", OTelCollectorChart, obs.CollectorRelease, collectorValues(endpoints)},
	}
	for _, r := range releases {
		if _, err := sp.NewHelmRelease(b.stack, r.id, &sp.HelmReleaseProps{
			Chart: r.chart, ReleaseName: r.name, Namespace: obs.Namespace, Values: mergeValues(r.values, securityValues(r.name, replicated)), DependsOn: after,
		}); err != nil {
			return nil, err
		}
	}
	out := &ObservabilityOutputs{
		OTLPGRPCEndpoint: fmt.Sprintf("%s.%s.svc:%d", obs.CollectorRelease, obs.Namespace, obs.OTLPGRPCPort),
		OTLPHTTPEndpoint: obs.ServiceURL(obs.CollectorRelease, obs.OTLPHTTPPort),
	}
	b.output("otlp_grpc_endpoint", "In-cluster OTLP/gRPC endpoint for applications", out.OTLPGRPCEndpoint, false)
	b.output("otlp_http_endpoint", "In-cluster OTLP/HTTP endpoint for applications", out.OTLPHTTPEndpoint, false)
	b.output("grafana_admin_secret", "Secret (namespace observability) holding Grafana's admin credentials", obs.GrafanaAdminSecret, false)
	return out, nil
}

func kubePrometheusValues(o envs.Observability, storageClass string, rules map[string]any) map[string]any {
	return map[string]any{
		// EKS runs the control plane; these targets cannot be scraped and
		// would only fire TargetDown.
		"kubeControllerManager": map[string]any{"enabled": false},
		"kubeScheduler":         map[string]any{"enabled": false},
		"kubeEtcd":              map[string]any{"enabled": false},
		"nodeExporter":          map[string]any{"enabled": true},
		"kubeStateMetrics":      map[string]any{"enabled": true},
		"prometheus": map[string]any{
			"prometheusSpec": map[string]any{
				"retention": o.PrometheusRetention,
				"storageSpec": map[string]any{"volumeClaimTemplate": map[string]any{"spec": map[string]any{
					"storageClassName": storageClass,
					"accessModes":      []string{"ReadWriteOnce"},
					"resources":        map[string]any{"requests": map[string]any{"storage": fmt.Sprintf("%dGi", o.PrometheusStorageGi)}},
				}}},
				// ServiceMonitors labelled release=<this release> are scraped
				// in every namespace; the service charts' ServiceMonitors
				// carry that label (helm/spatial-service). Set explicitly so
				// a chart default change cannot silently stop the scrape.
				"serviceMonitorSelectorNilUsesHelmValues": true,
				"serviceMonitorNamespaceSelector":         map[string]any{},
				// Tempo's metrics generator and the collector remote-write here.
				"enableRemoteWriteReceiver": true,
				"enableFeatures":            []string{"exemplar-storage"},
			},
			// Scrape cluster-autoscaler and cert-manager (installed by the
			// platform stack before the ServiceMonitor CRD exists).
			"additionalServiceMonitors": []map[string]any{{
				"name":              "cluster-autoscaler",
				"selector":          map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "aws-cluster-autoscaler"}},
				"namespaceSelector": map[string]any{"matchNames": []string{"kube-system"}},
				"endpoints":         []map[string]any{{"port": "http", "interval": "30s"}},
			}, {
				"name":              "cert-manager",
				"selector":          map[string]any{"matchLabels": stringsToAny(certManagerControllerLabels)},
				"namespaceSelector": map[string]any{"matchNames": []string{naming.NamespaceCertManager}},
				"endpoints":         []map[string]any{{"port": "http-metrics", "interval": "60s"}},
			}},
		},
		"additionalPrometheusRulesMap": map[string]any{"spatialprops-platform": rules},
		"grafana": map[string]any{
			"enabled": true,
			"admin": map[string]any{
				"existingSecret": obs.GrafanaAdminSecret, "userKey": obs.GrafanaAdminUserKey, "passwordKey": obs.GrafanaAdminPasswordKey,
			},
			"grafana.ini": map[string]any{
				"users":     map[string]any{"default_theme": "dark"},
				"analytics": map[string]any{"reporting_enabled": false, "check_for_updates": false},
			},
			"sidecar": map[string]any{
				"datasources": map[string]any{
					"enabled": true, "label": DatasourceLabel, "labelValue": SidecarValue, "searchNamespace": obs.Namespace,
					// Our ConfigMap provisions Prometheus as the default with
					// trace links; a second default would stop Grafana.
					"defaultDatasourceEnabled": false,
				},
				// Only labelled ConfigMaps in observability: with "ALL", anyone
				// who can create a ConfigMap anywhere could inject a dashboard.
				"dashboards": map[string]any{
					"enabled": true, "label": DashboardLabel, "labelValue": SidecarValue, "searchNamespace": obs.Namespace,
				},
				// Grafana-managed alert rules (the CDN error rates, which
				// read CloudWatch), from labelled ConfigMaps in observability.
				"alerts": map[string]any{
					"enabled": true, "label": obs.AlertLabel, "labelValue": SidecarValue, "searchNamespace": obs.Namespace,
				},
			},
		},
	}
}

// alloyConfig ships every pod's logs on the node to Loki. Alloy replaces
// Promtail, which reached end of life on 2026-03-02; it tails through the
// Kubernetes API, so it needs no host mounts or privileges.
func alloyConfig(e obs.Endpoints) string {
	return `discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)
  }
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]
    target_label  = "app"
  }
}

loki.source.kubernetes "pods" {
  targets    = discovery.relabel.pods.output
  forward_to = [loki.write.default.receiver]
}

loki.write "default" {
  endpoint {
    url = "` + e.LokiPush.URL() + `/loki/api/v1/push"
  }
}
`
}

func alloyValues(e obs.Endpoints) map[string]any {
	return map[string]any{
		"controller": map[string]any{"type": "daemonset"},
		"alloy": map[string]any{
			"configMap": map[string]any{"create": true, "content": alloyConfig(e)},
			"mounts":    map[string]any{"varlog": false},
		},
	}
}

// tempoValues (dev: the single-binary tempo chart) replaces the chart's
// templated config with tempoConfig, because the chart copies
// tempo.receivers (Jaeger on by default) into the config verbatim and Helm
// merges our map into it. The Jaeger receiver endpoints are removed as
// well, which drops the chart's Jaeger Service ports (its templates emit a
// port only for an endpoint that is set). Blocks go to the tempo bucket
// through the IRSA role; the volume keeps the WAL.
func tempoValues(cfg *envs.Config, names naming.Names, storageClass string, role *sp.IrsaRole) (map[string]any, error) {
	config, err := tempoConfig(cfg, names)
	if err != nil {
		return nil, err
	}
	noEndpoint := map[string]any{"endpoint": nil}
	return map[string]any{
		"config":         config,
		"serviceAccount": map[string]any{"create": true, "name": TempoServiceAccount, "annotations": role.Annotation},
		"tempo": map[string]any{
			"receivers": map[string]any{
				"jaeger": map[string]any{"protocols": map[string]any{
					"grpc": noEndpoint, "thrift_binary": noEndpoint, "thrift_compact": noEndpoint, "thrift_http": noEndpoint,
				}},
				"otlp": tempoOTLPReceiver(),
			},
			// Mounts the scratch emptyDir at /tmp that tempoConfig's
			// metrics_generator paths use.
			"metricsGenerator": map[string]any{"enabled": true},
		},
		"persistence": map[string]any{
			"enabled": true, "size": fmt.Sprintf("%dGi", cfg.Observability.TempoStorageGi), "storageClassName": storageClass,
		},
	}, nil
}

// TempoRetentionDays is how long Tempo keeps trace blocks; the tempo
// bucket's lifecycle follows it (TelemetryExpiryMarginDays later).
const TempoRetentionDays = 7

// TempoRetention is TempoRetentionDays in Tempo's duration format.
var TempoRetention = fmt.Sprintf("%dh", TempoRetentionDays*24)

func tempoOTLPReceiver() map[string]any {
	return map[string]any{"protocols": map[string]any{
		"grpc": map[string]any{"endpoint": fmt.Sprintf("0.0.0.0:%d", obs.OTLPGRPCPort)},
		"http": map[string]any{"endpoint": fmt.Sprintf("0.0.0.0:%d", obs.OTLPHTTPPort)},
	}}
}

// tempoConfig is Tempo's whole configuration file, the chart 2.2.4
// template's sections with our values filled in: OTLP is the only
// receiver, usage reporting is off, blocks go to the tempo bucket, and
// service graphs and span metrics are remote-written to Prometheus for
// Grafana's service map.
func tempoConfig(cfg *envs.Config, names naming.Names) (string, error) {
	config := map[string]any{
		"stream_over_http_enabled": false,
		"memberlist":               map[string]any{"cluster_label": obs.TempoRelease + "." + obs.Namespace},
		"multitenancy_enabled":     false,
		"usage_report":             map[string]any{"reporting_enabled": false},
		"compactor":                map[string]any{"compaction": map[string]any{"block_retention": TempoRetention}},
		"distributor":              map[string]any{"receivers": map[string]any{"otlp": tempoOTLPReceiver()}},
		"ingester":                 map[string]any{},
		"server":                   map[string]any{"http_listen_port": obs.TempoQueryPort},
		"storage": map[string]any{"trace": map[string]any{
			"backend": "s3",
			"s3":      tempoS3(cfg, names),
			"wal":     map[string]any{"path": "/var/tempo/wal"},
		}},
		"querier":        map[string]any{},
		"query_frontend": map[string]any{},
		"overrides": map[string]any{
			"defaults": map[string]any{
				"metrics_generator": map[string]any{"processors": []string{"service-graphs", "span-metrics"}},
			},
			"per_tenant_override_config": "/conf/overrides.yaml",
		},
		"metrics_generator": map[string]any{
			"storage":        map[string]any{"path": "/tmp/tempo", "remote_write": []map[string]any{{"url": obs.PrometheusURL + "/api/v1/write"}}},
			"traces_storage": map[string]any{"path": "/tmp/traces"},
		},
	}
	out, err := yaml.Marshal(config)
	return string(out), err
}

// collectorValues: one OTLP entry point for applications. Traces go to
// Tempo, metrics to Prometheus (remote write), logs to Loki's OTLP endpoint.
func collectorValues(e obs.Endpoints) map[string]any {
	return map[string]any{
		"mode":  "deployment",
		"image": map[string]any{"repository": "otel/opentelemetry-collector-contrib"},
		"ports": map[string]any{
			"jaeger-compact": map[string]any{"enabled": false},
			"jaeger-thrift":  map[string]any{"enabled": false},
			"jaeger-grpc":    map[string]any{"enabled": false},
			"zipkin":         map[string]any{"enabled": false},
		},
		"resources": map[string]any{"limits": map[string]any{"memory": "512Mi"}},
		"config": map[string]any{
			"receivers": map[string]any{"jaeger": nil, "zipkin": nil, "prometheus": nil},
			"exporters": map[string]any{
				"otlp_grpc/tempo": map[string]any{
					"endpoint": e.TempoOTLP.HostPort(),
					"tls":      map[string]any{"insecure": true},
				},
				"prometheusremotewrite": map[string]any{"endpoint": obs.PrometheusURL + "/api/v1/write"},
				"otlp_http/loki":        map[string]any{"endpoint": e.LokiPush.URL() + "/otlp"},
			},
			"service": map[string]any{"pipelines": map[string]any{
				"traces":  map[string]any{"receivers": []string{"otlp"}, "processors": []string{"memory_limiter", "batch"}, "exporters": []string{"otlp_grpc/tempo"}},
				"metrics": map[string]any{"receivers": []string{"otlp"}, "processors": []string{"memory_limiter", "batch"}, "exporters": []string{"prometheusremotewrite"}},
				"logs":    map[string]any{"receivers": []string{"otlp"}, "processors": []string{"memory_limiter", "batch"}, "exporters": []string{"otlp_http/loki"}},
			}},
		},
	}
}

func stringsToAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
