package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// NetworkOutputs are what the cluster stack consumes.
type NetworkOutputs struct {
	VpcID            *string
	PrivateSubnetIDs []*string
	PublicSubnetIDs  []*string
	AZs              []string
}

// NewNetworkStack creates the environment's VPC: one public and one private
// subnet per AZ, NAT per config, tagged for EKS load-balancer discovery.
func NewNetworkStack(scope constructs.Construct, cfg *envs.Config) (*NetworkOutputs, error) {
	b, err := newBase(scope, cfg, Network)
	if err != nil {
		return nil, err
	}
	n := cfg.Network
	v, err := sp.NewVpc(b.stack, "vpc", &sp.VpcProps{
		Name:                 b.names.Vpc(),
		Cidr:                 n.VpcCidr,
		AZs:                  cfg.FullAZs(),
		PrivateSubnets:       n.PrivateSubnets,
		PublicSubnets:        n.PublicSubnets,
		SingleNat:            n.NatMode == envs.NatSingle,
		ClusterName:          b.names.Cluster(),
		FlowLogRetentionDays: n.FlowLogRetentionDays,
		FlowLogRoleName:      b.names.Role("vpc-flow-logs"),
		Region:               cfg.Region,
		Protect:              cfg.Protect(),
		PermissionsBoundary:  b.boundaryArn(),
	})
	if err != nil {
		return nil, err
	}
	b.output("vpc_id", "VPC id", v.VpcID, false)
	b.output("private_subnet_ids", "Private subnet ids, in AZ order", v.PrivateSubnetIDs, false)
	b.output("public_subnet_ids", "Public subnet ids, in AZ order", v.PublicSubnetIDs, false)
	b.output("azs", "Availability zones", v.AZs, false)
	return &NetworkOutputs{VpcID: v.VpcID, PrivateSubnetIDs: v.PrivateSubnetIDs, PublicSubnetIDs: v.PublicSubnetIDs, AZs: v.AZs}, nil
}
