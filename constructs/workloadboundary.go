package constructs

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iampolicy"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// WorkloadServices are the services a role the stacks create may ever use:
// the EKS cluster and node roles, the addon and controller IRSA roles
// (EBS CSI, load balancer controller, cluster autoscaler, External
// Secrets, Alertmanager's SNS publisher), the DTN gateway, VPC flow logs,
// the CI runner, and the identity roles (aws-privateca-issuer, device
// enrollment and revocation on ACM PCA, the device ledger and beacon
// tables on DynamoDB). A boundary only caps: each role's own policy still
// grants far less, and the state store's lock table stays denied.
var WorkloadServices = []string{
	"acm", "acm-pca", "autoscaling", "cloudwatch", "codeconnections", "codestar-connections", "cognito-idp",
	"dynamodb", "ec2", "ecr", "eks", "elasticloadbalancing", "kms", "logs", "s3", "secretsmanager",
	"shield", "sns", "sqs", "tag", "waf-regional", "wafv2",
}

// BackupServices are added to the boundary where AWS Backup runs (prod):
// its role copies into vaults (backup) and keeps EventBridge rules for S3
// backups (events).
var BackupServices = []string{"backup", "events"}

// WorkloadIamActions are the only IAM actions under the boundary besides
// service-linked roles: the load balancer controller reads server
// certificates.
var WorkloadIamActions = []string{"iam:GetServerCertificate", "iam:ListServerCertificates"}

// WorkloadLinkedRoleServices may get a service-linked role from a bounded
// role: EKS (cluster and node groups), the load balancer controller and
// Auto Scaling.
var WorkloadLinkedRoleServices = []string{
	"autoscaling.amazonaws.com", "eks.amazonaws.com", "eks-nodegroup.amazonaws.com", "elasticloadbalancing.amazonaws.com",
}

// WorkloadBoundaryProps names the boundary and the state store it fences off.
type WorkloadBoundaryProps struct {
	// Name is the policy name, naming.WorkloadBoundary().
	Name string
	// StateBucket and LockTableArn are the env's Terraform state store.
	StateBucket  string
	LockTableArn string
	// StateKeyAlias is the alias of the key that encrypts the state.
	StateKeyAlias string
	// ExtraServices are admitted besides WorkloadServices (BackupServices
	// where AWS Backup runs).
	ExtraServices []string
}

// WorkloadBoundary is the managed policy every role the stacks create
// carries as its permissions boundary.
type WorkloadBoundary struct {
	Arn *string
	// Policy is the policy resource, for roles in the same stack that name
	// the boundary by its ARN string and must be created after it.
	Policy cdktf.ITerraformDependable
}

// NewWorkloadBoundary creates the policy. Under it a role can use only the
// workload services (IAM only to read server certificates and create the
// named service-linked roles; no STS role chaining, no Organizations,
// CloudTrail or GuardDuty) and can never touch the Terraform state store,
// whatever its own policy says.
func NewWorkloadBoundary(scope constructs.Construct, id string, props *WorkloadBoundaryProps) (*WorkloadBoundary, error) {
	if props == nil || props.Name == "" || props.StateBucket == "" || props.LockTableArn == "" || props.StateKeyAlias == "" {
		return nil, fmt.Errorf("%s: name, stateBucket, lockTableArn and stateKeyAlias are required", id)
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	var actions []string
	for _, s := range append(append([]string(nil), WorkloadServices...), props.ExtraServices...) {
		actions = append(actions, s+":*")
	}
	bucket := "arn:aws:s3:::" + props.StateBucket
	doc := NewPolicyDocument(node, "document",
		Statement{Sid: "WorkloadServices", Actions: actions, Resources: []string{"*"}},
		Statement{Sid: "WorkloadIam", Actions: WorkloadIamActions, Resources: []string{"*"}},
		Statement{Sid: "WorkloadLinkedRoles", Actions: []string{"iam:CreateServiceLinkedRole"}, Resources: []string{"*"},
			Conditions: []Condition{{Test: "StringEquals", Variable: "iam:AWSServiceName", Values: WorkloadLinkedRoleServices}}},
		Statement{Sid: "NeverTheStateStore", Effect: "Deny", Actions: []string{"s3:*", "dynamodb:*"},
			Resources: []string{bucket, bucket + "/*", props.LockTableArn}},
		Statement{Sid: "NeverTheStateKey", Effect: "Deny", Actions: []string{"kms:*"}, Resources: []string{"*"},
			// kms:ResourceAliases is multivalued, so ForAnyValue is right here.
			Conditions: []Condition{{Test: "ForAnyValue:StringEquals", Variable: "kms:ResourceAliases", Values: []string{props.StateKeyAlias}}}},
	)
	policy := iampolicy.NewIamPolicy(node, jsii.String("policy"), &iampolicy.IamPolicyConfig{
		Name:        jsii.String(props.Name),
		Description: jsii.String("Permissions boundary of every role the stacks create; CI may create roles only with it"),
		Policy:      doc.Json(),
	})
	return &WorkloadBoundary{Arn: policy.Arn(), Policy: policy}, nil
}
