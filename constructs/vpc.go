package constructs

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/defaultsecuritygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/eip"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/flowlog"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/internetgateway"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/natgateway"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/routetable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/routetableassociation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/subnet"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/vpc"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// VpcProps describes a three-tier-ready VPC for EKS.
type VpcProps struct {
	// Name tags the VPC, e.g. "spatialprops-dev-vpc".
	Name string
	// Cidr is the VPC block.
	Cidr string
	// AZs are full zone names, one public and one private subnet each.
	AZs []string
	// PrivateSubnets and PublicSubnets have one CIDR per AZ, in AZ order.
	PrivateSubnets []string
	PublicSubnets  []string
	// SingleNat routes all private subnets through one NAT gateway (dev);
	// otherwise each AZ gets its own so one zone's outage stays local.
	SingleNat bool
	// ClusterName is written into the subnet discovery tag
	// kubernetes.io/cluster/<name>=shared, used by the LB controller.
	ClusterName string
	// FlowLogRetentionDays is the CloudWatch retention of flow logs.
	FlowLogRetentionDays int
	// FlowLogRoleName is the IAM role the flow-log service assumes.
	FlowLogRoleName string
	// Region selects the CloudWatch Logs principal of the flow-log key.
	Region string
	// Protect keeps the flow-log group and its key from being destroyed.
	Protect bool
	// PermissionsBoundary is the ARN of the env's workload boundary policy
	// (naming.WorkloadBoundary); the CI deploy role may create roles only
	// with it attached.
	PermissionsBoundary *string
}

// Vpc is what the cluster stack consumes.
type Vpc struct {
	VpcID            *string
	PrivateSubnetIDs []*string
	PublicSubnetIDs  []*string
	AZs              []string
	NatGatewayCount  int
}

