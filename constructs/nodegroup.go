package constructs

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/autoscalingschedule"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/eksnodegroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/launchtemplate"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/securitygroup"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// NodePolicies are the AWS managed policies every EKS worker needs: join
// the cluster, run the VPC CNI, and pull images from ECR.
var NodePolicies = []string{
	"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
	"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
	"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
}

// NodeGroupProps sizes a managed node group.
type NodeGroupProps struct {
	ClusterName *string
	// ClusterNameLiteral is the plain cluster name for the autoscaler
	// discovery tag key, which cannot be a token.
	ClusterNameLiteral     string
	ClusterSecurityGroupID *string
	VpcID                  *string
	SubnetIDs              []*string
	RoleName               string
	// PermissionsBoundary is the ARN of the env's workload boundary policy
	// (naming.WorkloadBoundary); the CI deploy role may create roles only
	// with it attached.
	PermissionsBoundary *string
	InstanceTypes       []string
	MinSize             int
	DesiredSize         int
	MaxSize             int
	DiskSizeGiB         int
	// Tags are the required tags (RequiredTagKeys) for what EC2 creates
	// from the launch template: instances, their volumes and their network
	// interfaces. Provider default_tags reach only resources Terraform
	// manages, so these are set on the template itself.
	Tags map[string]string
	// DependsOn is the control plane.
	DependsOn cdktf.ITerraformDependable
	// CapacityType is "ON_DEMAND" (default when empty) or "SPOT".
	CapacityType string
	// Schedule, when set, scales the group to zero outside working hours.
	Schedule *NodeSchedule
}

// NodeSchedule is a pair of scheduled actions on the node group's Auto
// Scaling group: at Up the group returns to its min, desired and max
// sizes; at Down min, desired and max all become 0, so the cluster
// autoscaler cannot start a node for a pending pod overnight.
type NodeSchedule struct {
	// TimeZone is the IANA zone both recurrences are read in.
	TimeZone string
	// Up and Down are cron expressions (minute hour day month weekday).
	Up, Down string
}

// NodeGroup is what addons and later stacks use.
type NodeGroup struct {
	Name                *string
	RoleArn             *string
	NodeSecurityGroupID *string
	Dependable          cdktf.ITerraformDependable
}

// AutoscalerTags are the tags cluster-autoscaler discovers node groups by;
// its IAM write actions are conditioned on the second one.
func AutoscalerTags(clusterName string) map[string]string {
	return map[string]string{
		"k8s.io/cluster-autoscaler/enabled":        "true",
		"k8s.io/cluster-autoscaler/" + clusterName: "owned",
	}
}

