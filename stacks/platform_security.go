package stacks

import (
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	obs "github.com/spatialprops/spatialprops-infra/stacks/observability"
)

// Ports the platform's network policies open, read from each chart at its
// pinned version.
const (
	// LBCWebhookPort is the LB controller's webhookBindPort default.
	LBCWebhookPort = 9443
	// MetricsServerPort is metrics-server's containerPort; the API server
	// aggregates the metrics API through it.
	MetricsServerPort = 10250
	// AutoscalerMetricsPort is cluster-autoscaler's /metrics port.
	AutoscalerMetricsPort = 8085
	// ServicesPartOf labels every pod of the service charts
	// (helm/spatial-service: app.kubernetes.io/part-of).
	ServicesPartOf = "spatial-properties"
)

// ServicePorts are the container ports of the service charts
// (pack-service and mcp-gateway 8080, frontend 3000).
var ServicePorts = []int{8080, 3000}

// PrometheusPeer is the Prometheus server of kube-prometheus-stack, the
// only scraper allowed into any namespace.
var PrometheusPeer = sp.Peer{Namespace: obs.Namespace, PodLabels: map[string]string{"app.kubernetes.io/name": "prometheus"}}

// restrictedContainer is the container securityContext the restricted Pod
// Security level demands, plus a read-only root filesystem.
func restrictedContainer() map[string]any {
	return map[string]any{
		"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
		"capabilities": map[string]any{"drop": []string{"ALL"}}, "seccompProfile": map[string]any{"type": "RuntimeDefault"},
	}
}

// newServicesNamespace creates the namespace the service charts deploy
// into. It exists before any deploy because the service-deploy role may act
// only inside it and so cannot create it; Pod Security "restricted" matches
// the charts' non-root, read-only securityContext.
//
// Ingress: internet-facing ALBs (target type ip) live in the public
// subnets and reach pods from there; services call each other; Prometheus
// scrapes. An internal ALB would sit in the private subnets, which also
// hold every pod, so it needs its own reviewed allow.
func newServicesNamespace(stack cdktf.TerraformStack, cfg *envs.Config) error {
	var albs []sp.Peer
	for _, cidr := range cfg.Network.PublicSubnets {
		albs = append(albs, sp.Peer{CIDR: cidr})
	}
	services := map[string]string{"app.kubernetes.io/part-of": ServicesPartOf}
	_, err := sp.NewNamespace(stack, "services-namespace", &sp.NamespaceProps{
		Name: naming.NamespaceServices,
		Policies: []sp.IngressAllow{
			{Name: "load-balancer-targets", PodLabels: services, Ports: ServicePorts, From: albs},
			{Name: "service-to-service", PodLabels: services, Ports: ServicePorts, From: []sp.Peer{{PodLabels: services}}},
			{Name: "prometheus-scrape", PodLabels: services, Ports: append([]int{ServiceMetricsPort}, ServicePorts...), From: []sp.Peer{PrometheusPeer}},
		},
	})
	return err
}

// newKubeSystemPolicies isolates the workloads the platform installs into
// kube-system. kube-system itself gets no default deny and no Pod Security
// label: it belongs to EKS (aws-node and kube-proxy need host networking
// and privileges, CoreDNS serves every pod), and a blanket policy there
// could break DNS cluster-wide. A policy that selects a pod isolates that
// pod, so each of ours accepts only what is listed.
func newKubeSystemPolicies(stack cdktf.TerraformStack) error {
	_, err := sp.NewNetworkPolicies(stack, "kube-system-policies", &sp.NetworkPoliciesProps{
		Namespace: naming.NamespaceKubeSystem,
		Allows: []sp.IngressAllow{
			{
				Name: "metrics-server-from-api-server", PodLabels: map[string]string{"app.kubernetes.io/name": "metrics-server"},
				Ports: []int{MetricsServerPort},
				AnySourceReason: "the API server proxies the metrics.k8s.io API to metrics-server from control-plane " +
					"ENIs in the cluster subnets, which share addresses with pods; the port serves TLS only",
			},
			{
				Name: "cluster-autoscaler-scrape", PodLabels: map[string]string{"app.kubernetes.io/name": "aws-cluster-autoscaler"},
				Ports: []int{AutoscalerMetricsPort}, From: []sp.Peer{PrometheusPeer},
			},
		},
	})
	return err
}
