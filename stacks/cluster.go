package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// ClusterOutputs are what the Kubernetes-side stacks and cicd consume.
type ClusterOutputs struct {
	// Name is the literal cluster name (known at synth time).
	Name                   string
	NameRef                *string
	Arn                    *string
	Endpoint               *string
	CertificateAuthority   *string
	OidcProviderArn        *string
	OidcIssuerURL          *string
	NodeSecurityGroupID    *string
	ClusterSecurityGroupID *string
	VpcID                  *string
}

// NewClusterStack creates the EKS control plane, the IRSA OIDC provider,
// the managed node group and the managed addons. It installs no Helm chart:
// a stack that creates a cluster cannot also configure providers against
// it in the same plan.
func NewClusterStack(scope constructs.Construct, cfg *envs.Config, net *NetworkOutputs) (*ClusterOutputs, error) {
	b, err := newBase(scope, cfg, Cluster)
	if err != nil {
		return nil, err
	}
	addons := envs.KubernetesVersions[cfg.Cluster.Version].EksAddons
	if len(addons) == 0 {
		return nil, fmt.Errorf("cluster.version %s has no pinned EKS add-on versions; add them to KubernetesVersions in envs/kubernetes.go (known: %s)",
			cfg.Cluster.Version, strings.Join(envs.SupportedKubernetesVersions(), ", "))
	}
	k := cfg.Cluster
	cluster, err := sp.NewEksCluster(b.stack, "eks", &sp.EksClusterProps{
		Name:                 b.names.Cluster(),
		Version:              k.Version,
		SubnetIDs:            net.PrivateSubnetIDs,
		EnablePublicEndpoint: *k.EndpointPublicAccess,
		PublicAccessCidrs:    k.PublicAccessCidrs,
		BreakGlassRoleArn:    k.BreakGlassRoleArn,
		PermissionsBoundary:  b.boundaryArn(),
		LogRetentionDays:     k.LogRetentionDays,
		LogTypes:             k.LogTypes,
		Region:               cfg.Region,
		RoleName:             b.names.Role("eks-cluster"),
		SecretsKeyAlias:      "alias/" + b.names.Prefix() + "-eks-secrets",
		Protect:              cfg.Protect(),
	})
	if err != nil {
		return nil, err
	}
	g := k.NodeGroup
	nodes, err := sp.NewNodeGroup(b.stack, "nodes", &sp.NodeGroupProps{
		ClusterName:            cluster.Name,
		ClusterNameLiteral:     b.names.Cluster(),
		ClusterSecurityGroupID: cluster.ClusterSecurityGroupID,
		VpcID:                  net.VpcID,
		SubnetIDs:              net.PrivateSubnetIDs,
		RoleName:               b.names.Role("eks-node"),
		PermissionsBoundary:    b.boundaryArn(),
		InstanceTypes:          g.InstanceTypes,
		MinSize:                g.MinSize,
		DesiredSize:            g.DesiredSize,
		MaxSize:                g.MaxSize,
		DiskSizeGiB:            g.DiskSizeGiB,
		Tags:                   Tags(cfg, Cluster),
		DependsOn:              cluster.Dependable,
		CapacityType:           g.CapacityType,
		Schedule:               nodeSchedule(g.WorkingHours),
	})
	if err != nil {
		return nil, err
	}
	if _, err := sp.NewEksAddons(b.stack, "addons", &sp.EksAddonsProps{
		Versions:            addons,
		ClusterName:         cluster.Name,
		OidcProviderArn:     cluster.OidcProviderArn,
		OidcIssuerURL:       cluster.OidcIssuerURL,
		EbsCsiRoleName:      b.names.Role("irsa-ebs-csi"),
		PermissionsBoundary: b.boundaryArn(),
		VolumeTags:          Tags(cfg, Cluster),
		Nodes:               nodes.Dependable,
	}); err != nil {
		return nil, err
	}
	b.output("cluster_name", "EKS cluster name", cluster.Name, false)
	b.output("cluster_endpoint", "EKS API endpoint", cluster.Endpoint, false)
	b.output("cluster_certificate_authority", "Base64 CA bundle of the API endpoint", cluster.CertificateAuthority, false)
	b.output("oidc_issuer_url", "OIDC issuer for IRSA", cluster.OidcIssuerURL, false)
	b.output("oidc_provider_arn", "IAM OIDC provider ARN", cluster.OidcProviderArn, false)
	b.output("node_security_group_id", "Additional node security group", nodes.NodeSecurityGroupID, false)
	b.output("cluster_security_group_id", "EKS-managed cluster security group", cluster.ClusterSecurityGroupID, false)
	return &ClusterOutputs{
		Name:                   b.names.Cluster(),
		NameRef:                cluster.Name,
		Arn:                    cluster.Arn,
		Endpoint:               cluster.Endpoint,
		CertificateAuthority:   cluster.CertificateAuthority,
		OidcProviderArn:        cluster.OidcProviderArn,
		OidcIssuerURL:          cluster.OidcIssuerURL,
		NodeSecurityGroupID:    nodes.NodeSecurityGroupID,
		ClusterSecurityGroupID: cluster.ClusterSecurityGroupID,
		VpcID:                  net.VpcID,
	}, nil
}

// nodeSchedule turns the env's working hours into the node group's
// scheduled actions; nil keeps the nodes running around the clock.
func nodeSchedule(w *envs.WorkingHours) *sp.NodeSchedule {
	if w == nil {
		return nil
	}
	up, down := w.Recurrences()
	return &sp.NodeSchedule{TimeZone: w.TimeZone, Up: up, Down: down}
}