// NewVpc creates the VPC, subnets, internet and NAT gateways, routes, a
// locked-down default security group and VPC flow logs.
func NewVpc(scope constructs.Construct, id string, props *VpcProps) (*Vpc, error) {
	if err := props.validate(id); err != nil {
		return nil, err
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	v := vpc.NewVpc(node, jsii.String("vpc"), &vpc.VpcConfig{
		CidrBlock:          jsii.String(props.Cidr),
		EnableDnsSupport:   jsii.Bool(true),
		EnableDnsHostnames: jsii.Bool(true), // EKS private endpoint and nodes need DNS hostnames
		Tags:               StringMap(map[string]string{"Name": props.Name}),
	})
	// Adopting the default security group with no rules removes its
	// allow-all-within-group ingress and allow-all egress.
	defaultsecuritygroup.NewDefaultSecurityGroup(node, jsii.String("default-sg"), &defaultsecuritygroup.DefaultSecurityGroupConfig{
		VpcId: v.Id(),
		Tags:  StringMap(map[string]string{"Name": props.Name + "-default-locked"}),
	})
	igw := internetgateway.NewInternetGateway(node, jsii.String("igw"), &internetgateway.InternetGatewayConfig{
		VpcId: v.Id(),
		Tags:  StringMap(map[string]string{"Name": props.Name + "-igw"}),
	})
	clusterTag := "kubernetes.io/cluster/" + props.ClusterName

	publicRT := routetable.NewRouteTable(node, jsii.String("public-rt"), &routetable.RouteTableConfig{
		VpcId: v.Id(),
		Tags:  StringMap(map[string]string{"Name": props.Name + "-public"}),
	})
	route.NewRoute(node, jsii.String("public-default"), &route.RouteConfig{
		RouteTableId: publicRT.Id(), DestinationCidrBlock: jsii.String("0.0.0.0/0"), GatewayId: igw.Id(),
	})

	out := &Vpc{VpcID: v.Id(), AZs: append([]string(nil), props.AZs...)}
	var nats []natgateway.NatGateway
	for i, az := range props.AZs {
		pub := subnet.NewSubnet(node, jsii.String(fmt.Sprintf("public-%s", az)), &subnet.SubnetConfig{
			VpcId:            v.Id(),
			CidrBlock:        jsii.String(props.PublicSubnets[i]),
			AvailabilityZone: jsii.String(az),
			// Nothing launched here needs an automatic public IP: NAT gateways
			// use Elastic IPs and load balancers get their own addresses.
			MapPublicIpOnLaunch: jsii.Bool(false),
			Tags: StringMap(map[string]string{
				"Name": fmt.Sprintf("%s-public-%s", props.Name, az), "kubernetes.io/role/elb": "1", clusterTag: "shared",
			}),
		})
		routetableassociation.NewRouteTableAssociation(node, jsii.String("public-rta-"+az), &routetableassociation.RouteTableAssociationConfig{
			SubnetId: pub.Id(), RouteTableId: publicRT.Id(),
		})
		out.PublicSubnetIDs = append(out.PublicSubnetIDs, pub.Id())

		if i == 0 || !props.SingleNat {
			ip := eip.NewEip(node, jsii.String("nat-eip-"+az), &eip.EipConfig{
				Domain: jsii.String("vpc"),
				Tags:   StringMap(map[string]string{"Name": fmt.Sprintf("%s-nat-%s", props.Name, az)}),
			})
			nats = append(nats, natgateway.NewNatGateway(node, jsii.String("nat-"+az), &natgateway.NatGatewayConfig{
				AllocationId: ip.Id(),
				SubnetId:     pub.Id(),
				Tags:         StringMap(map[string]string{"Name": fmt.Sprintf("%s-nat-%s", props.Name, az)}),
				DependsOn:    &[]cdktf.ITerraformDependable{igw},
			}))
		}
	}
	out.NatGatewayCount = len(nats)

	for i, az := range props.AZs {
		priv := subnet.NewSubnet(node, jsii.String(fmt.Sprintf("private-%s", az)), &subnet.SubnetConfig{
			VpcId:            v.Id(),
			CidrBlock:        jsii.String(props.PrivateSubnets[i]),
			AvailabilityZone: jsii.String(az),
			Tags: StringMap(map[string]string{
				"Name": fmt.Sprintf("%s-private-%s", props.Name, az), "kubernetes.io/role/internal-elb": "1", clusterTag: "shared",
			}),
		})
		nat := nats[0]
		if !props.SingleNat {
			nat = nats[i]
		}
		rt := routetable.NewRouteTable(node, jsii.String("private-rt-"+az), &routetable.RouteTableConfig{
			VpcId: v.Id(),
			Tags:  StringMap(map[string]string{"Name": fmt.Sprintf("%s-private-%s", props.Name, az)}),
		})
		route.NewRoute(node, jsii.String("private-default-"+az), &route.RouteConfig{
			RouteTableId: rt.Id(), DestinationCidrBlock: jsii.String("0.0.0.0/0"), NatGatewayId: nat.Id(),
		})
		routetableassociation.NewRouteTableAssociation(node, jsii.String("private-rta-"+az), &routetableassociation.RouteTableAssociationConfig{
			SubnetId: priv.Id(), RouteTableId: rt.Id(),
		})
		out.PrivateSubnetIDs = append(out.PrivateSubnetIDs, priv.Id())
	}

	if err := newFlowLogs(node, v.Id(), props); err != nil {
		return nil, err
	}
	return out, nil
}

func newFlowLogs(scope constructs.Construct, vpcID *string, props *VpcProps) error {
	name := "/aws/vpc/" + props.Name + "/flow-logs"
	key, err := NewLogsKey(scope, "flow-logs-key", &LogsKeyProps{
		Alias: "alias/" + props.Name + "-flow-logs", Region: props.Region, LogGroupNames: []string{name}, Protect: props.Protect,
	})
	if err != nil {
		return err
	}
	group, err := NewLogGroup(scope, "flow-logs", &LogGroupProps{
		Name: name, RetentionDays: props.FlowLogRetentionDays, KmsKeyArn: key, Protect: props.Protect,
	})
	if err != nil {
		return err
	}
	trust := NewPolicyDocument(scope, "flow-logs-trust", Statement{
		Actions:    []string{"sts:AssumeRole"},
		Principals: []Principal{{Type: "Service", Identifiers: []string{"vpc-flow-logs.amazonaws.com"}}},
	})
	role := iamrole.NewIamRole(scope, jsii.String("flow-logs-role"), &iamrole.IamRoleConfig{
		Name:                jsii.String(props.FlowLogRoleName),
		Path:                jsii.String(naming.WorkloadRolePath),
		AssumeRolePolicy:    trust.Json(),
		PermissionsBoundary: props.PermissionsBoundary,
	})
	// Only this log group: the service creates streams and writes events.
	perms := NewPolicyDocument(scope, "flow-logs-permissions", Statement{
		Actions:   []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
		Resources: []string{*group.Arn(), *group.Arn() + ":*"},
	})
	iamrolepolicy.NewIamRolePolicy(scope, jsii.String("flow-logs-policy"), &iamrolepolicy.IamRolePolicyConfig{
		Role: role.Id(), Policy: perms.Json(),
	})
	flowlog.NewFlowLog(scope, jsii.String("flow-log"), &flowlog.FlowLogConfig{
		VpcId:          vpcID,
		TrafficType:    jsii.String("ALL"),
		LogDestination: group.Arn(),
		IamRoleArn:     role.Arn(),
	})
	return nil
}

func (p *VpcProps) validate(id string) error {
	switch {
	case p == nil:
		return fmt.Errorf("%s: props are required", id)
	case p.Name == "" || p.Cidr == "" || p.ClusterName == "" || p.FlowLogRoleName == "" || p.Region == "":
		return fmt.Errorf("%s: name, cidr, clusterName, flowLogRoleName and region are required", id)
	case len(p.AZs) < 2:
		return fmt.Errorf("%s: azs has %d zone(s); EKS needs at least 2", id, len(p.AZs))
	case len(p.PrivateSubnets) != len(p.AZs):
		return fmt.Errorf("%s: privateSubnets has %d entries for %d azs; give one per AZ", id, len(p.PrivateSubnets), len(p.AZs))
	case len(p.PublicSubnets) != len(p.AZs):
		return fmt.Errorf("%s: publicSubnets has %d entries for %d azs; give one per AZ", id, len(p.PublicSubnets), len(p.AZs))
	case p.FlowLogRetentionDays < 1:
		return fmt.Errorf("%s: flowLogRetentionDays must be positive", id)
	}
	return nil
}
