package stacks

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/storageclassv1"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// Service accounts the platform's IRSA roles trust. They are set
// explicitly in each chart's values so the trust and the chart cannot drift
// (the autoscaler chart's default would be <release>-aws-cluster-autoscaler).
const (
	AutoscalerServiceAccount = "cluster-autoscaler"
	LBCServiceAccount        = "aws-load-balancer-controller"
)

// PlatformOutputs are the controllers' IAM roles.
type PlatformOutputs struct {
	AutoscalerRoleArn *string
	LBCRoleArn        *string
	// ExternalSecretsRoleArn is External Secrets Operator's IRSA role.
	ExternalSecretsRoleArn *string
	// StorageClass is the default, encrypted gp3 class PVCs get.
	StorageClass string
}

// DefaultStorageClass is the name of the encrypted gp3 default class.
const DefaultStorageClass = "gp3-encrypted"

// LoadBalancerTagService is the Service tag of the load balancers the AWS
// Load Balancer Controller creates: they carry the services' ingress
// traffic, so their cost is reported apart from the platform controllers.
const LoadBalancerTagService = "ingress"

// NewPlatformStack installs the base controllers into the cluster created by
// the cluster stack: metrics-server, cluster-autoscaler, the AWS Load
// Balancer Controller, External Secrets Operator, cert-manager with the
// AWS Private CA issuer, plus the default encrypted gp3 StorageClass.
func NewPlatformStack(scope constructs.Construct, cfg *envs.Config, net *NetworkOutputs, cluster *ClusterOutputs) (*PlatformOutputs, error) {
	k8s, ok := envs.KubernetesVersions[cfg.Cluster.Version]
	if !ok { // the config refuses it first; this guards a Config built by hand
		return nil, fmt.Errorf("cluster.version %s is not supported; use one of %s", cfg.Cluster.Version, strings.Join(envs.SupportedKubernetesVersions(), ", "))
	}
	imageTag := k8s.AutoscalerImageTag
	b, err := newBase(scope, cfg, Platform)
	if err != nil {
		return nil, err
	}
	if err := b.kubernetesProviders(cluster); err != nil {
		return nil, err
	}

	storageClass := newDefaultStorageClass(b.stack, cfg.Protect())
	if err := newServicesNamespace(b.stack, cfg); err != nil {
		return nil, err
	}
	if err := newKubeSystemPolicies(b.stack); err != nil {
		return nil, err
	}

	if _, err := sp.NewHelmRelease(b.stack, "metrics-server", &sp.HelmReleaseProps{
		Chart: MetricsServerChart, ReleaseName: naming.ReleaseMetricsServer, Namespace: naming.NamespaceKubeSystem,
		Values: map[string]any{
			// Two replicas and a PDB keep HPA working through node drains.
			"replicas":            2,
			"podDisruptionBudget": map[string]any{"enabled": true, "minAvailable": 1},
			// No --kubelet-insecure-tls: EKS kubelets serve certificates
			// signed by the cluster CA, which metrics-server verifies. The
			// chart's defaultArgs already prefer the node's InternalIP.
			"args": []string{},
			// The chart's container securityContext is already restricted
			// (non-root 1000, read-only root, no capabilities).
			"resources": podResources("100m", "200Mi", "1", "400Mi"),
		},
	}); err != nil {
		return nil, err
	}

	autoscaler, err := newAutoscaler(b, cluster, imageTag)
	if err != nil {
		return nil, err
	}
	lbc, err := newLoadBalancerController(b, net, cluster)
	if err != nil {
		return nil, err
	}
	eso, err := newExternalSecrets(b, cluster)
	if err != nil {
		return nil, err
	}
	if err := newCertManager(b); err != nil {
		return nil, err
	}
	b.output("cluster_autoscaler_role_arn", "IRSA role of cluster-autoscaler", autoscaler, false)
	b.output("aws_lbc_role_arn", "IRSA role of the AWS Load Balancer Controller", lbc, false)
	b.output("external_secrets_role_arn", "IRSA role of External Secrets Operator (reads "+b.names.SecretPrefix()+"* only)", eso, false)
	return &PlatformOutputs{AutoscalerRoleArn: autoscaler, LBCRoleArn: lbc, ExternalSecretsRoleArn: eso, StorageClass: storageClass}, nil
}

