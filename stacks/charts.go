package stacks

import sp "github.com/spatialprops/spatialprops-infra/constructs"

// Pinned Helm charts. Values set in the stacks use each chart's own keys,
// read from that version's values.yaml; bump a version only together with a
// read of its values.yaml and a golden-snapshot review.
var (
	// MetricsServerChart feeds HPA and `kubectl top`.
	MetricsServerChart = sp.Chart{
		Repository: "https://kubernetes-sigs.github.io/metrics-server/",
		Name:       "metrics-server", Version: "3.13.1", AppVersion: "0.8.1",
	}
	// ClusterAutoscalerChart scales the managed node group. Its image tag
	// is set per Kubernetes minor from envs.KubernetesVersions.
	ClusterAutoscalerChart = sp.Chart{
		Repository: "https://kubernetes.github.io/autoscaler",
		Name:       "cluster-autoscaler", Version: "9.59.0", AppVersion: "1.35.0",
	}
	// LoadBalancerControllerChart provisions ALBs and NLBs.
	LoadBalancerControllerChart = sp.Chart{
		Repository: "https://aws.github.io/eks-charts",
		Name:       "aws-load-balancer-controller", Version: "3.5.0", AppVersion: sp.LoadBalancerControllerVersion,
	}
)

// Observability charts. Grafana's Loki and Tempo charts moved to the
// grafana-community repository in 2026; Alloy stays in grafana's.
var (
	KubePrometheusStackChart = sp.Chart{
		Repository: "https://prometheus-community.github.io/helm-charts",
		Name:       "kube-prometheus-stack", Version: "88.5.3", AppVersion: "v0.93.1",
	}
	LokiChart = sp.Chart{
		Repository: "https://grafana-community.github.io/helm-charts",
		Name:       "loki", Version: "18.11.0", AppVersion: "3.7.6",
	}
	AlloyChart = sp.Chart{
		Repository: "https://grafana.github.io/helm-charts",
		Name:       "alloy", Version: "1.11.1", AppVersion: "v1.18.1",
	}
	// TempoChart is the single-binary Tempo dev runs.
	TempoChart = sp.Chart{
		Repository: "https://grafana-community.github.io/helm-charts",
		Name:       "tempo", Version: "2.2.4", AppVersion: "2.10.8",
	}
	// TempoDistributedChart runs Tempo's components apart, with replicated
	// ingesters (staging and prod). 2.26.2 is the last release on Tempo
	// 2.x: tempo-distributed 3.x runs Tempo 3, whose write path needs Kafka.
	TempoDistributedChart = sp.Chart{
		Repository: "https://grafana-community.github.io/helm-charts",
		Name:       "tempo-distributed", Version: "2.26.2", AppVersion: "2.10.7",
	}
	OTelCollectorChart = sp.Chart{
		Repository: "https://open-telemetry.github.io/opentelemetry-helm-charts",
		Name:       "opentelemetry-collector", Version: "0.170.0", AppVersion: "0.158.0",
	}
)

// Edge charts and images.
var NATSChart = sp.Chart{
	Repository: "https://nats-io.github.io/k8s/helm/charts/",
	Name:       "nats", Version: "1.3.16", AppVersion: "2.11.10",
}

// NATSBoxImage runs the nats CLI that applies the stream definitions with
// the stream-admin key mounted, so it is pinned by digest: a moved tag
// cannot swap the image that holds that key. The Job runs it as uid 1000
// (runAsNonRoot), HOME on an emptyDir.
const NATSBoxImage = "docker.io/natsio/nats-box:0.19.2@sha256:8031d190c7ee24081f3f27cc939fb647a1eeb29ebb5c60fef9b5b6c7a846d6a2"

// ExternalSecretsChart installs External Secrets Operator, which copies
// credentials from AWS Secrets Manager (or generates them in-cluster) into
// Kubernetes Secrets, so no credential passes through Terraform state.
var ExternalSecretsChart = sp.Chart{
	Repository: "https://charts.external-secrets.io",
	Name:       "external-secrets", Version: "2.9.0", AppVersion: "v2.9.0",
}

// In-cluster certificates: cert-manager and the AWS Private CA issuer, both
// installed by the platform stack. Their values keys were read from each
// chart at its tag: cert-manager deploy/charts/cert-manager/values.yaml and
// templates at v1.21.1 (github.com/cert-manager/cert-manager), and
// charts/aws-pca-issuer/values.yaml and templates at v1.9.0
// (github.com/cert-manager/aws-privateca-issuer).
var (
	// CertManagerChart installs cert-manager with its CRDs (crds.enabled,
	// which replaced the deprecated installCRDs; the chart fails if both
	// are set).
	CertManagerChart = sp.Chart{
		Repository: "https://charts.jetstack.io",
		Name:       "cert-manager", Version: "v1.21.1", AppVersion: "v1.21.1",
	}
	// AWSPCAIssuerChart installs aws-privateca-issuer, the cert-manager
	// external issuer that signs with ACM Private CA. Its CRDs
	// (AWSPCAIssuer, AWSPCAClusterIssuer) ship in the chart's crds/
	// directory, which Helm installs first and never deletes.
	AWSPCAIssuerChart = sp.Chart{
		Repository: "https://cert-manager.github.io/aws-privateca-issuer",
		Name:       "aws-privateca-issuer", Version: "v1.9.0", AppVersion: "v1.9.0",
	}
	// ApproverPolicyChart is cert-manager approver-policy: the only
	// approver of CertificateRequests (cert-manager's own is off), which
	// approves a request only when a CertificateRequestPolicy its requester
	// may use allows every attribute of it.
	ApproverPolicyChart = sp.Chart{
		Repository: "https://charts.jetstack.io",
		Name:       "cert-manager-approver-policy", Version: "v0.27.0", AppVersion: "v0.27.0",
	}
)
