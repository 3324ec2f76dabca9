package constructs

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	helm "github.com/cdktf/cdktf-provider-helm-go/helm/v10/provider"
	k8s "github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// ExecAPIVersion is the client-authentication API `aws eks get-token` speaks.
const ExecAPIVersion = "client.authentication.k8s.io/v1beta1"

// KubernetesProvidersProps point the helm and kubernetes providers at a
// cluster created by another stack.
type KubernetesProvidersProps struct {
	// ClusterName is the literal cluster name passed to `aws eks get-token`.
	ClusterName string
	// Endpoint and CertificateAuthority (base64, as EKS returns it) come
	// from the cluster stack's outputs.
	Endpoint             *string
	CertificateAuthority *string
	Region               string
}

// KubernetesProviders are the configured providers.
type KubernetesProviders struct {
	Helm       helm.HelmProvider
	Kubernetes k8s.KubernetesProvider
}

// NewKubernetesProviders configures helm and kubernetes with exec auth: a
// fresh token is fetched with the deployer's AWS identity on every run, so
// no long-lived token or kubeconfig is stored in state or on disk.
func NewKubernetesProviders(scope constructs.Construct, props *KubernetesProvidersProps) (*KubernetesProviders, error) {
	if props == nil || props.ClusterName == "" || props.Endpoint == nil || props.CertificateAuthority == nil || props.Region == "" {
		return nil, fmt.Errorf("kubernetes providers: clusterName, endpoint, certificateAuthority and region are required")
	}
	args := jsii.Strings("eks", "get-token", "--cluster-name", props.ClusterName, "--region", props.Region, "--output", "json")
	ca := cdktf.Fn_Base64decode(props.CertificateAuthority)
	h := helm.NewHelmProvider(scope, jsii.String("helm"), &helm.HelmProviderConfig{
		Kubernetes: &helm.HelmProviderKubernetes{
			Host:                 props.Endpoint,
			ClusterCaCertificate: ca,
			Exec:                 &helm.HelmProviderKubernetesExec{ApiVersion: jsii.String(ExecAPIVersion), Command: jsii.String("aws"), Args: args},
		},
	})
	k := k8s.NewKubernetesProvider(scope, jsii.String("kubernetes"), &k8s.KubernetesProviderConfig{
		Host:                 props.Endpoint,
		ClusterCaCertificate: ca,
		Exec: &[]*k8s.KubernetesProviderExec{{
			ApiVersion: jsii.String(ExecAPIVersion), Command: jsii.String("aws"), Args: args,
		}},
	})
	return &KubernetesProviders{Helm: h, Kubernetes: k}, nil
}
