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
	// is set per Kubernetes minor from AutoscalerImageTags.
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

// AutoscalerImageTags maps a Kubernetes minor to the cluster-autoscaler
// release built for it; upstream supports only matching minors.
var AutoscalerImageTags = map[string]string{
	"1.33": "v1.33.6",
	"1.34": "v1.34.5",
	"1.35": "v1.35.2",
}
