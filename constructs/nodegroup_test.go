package constructs

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/sqsqueue"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

func nodeGroupProps(stack cdktf.TerraformStack) *NodeGroupProps {
	return &NodeGroupProps{
		ClusterName: jsii.String("spatialprops-dev-eks"), ClusterNameLiteral: "spatialprops-dev-eks",
		ClusterSecurityGroupID: jsii.String("sg-cluster"), VpcID: jsii.String("vpc-1"),
		SubnetIDs: []*string{jsii.String("subnet-a"), jsii.String("subnet-b")},
		RoleName:  "spatialprops-dev-eks-node", InstanceTypes: []string{"m6i.large"},
		MinSize: 2, DesiredSize: 3, MaxSize: 6, DiskSizeGiB: 50,
		Tags: map[string]string{"Environment": "dev", "Project": "spatial-properties", "Service": "cluster",
			"CostCenter": "platform", "Owner": "sre@spatial.properties"},
		DependsOn: sqsqueue.NewSqsQueue(stack, jsii.String("stand-in-for-cluster"), &sqsqueue.SqsQueueConfig{}),
	}
}

func TestNodeGroupIsAutoscalerReady(t *testing.T) {
	stack := newTestStack(t)
	_, err := NewNodeGroup(stack, "nodes", nodeGroupProps(stack))
	require.NoError(t, err)
	doc := synth(t, stack)
	ng := one(t, doc, "aws_eks_node_group")

	assert.Equal(t, "AL2023_x86_64_STANDARD", ng.Get("ami_type").String())
	assert.Equal(t, []string{"m6i.large"}, strs(ng.Get("instance_types")))
	assert.Equal(t, []string{"subnet-a", "subnet-b"}, strs(ng.Get("subnet_ids")))
	assert.Equal(t, int64(2), ng.Get("scaling_config.min_size").Int())
	assert.Equal(t, int64(3), ng.Get("scaling_config.desired_size").Int())
	assert.Equal(t, int64(6), ng.Get("scaling_config.max_size").Int())
	// the autoscaler owns desired_size after creation
	assert.Equal(t, []string{"scaling_config[0].desired_size"}, strs(ng.Get("lifecycle.ignore_changes")))
	// discovery tags the autoscaler and its IAM condition rely on
	assert.Equal(t, "true", ng.Get(`tags.k8s\.io/cluster-autoscaler/enabled`).String())
	assert.Equal(t, "owned", ng.Get(`tags.k8s\.io/cluster-autoscaler/spatialprops-dev-eks`).String())

	lt := one(t, doc, "aws_launch_template")
	assert.Equal(t, "required", lt.Get("metadata_options.http_tokens").String(), "IMDSv2 only")
	assert.Equal(t, int64(1), lt.Get("metadata_options.http_put_response_hop_limit").Int())
	ebs := lt.Get("block_device_mappings.0.ebs")
	assert.Equal(t, "gp3", ebs.Get("volume_type").String())
	assert.Equal(t, "true", ebs.Get("encrypted").String())
	assert.Equal(t, int64(50), ebs.Get("volume_size").Int())
	sgs := strs(lt.Get("vpc_security_group_ids"))
	require.Len(t, sgs, 2, "cluster SG must be listed explicitly next to the node SG")
	assert.Equal(t, "sg-cluster", sgs[0])
	assert.Regexp(t, `^\$\{aws_security_group\.nodes_node-sg_\w+\.id\}$`, sgs[1])

	var policies []string
	for _, a := range resources(doc, "aws_iam_role_policy_attachment") {
		policies = append(policies, a.Get("policy_arn").String())
	}
	assert.ElementsMatch(t, NodePolicies, policies, "worker, CNI and ECR read-only")
}

func TestNodeGroupRejectsBadSizes(t *testing.T) {
	stack := newTestStack(t)
	p := nodeGroupProps(stack)
	p.DesiredSize = 9
	_, err := NewNodeGroup(stack, "nodes", p)
	require.EqualError(t, err, "nodes: desiredSize=9 must lie between minSize=2 and maxSize=6")
	p = nodeGroupProps(newTestStack(t))
	p.MinSize = 0
	_, err = NewNodeGroup(stack, "nodes2", p)
	require.EqualError(t, err, "nodes2: minSize=0 must be at least 1")
}

