package constructs

import (
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iampolicy"
)

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

// WorkloadBoundaryProps names the boundary, what it allows and the state
// store it fences off.
type WorkloadBoundaryProps struct {
	// Name is the policy name, naming.WorkloadBoundary().
	Name string
	// Allow are the most any role under the boundary may do: the actions
	// the workloads call, on this env's resources by name or tag. They may
	// not name IAM or STS actions (the boundary adds the IAM reads and
	// service-linked roles itself), nor a whole service on every resource
	// unless listed in WholeServices.
	Allow []Statement
	// WholeServices may appear as "<service>:*" on every resource: the
	// services whose resources the workloads create under names AWS or a
	// controller picks (EC2 network interfaces and volumes, Auto Scaling).
	WholeServices []string
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
}

// NewWorkloadBoundary creates the policy. Under it a role can do at most
// what Allow lists, read server certificates and create the named
// service-linked roles (no other IAM, no STS role chaining), and can never
// touch the Terraform state store, whatever its own policy says.
func NewWorkloadBoundary(scope constructs.Construct, id string, props *WorkloadBoundaryProps) (*WorkloadBoundary, error) {
	if props == nil || props.Name == "" || props.StateBucket == "" || props.LockTableArn == "" || props.StateKeyAlias == "" || len(props.Allow) == 0 {
		return nil, fmt.Errorf("%s: name, allow, stateBucket, lockTableArn and stateKeyAlias are required", id)
	}
	whole := map[string]bool{}
	for _, s := range props.WholeServices {
		whole[s+":*"] = true
	}
	for i, st := range props.Allow {
		for _, a := range st.Actions {
			service, verb, _ := strings.Cut(a, ":")
			switch {
			case a == "*" || service == "iam" || service == "sts":
				return nil, fmt.Errorf("%s: allow[%d] (%s): %s cannot be granted through the boundary", id, i, st.Sid, a)
			case verb == "*" && !whole[a]:
				return nil, fmt.Errorf("%s: allow[%d] (%s): %s is a whole service; list the actions the workloads call", id, i, st.Sid, a)
			}
		}
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	bucket := "arn:aws:s3:::" + props.StateBucket
	statements := append(append([]Statement(nil), props.Allow...),
		Statement{Sid: "WorkloadIam", Actions: WorkloadIamActions, Resources: []string{"*"}},
		Statement{Sid: "WorkloadLinkedRoles", Actions: []string{"iam:CreateServiceLinkedRole"}, Resources: []string{"*"},
			Conditions: []Condition{{Test: "StringEquals", Variable: "iam:AWSServiceName", Values: WorkloadLinkedRoleServices}}},
		Statement{Sid: "NeverTheStateStore", Effect: "Deny", Actions: []string{"s3:*", "dynamodb:*"},
			Resources: []string{bucket, bucket + "/*", props.LockTableArn}},
		Statement{Sid: "NeverTheStateKey", Effect: "Deny", Actions: []string{"kms:*"}, Resources: []string{"*"},
			// kms:ResourceAliases is multivalued, so ForAnyValue is right here.
			Conditions: []Condition{{Test: "ForAnyValue:StringEquals", Variable: "kms:ResourceAliases", Values: []string{props.StateKeyAlias}}}},
	)
	doc := NewPolicyDocument(node, "document", statements...)
	policy := iampolicy.NewIamPolicy(node, jsii.String("policy"), &iampolicy.IamPolicyConfig{
		Name:        jsii.String(props.Name),
		Description: jsii.String("Permissions boundary of every role the stacks create; CI may create roles only with it"),
		Policy:      doc.Json(),
	})
	return &WorkloadBoundary{Arn: policy.Arn()}, nil
}
