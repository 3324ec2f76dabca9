package constructs

import (
	"encoding/json"
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/eksaddon"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// EbsCsiPolicyArn is the AWS-maintained policy for the EBS CSI driver.
const EbsCsiPolicyArn = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"

// VpcCniConfiguration turns on the VPC CNI's network policy agent, so the
// NetworkPolicies the stacks create are enforced; without it they are
// accepted by the API server and silently ignored.
const VpcCniConfiguration = `{"enableNetworkPolicy":"true"}`

// EksAddonsProps selects the managed addons' dependencies.
type EksAddonsProps struct {
	ClusterName     *string
	OidcProviderArn *string
	OidcIssuerURL   *string
	// EbsCsiRoleName is the IRSA role of the EBS CSI controller.
	EbsCsiRoleName string
	// PermissionsBoundary is the ARN of the env's workload boundary policy
	// (naming.WorkloadBoundary); the CI deploy role may create roles only
	// with it attached.
	PermissionsBoundary *string
	// VolumeTags are the required tags (RequiredTagKeys) the EBS CSI driver
	// puts on every volume and snapshot it creates for a PVC (its
	// controller.extraVolumeTags); provider default_tags never reach them.
	VolumeTags map[string]string
	// Nodes must exist before coredns and the EBS CSI controller can
	// schedule, or the addons sit DEGRADED and terraform times out.
	Nodes cdktf.ITerraformDependable
	// Versions pins each addon (EksAddonNames) to an exact version built
	// for the cluster's Kubernetes minor (`aws eks describe-addon-versions
	// --kubernetes-version <minor>`), so an addon changes only in a
	// reviewed commit, never because EKS's default moved.
	Versions map[string]string
}

// EksAddonNames are the managed addons a fresh cluster needs, in order.
var EksAddonNames = []string{"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"}

// EksAddons are the addons a fresh cluster needs.
type EksAddons struct {
	Names         []string
	EbsCsiRoleArn *string
}

// NewEksAddons installs vpc-cni, kube-proxy, coredns and the EBS CSI driver
// as EKS managed addons, each at its pinned version (props.Versions): a
// control-plane upgrade comes with a commit that moves them too.
func NewEksAddons(scope constructs.Construct, id string, props *EksAddonsProps) (*EksAddons, error) {
	if props == nil || props.ClusterName == nil || props.Nodes == nil || props.EbsCsiRoleName == "" {
		return nil, fmt.Errorf("%s: clusterName, nodes and ebsCsiRoleName are required", id)
	}
	for _, name := range EksAddonNames {
		if props.Versions[name] == "" {
			return nil, fmt.Errorf("%s: no version pinned for addon %s", id, name)
		}
	}
	if missing := MissingTags(props.VolumeTags); len(missing) > 0 {
		return nil, fmt.Errorf("%s: volumeTags lacks required tag(s) %v; every EBS volume must carry %v", id, missing, RequiredTagKeys)
	}
	ebsConfig, err := json.Marshal(map[string]any{"controller": map[string]any{"extraVolumeTags": props.VolumeTags}})
	if err != nil {
		return nil, err
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	ebs, err := NewIrsaRole(node, "ebs-csi-irsa", &IrsaRoleProps{
		RoleName:            props.EbsCsiRoleName,
		OidcProviderArn:     props.OidcProviderArn,
		OidcIssuerURL:       props.OidcIssuerURL,
		Namespace:           "kube-system",
		ServiceAccount:      "ebs-csi-controller-sa",
		ManagedPolicyArns:   []string{EbsCsiPolicyArn},
		PermissionsBoundary: props.PermissionsBoundary,
	})
	if err != nil {
		return nil, err
	}
	out := &EksAddons{EbsCsiRoleArn: ebs.RoleArn}
	for _, name := range EksAddonNames {
		cfg := &eksaddon.EksAddonConfig{
			ClusterName:              props.ClusterName,
			AddonName:                jsii.String(name),
			AddonVersion:             jsii.String(props.Versions[name]),
			ResolveConflictsOnCreate: jsii.String("OVERWRITE"),
			ResolveConflictsOnUpdate: jsii.String("PRESERVE"),
		}
		if name == "coredns" || name == "aws-ebs-csi-driver" {
			cfg.DependsOn = &[]cdktf.ITerraformDependable{props.Nodes}
		}
		if name == "aws-ebs-csi-driver" {
			cfg.ServiceAccountRoleArn = ebs.RoleArn
			cfg.ConfigurationValues = jsii.String(string(ebsConfig))
		}
		if name == "vpc-cni" {
			cfg.ConfigurationValues = jsii.String(VpcCniConfiguration)
		}
		eksaddon.NewEksAddon(node, jsii.String(name), cfg)
		out.Names = append(out.Names, name)
	}
	return out, nil
}