func TestNodeGroupTagsWhatEC2CreatesAtRunTime(t *testing.T) {
	// GIVEN a node group WHEN it synthesizes THEN the launch template tags
	// instances, their root volumes and ENIs with every required tag:
	// provider default_tags never reach what EC2 launches, and these are
	// the biggest line items of the cost report.
	stack := newTestStack(t)
	_, err := NewNodeGroup(stack, "nodes", nodeGroupProps(stack))
	require.NoError(t, err)
	lt := one(t, synth(t, stack), "aws_launch_template")
	specs := lt.Get("tag_specifications").Array()
	var types []string
	for _, s := range specs {
		types = append(types, s.Get("resource_type").String())
		for _, k := range RequiredTagKeys {
			assert.NotEmpty(t, s.Get("tags."+k).String(), "%s lacks %s", s.Get("resource_type"), k)
		}
		assert.Equal(t, "cluster", s.Get("tags.Service").String())
		assert.Equal(t, "spatialprops-dev-eks-node", s.Get("tags.Name").String())
	}
	assert.Equal(t, []string{"instance", "volume", "network-interface"}, types)
}

func TestNodeGroupRefusesMissingTags(t *testing.T) {
	stack := newTestStack(t)
	p := nodeGroupProps(stack)
	delete(p.Tags, "Owner")
	_, err := NewNodeGroup(stack, "nodes", p)
	require.EqualError(t, err, "nodes: tags lacks required tag(s) [Owner]; instances, volumes and ENIs must carry [Environment Project Service CostCenter Owner]")
}

func TestNodeGroupCapacityAndSchedule(t *testing.T) {
	// GIVEN no capacity type THEN nodes are on-demand and nothing scales
	// them on a clock: what staging and prod get.
	stack := newTestStack(t)
	_, err := NewNodeGroup(stack, "nodes", nodeGroupProps(stack))
	require.NoError(t, err)
	doc := synth(t, stack)
	assert.Equal(t, "ON_DEMAND", one(t, doc, "aws_eks_node_group").Get("capacity_type").String())
	assert.Empty(t, resources(doc, "aws_autoscaling_schedule"))

	// GIVEN Spot across two types and working hours
	stack = newTestStack(t)
	p := nodeGroupProps(stack)
	p.CapacityType, p.InstanceTypes = "SPOT", []string{"m6i.large", "m6a.large"}
	p.Schedule = &NodeSchedule{TimeZone: "Australia/Perth", Up: "0 7 * * MON,TUE,WED,THU,FRI", Down: "0 19 * * MON,TUE,WED,THU,FRI"}
	_, err = NewNodeGroup(stack, "nodes", p)
	require.NoError(t, err)
	doc = synth(t, stack)
	ng := one(t, doc, "aws_eks_node_group")
	assert.Equal(t, "SPOT", ng.Get("capacity_type").String())
	assert.Equal(t, []string{"m6i.large", "m6a.large"}, strs(ng.Get("instance_types")))

	// THEN two scheduled actions act on the group EKS created: up restores
	// the configured sizes, down zeroes max too, or the autoscaler would
	// start a node for the first pending pod of the night.
	byName := map[string]gjson.Result{}
	for _, s := range resources(doc, "aws_autoscaling_schedule") {
		byName[s.Get("scheduled_action_name").String()] = s
		assert.Regexp(t, `^\$\{aws_eks_node_group\.nodes_group_\w+\.resources\[0\]\.autoscaling_groups\[0\]\.name\}$`, s.Get("autoscaling_group_name").String())
		assert.Equal(t, "Australia/Perth", s.Get("time_zone").String())
	}
	require.Len(t, byName, 2)
	up, down := byName["spatialprops-dev-eks-nodes-scale-up"], byName["spatialprops-dev-eks-nodes-scale-down"]
	assert.Equal(t, "0 7 * * MON,TUE,WED,THU,FRI", up.Get("recurrence").String())
	assert.Equal(t, []int64{2, 3, 6}, []int64{up.Get("min_size").Int(), up.Get("desired_capacity").Int(), up.Get("max_size").Int()})
	assert.Equal(t, "0 19 * * MON,TUE,WED,THU,FRI", down.Get("recurrence").String())
	assert.Equal(t, []int64{0, 0, 0}, []int64{down.Get("min_size").Int(), down.Get("desired_capacity").Int(), down.Get("max_size").Int()})
}

func TestNodeGroupRefusesSpotWithOnePool(t *testing.T) {
	stack := newTestStack(t)
	p := nodeGroupProps(stack)
	p.CapacityType = "SPOT"
	_, err := NewNodeGroup(stack, "nodes", p)
	require.EqualError(t, err, "nodes: capacityType=SPOT needs at least two instanceTypes, so one reclaimed pool does not empty the group")
	p.CapacityType = "spot"
	_, err = NewNodeGroup(stack, "nodes", p)
	require.EqualError(t, err, `nodes: capacityType="spot" must be ON_DEMAND or SPOT`)
}