// newDefaultStorageClass makes encrypted gp3 the default for every PVC
// (Prometheus, Loki, Tempo). Outside dev, volumes are retained when a PVC
// is deleted, so a mistaken uninstall loses no data.
func newDefaultStorageClass(stack cdktf.TerraformStack, protect bool) string {
	reclaim := "Delete"
	if protect {
		reclaim = "Retain"
	}
	storageclassv1.NewStorageClassV1(stack, jsii.String("gp3"), &storageclassv1.StorageClassV1Config{
		Metadata: &storageclassv1.StorageClassV1Metadata{
			Name:        jsii.String(DefaultStorageClass),
			Annotations: &map[string]*string{"storageclass.kubernetes.io/is-default-class": jsii.String("true")},
		},
		StorageProvisioner:   jsii.String("ebs.csi.aws.com"),
		ReclaimPolicy:        jsii.String(reclaim),
		VolumeBindingMode:    jsii.String("WaitForFirstConsumer"), // create the volume in the pod's AZ
		AllowVolumeExpansion: jsii.Bool(true),
		Parameters: &map[string]*string{
			"type": jsii.String("gp3"), "encrypted": jsii.String("true"), "csi.storage.k8s.io/fstype": jsii.String("ext4"),
		},
	})
	return DefaultStorageClass
}

// AutoscalerReadActions are what cluster-autoscaler reads to plan; they do
// not support resource-level scoping, hence "*".
var AutoscalerReadActions = []string{
	"autoscaling:DescribeAutoScalingGroups",
	"autoscaling:DescribeAutoScalingInstances",
	"autoscaling:DescribeLaunchConfigurations",
	"autoscaling:DescribeScalingActivities",
	"autoscaling:DescribeTags",
	"ec2:DescribeImages",
	"ec2:DescribeInstanceTypes",
	"ec2:DescribeLaunchTemplateVersions",
	"ec2:GetInstanceTypesFromInstanceRequirements",
	"eks:DescribeNodegroup",
}

// AutoscalerWriteActions change capacity; they are allowed only on ASGs
// tagged k8s.io/cluster-autoscaler/<cluster>=owned, i.e. this cluster's.
var AutoscalerWriteActions = []string{
	"autoscaling:SetDesiredCapacity",
	"autoscaling:TerminateInstanceInAutoScalingGroup",
}

func newAutoscaler(b *base, cluster *ClusterOutputs, imageTag string) (*string, error) {
	role, err := sp.NewIrsaRole(b.stack, "cluster-autoscaler-irsa", &sp.IrsaRoleProps{
		RoleName:            b.names.Role("irsa-cluster-autoscaler"),
		PermissionsBoundary: b.boundaryArn(),
		OidcProviderArn:     cluster.OidcProviderArn,
		OidcIssuerURL:       cluster.OidcIssuerURL,
		Namespace:           naming.NamespaceKubeSystem,
		ServiceAccount:      AutoscalerServiceAccount,
		Statements: []sp.Statement{
			{Sid: "ReadScalingState", Actions: AutoscalerReadActions, Resources: []string{"*"}},
			{
				Sid: "ScaleOnlyThisClustersGroups", Actions: AutoscalerWriteActions, Resources: []string{"*"},
				Conditions: []sp.Condition{{
					Test: "StringEquals", Variable: "aws:ResourceTag/k8s.io/cluster-autoscaler/" + cluster.Name, Values: []string{"owned"},
				}},
			},
		},
	})
	if err != nil {
		return nil, err
	}
	_, err = sp.NewHelmRelease(b.stack, "cluster-autoscaler", &sp.HelmReleaseProps{
		Chart: ClusterAutoscalerChart, ReleaseName: naming.ReleaseClusterAutoscaler, Namespace: naming.NamespaceKubeSystem,
		Values: map[string]any{
			"cloudProvider": "aws",
			"awsRegion":     b.cfg.Region,
			"autoDiscovery": map[string]any{"clusterName": cluster.Name},
			"image":         map[string]any{"tag": imageTag},
			"rbac": map[string]any{"serviceAccount": map[string]any{
				"create": true, "name": AutoscalerServiceAccount, "annotations": role.Annotation,
			}},
			"extraArgs": map[string]any{
				"balance-similar-node-groups": true,
				"expander":                    "least-waste",
				// Every emptyDir in this cluster is scratch (/tmp, sidecar
				// output, Grafana's provisioned SQLite); durable state sits
				// on EBS volumes that follow the pod. With true, any node
				// running Grafana, Loki, Tempo, NATS or a service (all mount
				// an emptyDir) could never be removed. A pod whose emptyDir
				// must not be lost opts out with the annotation
				// cluster-autoscaler.kubernetes.io/safe-to-evict: "false".
				"skip-nodes-with-local-storage": false,
			},
			// The chart leaves both security contexts empty. fsGroup lets
			// the non-root process read the projected IRSA token.
			"securityContext": map[string]any{
				"runAsNonRoot": true, "runAsUser": 65534, "runAsGroup": 65534, "fsGroup": 65534,
				"seccompProfile": map[string]any{"type": "RuntimeDefault"},
			},
			"containerSecurityContext": restrictedContainer(),
			"resources":                podResources("100m", "300Mi", "1", "600Mi"),
		},
	})
	return role.RoleArn, err
}