// NewNodeGroup creates an AL2023 managed node group in private subnets with
// IMDSv2 required and an encrypted gp3 root volume. desired_size is ignored
// after creation so cluster-autoscaler, not Terraform, owns it.
func NewNodeGroup(scope constructs.Construct, id string, props *NodeGroupProps) (*NodeGroup, error) {
	if err := props.validate(id); err != nil {
		return nil, err
	}
	capacity := props.CapacityType
	if capacity == "" {
		capacity = "ON_DEMAND"
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	trust := NewPolicyDocument(node, "role-trust", Statement{
		Actions:    []string{"sts:AssumeRole"},
		Principals: []Principal{{Type: "Service", Identifiers: []string{"ec2.amazonaws.com"}}},
	})
	role := iamrole.NewIamRole(node, jsii.String("role"), &iamrole.IamRoleConfig{
		Name: jsii.String(props.RoleName), Path: jsii.String(naming.WorkloadRolePath), AssumeRolePolicy: trust.Json(),
		PermissionsBoundary: props.PermissionsBoundary,
	})
	deps := []cdktf.ITerraformDependable{props.DependsOn}
	for i, arn := range NodePolicies {
		deps = append(deps, iamrolepolicyattachment.NewIamRolePolicyAttachment(node, jsii.String(fmt.Sprintf("policy-%d", i)),
			&iamrolepolicyattachment.IamRolePolicyAttachmentConfig{Role: role.Name(), PolicyArn: jsii.String(arn)}))
	}
	// A place for node-level rules (e.g. from an ALB in instance mode)
	// without touching the EKS-managed cluster security group.
	sg := securitygroup.NewSecurityGroup(node, jsii.String("node-sg"), &securitygroup.SecurityGroupConfig{
		Name:        jsii.String(props.ClusterNameLiteral + "-node"),
		Description: jsii.String("Additional rules for " + props.ClusterNameLiteral + " worker nodes"),
		VpcId:       props.VpcID,
	})
	lt := launchtemplate.NewLaunchTemplate(node, jsii.String("launch-template"), &launchtemplate.LaunchTemplateConfig{
		NamePrefix:           jsii.String(props.ClusterNameLiteral + "-node-"),
		UpdateDefaultVersion: jsii.Bool(true),
		// With a launch template EKS adds no security group itself, so the
		// cluster security group is listed explicitly.
		VpcSecurityGroupIds: &[]*string{props.ClusterSecurityGroupID, sg.Id()},
		MetadataOptions: &launchtemplate.LaunchTemplateMetadataOptions{
			HttpEndpoint: jsii.String("enabled"),
			HttpTokens:   jsii.String("required"), // IMDSv2 only
			// Hop limit 1 keeps pods away from the node role; workloads use
			// IRSA, and the LB controller gets vpcId and region explicitly.
			HttpPutResponseHopLimit: jsii.Number(1),
		},
		BlockDeviceMappings: &[]*launchtemplate.LaunchTemplateBlockDeviceMappings{{
			DeviceName: jsii.String("/dev/xvda"), // AL2023 root device
			Ebs: &launchtemplate.LaunchTemplateBlockDeviceMappingsEbs{
				VolumeType:          jsii.String("gp3"),
				VolumeSize:          jsii.Number(float64(props.DiskSizeGiB)),
				Encrypted:           jsii.String("true"),
				DeleteOnTermination: jsii.String("true"),
			},
		}},
		TagSpecifications: launchTemplateTags(props),
	})
	ng := eksnodegroup.NewEksNodeGroup(node, jsii.String("group"), &eksnodegroup.EksNodeGroupConfig{
		ClusterName:         props.ClusterName,
		NodeGroupNamePrefix: jsii.String("main-"),
		NodeRoleArn:         role.Arn(),
		SubnetIds:           &props.SubnetIDs,
		AmiType:             jsii.String(naming.NodeAMIType),
		CapacityType:        jsii.String(capacity),
		InstanceTypes:       jsii.Strings(props.InstanceTypes...),
		ScalingConfig: &eksnodegroup.EksNodeGroupScalingConfig{
			MinSize:     jsii.Number(float64(props.MinSize)),
			DesiredSize: jsii.Number(float64(props.DesiredSize)),
			MaxSize:     jsii.Number(float64(props.MaxSize)),
		},
		UpdateConfig:   &eksnodegroup.EksNodeGroupUpdateConfig{MaxUnavailablePercentage: jsii.Number(33)},
		LaunchTemplate: &eksnodegroup.EksNodeGroupLaunchTemplate{Id: lt.Id(), Version: cdktf.Token_AsString(lt.LatestVersion(), nil)},
		Tags:           StringMap(AutoscalerTags(props.ClusterNameLiteral)),
		Lifecycle: &cdktf.TerraformResourceLifecycle{
			IgnoreChanges:       &[]*string{jsii.String("scaling_config[0].desired_size")},
			CreateBeforeDestroy: jsii.Bool(true),
		},
		DependsOn: &deps,
	})
	if sch := props.Schedule; sch != nil {
		// EKS creates the Auto Scaling group; Terraform reads its name from
		// the node group (as terraform-aws-eks's schedules do).
		asg := ng.Resources().Get(jsii.Number(0)).AutoscalingGroups().Get(jsii.Number(0)).Name()
		for _, a := range []struct {
			id, cron          string
			min, desired, max int
		}{
			{"scale-up", sch.Up, props.MinSize, props.DesiredSize, props.MaxSize},
			{"scale-down", sch.Down, 0, 0, 0},
		} {
			autoscalingschedule.NewAutoscalingSchedule(node, jsii.String(a.id), &autoscalingschedule.AutoscalingScheduleConfig{
				AutoscalingGroupName: asg,
				ScheduledActionName:  jsii.String(props.ClusterNameLiteral + "-nodes-" + a.id),
				Recurrence:           jsii.String(a.cron),
				TimeZone:             jsii.String(sch.TimeZone),
				MinSize:              jsii.Number(float64(a.min)),
				DesiredCapacity:      jsii.Number(float64(a.desired)),
				MaxSize:              jsii.Number(float64(a.max)),
			})
		}
	}
	return &NodeGroup{Name: ng.NodeGroupName(), RoleArn: role.Arn(), NodeSecurityGroupID: sg.Id(), Dependable: ng}, nil
}

// LaunchTemplateTaggedResources are the resource types EC2 creates for a
// node and tags from the launch template.
var LaunchTemplateTaggedResources = []string{"instance", "volume", "network-interface"}

func launchTemplateTags(props *NodeGroupProps) *[]*launchtemplate.LaunchTemplateTagSpecifications {
	tags := make(map[string]string, len(props.Tags)+1)
	for k, v := range props.Tags {
		tags[k] = v
	}
	tags["Name"] = props.ClusterNameLiteral + "-node"
	out := make([]*launchtemplate.LaunchTemplateTagSpecifications, 0, len(LaunchTemplateTaggedResources))
	for _, r := range LaunchTemplateTaggedResources {
		out = append(out, &launchtemplate.LaunchTemplateTagSpecifications{ResourceType: jsii.String(r), Tags: StringMap(tags)})
	}
	return &out
}

func (p *NodeGroupProps) validate(id string) error {
	if p != nil {
		if missing := MissingTags(p.Tags); len(missing) > 0 {
			return fmt.Errorf("%s: tags lacks required tag(s) %v; instances, volumes and ENIs must carry %v", id, missing, RequiredTagKeys)
		}
	}
	switch {
	case p == nil:
		return fmt.Errorf("%s: props are required", id)
	case p.MinSize < 1:
		return fmt.Errorf("%s: minSize=%d must be at least 1", id, p.MinSize)
	case p.MaxSize < p.MinSize:
		return fmt.Errorf("%s: maxSize=%d must be at least minSize=%d", id, p.MaxSize, p.MinSize)
	case p.DesiredSize < p.MinSize || p.DesiredSize > p.MaxSize:
		return fmt.Errorf("%s: desiredSize=%d must lie between minSize=%d and maxSize=%d", id, p.DesiredSize, p.MinSize, p.MaxSize)
	case len(p.InstanceTypes) == 0:
		return fmt.Errorf("%s: instanceTypes is empty", id)
	case len(p.SubnetIDs) == 0:
		return fmt.Errorf("%s: subnetIds is empty", id)
	case p.ClusterName == nil || p.ClusterNameLiteral == "" || p.RoleName == "" || p.DependsOn == nil:
		return fmt.Errorf("%s: clusterName, clusterNameLiteral, roleName and dependsOn are required", id)
	case p.DiskSizeGiB < 20:
		return fmt.Errorf("%s: diskSizeGiB=%d is too small for AL2023 images; use at least 20", id, p.DiskSizeGiB)
	case p.CapacityType != "" && p.CapacityType != "ON_DEMAND" && p.CapacityType != "SPOT":
		return fmt.Errorf("%s: capacityType=%q must be ON_DEMAND or SPOT", id, p.CapacityType)
	case p.CapacityType == "SPOT" && len(p.InstanceTypes) < 2:
		return fmt.Errorf("%s: capacityType=SPOT needs at least two instanceTypes, so one reclaimed pool does not empty the group", id)
	case p.Schedule != nil && (p.Schedule.TimeZone == "" || p.Schedule.Up == "" || p.Schedule.Down == ""):
		return fmt.Errorf("%s: schedule needs timeZone, up and down", id)
	}
	return nil
}
