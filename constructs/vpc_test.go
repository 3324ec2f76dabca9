package constructs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

func vpcProps(single bool) *VpcProps {
	return &VpcProps{
		Name: "spatialprops-dev-vpc", Cidr: "10.0.0.0/16",
		AZs:                  []string{"ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"},
		PrivateSubnets:       []string{"10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"},
		PublicSubnets:        []string{"10.0.101.0/24", "10.0.102.0/24", "10.0.103.0/24"},
		SingleNat:            single,
		ClusterName:          "spatialprops-dev-eks",
		FlowLogRetentionDays: 30,
		FlowLogRoleName:      "spatialprops-dev-vpc-flow-logs",
		Region:               "ap-southeast-2",
	}
}

func subnetsByRole(doc gjson.Result) (public, private []gjson.Result) {
	for _, s := range resources(doc, "aws_subnet") {
		if s.Get(`tags.kubernetes\.io/role/elb`).String() == "1" {
			public = append(public, s)
		}
		if s.Get(`tags.kubernetes\.io/role/internal-elb`).String() == "1" {
			private = append(private, s)
		}
	}
	return public, private
}

func TestVpcSingleNat(t *testing.T) {
	stack := newTestStack(t)
	out, err := NewVpc(stack, "vpc", vpcProps(true))
	require.NoError(t, err)
	doc := synth(t, stack)

	v := one(t, doc, "aws_vpc")
	assert.Equal(t, "10.0.0.0/16", v.Get("cidr_block").String())
	assert.True(t, v.Get("enable_dns_support").Bool())
	assert.True(t, v.Get("enable_dns_hostnames").Bool(), "EKS nodes and the private endpoint need DNS hostnames")
	assert.Len(t, resources(doc, "aws_nat_gateway"), 1, "dev runs one NAT gateway")
	assert.Equal(t, 1, out.NatGatewayCount)
	assert.Len(t, out.PrivateSubnetIDs, 3)
	assert.Len(t, out.PublicSubnetIDs, 3)

	public, private := subnetsByRole(doc)
	require.Len(t, public, 3, "one public subnet per AZ, tagged for internet-facing load balancers")
	require.Len(t, private, 3, "one private subnet per AZ, tagged for internal load balancers")
	for i, s := range private {
		assert.Equal(t, vpcProps(true).PrivateSubnets[i], s.Get("cidr_block").String())
		assert.Equal(t, vpcProps(true).AZs[i], s.Get("availability_zone").String())
		assert.Equal(t, "shared", s.Get(`tags.kubernetes\.io/cluster/spatialprops-dev-eks`).String())
	}
	for i, s := range public {
		assert.Equal(t, vpcProps(true).PublicSubnets[i], s.Get("cidr_block").String())
		assert.False(t, s.Get("map_public_ip_on_launch").Bool(), "nothing needs automatic public IPs")
	}
	// 1 public route table + 1 per private subnet, each associated
	assert.Len(t, resources(doc, "aws_route_table"), 4)
	assert.Len(t, resources(doc, "aws_route_table_association"), 6)
}

func TestVpcNatPerAZ(t *testing.T) {
	stack := newTestStack(t)
	out, err := NewVpc(stack, "vpc", vpcProps(false))
	require.NoError(t, err)
	doc := synth(t, stack)
	assert.Len(t, resources(doc, "aws_nat_gateway"), 3, "production keeps egress working when one AZ fails")
	assert.Len(t, resources(doc, "aws_eip"), 3)
	assert.Equal(t, 3, out.NatGatewayCount)
	// each private route goes through a distinct NAT
	seen := map[string]bool{}
	for _, r := range resources(doc, "aws_route") {
		if nat := r.Get("nat_gateway_id").String(); nat != "" {
			assert.False(t, seen[nat], "private route tables share NAT %s", nat)
			seen[nat] = true
		}
	}
	assert.Len(t, seen, 3)
}

func TestVpcLocksDownDefaultSecurityGroupAndLogsFlows(t *testing.T) {
	stack := newTestStack(t)
	_, err := NewVpc(stack, "vpc", vpcProps(true))
	require.NoError(t, err)
	doc := synth(t, stack)
	sg := one(t, doc, "aws_default_security_group")
	assert.False(t, sg.Get("ingress").Exists(), "default SG must have no ingress rules")
	assert.False(t, sg.Get("egress").Exists(), "default SG must have no egress rules")

	fl := one(t, doc, "aws_flow_log")
	assert.Equal(t, "ALL", fl.Get("traffic_type").String())
	assert.Contains(t, fl.Get("log_destination").String(), "aws_cloudwatch_log_group.")
	assert.Equal(t, int64(30), one(t, doc, "aws_cloudwatch_log_group").Get("retention_in_days").Int())
	// the flow-log role may only write to its own log group
	for _, d := range policyDocs(doc) {
		for _, s := range d.Get("statement").Array() {
			if !strings.HasPrefix(strs(s.Get("actions"))[0], "logs:") {
				continue // the log key's policy: "*" is the key itself
			}
			for _, r := range strs(s.Get("resources")) {
				assert.NotEqual(t, "*", r, "flow-log permissions must be scoped to the log group")
			}
		}
	}
	// flow logs are encrypted with their own CMK
	assert.Contains(t, one(t, doc, "aws_cloudwatch_log_group").Get("kms_key_id").String(), "aws_kms_key.")
}

func TestVpcRejectsBadProps(t *testing.T) {
	cases := map[string]struct {
		edit func(*VpcProps)
		want string
	}{
		"one AZ": {func(p *VpcProps) {
			p.AZs, p.PrivateSubnets, p.PublicSubnets = p.AZs[:1], p.PrivateSubnets[:1], p.PublicSubnets[:1]
		}, "vpc: azs has 1 zone(s); EKS needs at least 2"},
		"subnet count mismatch": {func(p *VpcProps) { p.PrivateSubnets = p.PrivateSubnets[:2] },
			"vpc: privateSubnets has 2 entries for 3 azs; give one per AZ"},
		"missing cluster name": {func(p *VpcProps) { p.ClusterName = "" },
			"vpc: name, cidr, clusterName, flowLogRoleName and region are required"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := vpcProps(true)
			tc.edit(p)
			_, err := NewVpc(newTestStack(t), "vpc", p)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}