func newLoadBalancerController(b *base, net *NetworkOutputs, cluster *ClusterOutputs) (*string, error) {
	role, err := sp.NewIrsaRole(b.stack, "aws-lbc-irsa", &sp.IrsaRoleProps{
		RoleName:            b.names.Role("irsa-aws-lbc"),
		PermissionsBoundary: b.boundaryArn(),
		OidcProviderArn:     cluster.OidcProviderArn,
		OidcIssuerURL:       cluster.OidcIssuerURL,
		Namespace:           naming.NamespaceLBC,
		ServiceAccount:      LBCServiceAccount,
		Statements:          sp.LoadBalancerControllerStatements(),
	})
	if err != nil {
		return nil, err
	}
	ns, err := sp.NewNamespace(b.stack, "aws-lbc-namespace", &sp.NamespaceProps{
		Name: naming.NamespaceLBC,
		Policies: []sp.IngressAllow{{
			Name:      "webhook-from-api-server",
			PodLabels: map[string]string{"app.kubernetes.io/name": "aws-load-balancer-controller"},
			Ports:     []int{LBCWebhookPort},
			AnySourceReason: "the EKS API server calls the pod and service mutating webhooks from control-plane " +
				"ENIs in the cluster subnets, which share addresses with pods; the port serves TLS only",
		}},
	})
	if err != nil {
		return nil, err
	}
	_, err = sp.NewHelmRelease(b.stack, "aws-load-balancer-controller", &sp.HelmReleaseProps{
		Chart: LoadBalancerControllerChart, ReleaseName: naming.ReleaseLBC, Namespace: naming.NamespaceLBC,
		Values: map[string]any{
			"clusterName": cluster.Name,
			// Given explicitly: nodes enforce an IMDSv2 hop limit of 1, so
			// the controller cannot discover them from instance metadata.
			"region":              b.cfg.Region,
			"vpcId":               net.VpcID,
			"replicaCount":        2,
			"podDisruptionBudget": map[string]any{"maxUnavailable": 1},
			// Tags every load balancer, target group and security group the
			// controller creates; provider default_tags never reach them.
			"defaultTags": Tags(b.cfg, LoadBalancerTagService),
			"serviceAccount": map[string]any{
				"create": true, "name": LBCServiceAccount, "annotations": role.Annotation,
			},
			// The chart's defaults keep capabilities and seccomp, which the
			// restricted Pod Security level refuses.
			"podSecurityContext": map[string]any{
				"fsGroup": 65534, "runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"},
			},
			"securityContext": restrictedContainer(),
			"resources":       podResources("50m", "128Mi", "500m", "512Mi"),
		},
		DependsOn: []cdktf.ITerraformDependable{ns.Resource},
	})
	return role.RoleArn, err
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
