package constructs

import (
	"fmt"
	"slices"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/eksaccessentry"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/eksaccesspolicyassociation"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ekscluster"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamopenidconnectprovider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// ControlPlaneLogTypes are every control-plane log EKS can ship: API
// calls, the audit trail, authentication decisions, and the controller
// manager and scheduler (who deleted or rescheduled what, and why).
var ControlPlaneLogTypes = []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}

// AuthenticationModeAPI makes EKS authenticate through access entries only.
const AuthenticationModeAPI = "API"

// ClusterAdminPolicyArn is the EKS access policy granting cluster-admin.
const ClusterAdminPolicyArn = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

// EksClusterProps configures the control plane.
type EksClusterProps struct {
	// Name is the cluster name, e.g. spatialprops-dev-eks.
	Name string
	// Version is the Kubernetes minor version, e.g. 1.35.
	Version string
	// SubnetIDs are the private subnets for control-plane ENIs.
	SubnetIDs []*string
	// EnablePublicEndpoint opens the API to PublicAccessCidrs; the private
	// endpoint is always on so nodes never leave the VPC to reach it.
	EnablePublicEndpoint bool
	PublicAccessCidrs    []string
	// BreakGlassRoleArn is the one human principal with cluster-admin (an
	// access entry); required. Nobody else is admin by default: the cluster
	// creator's bootstrap admin is switched off.
	BreakGlassRoleArn string
	// LogRetentionDays for the control-plane log group.
	LogRetentionDays int
	// LogTypes are the control-plane logs shipped; each one of
	// ControlPlaneLogTypes. Default: all of them.
	LogTypes []string
	// Region selects the CloudWatch Logs principal of the log group's key.
	Region string
	// RoleName is the cluster IAM role name.
	RoleName string
	// PermissionsBoundary is the ARN of the env's workload boundary policy
	// (naming.WorkloadBoundary); the CI deploy role may create roles only
	// with it attached.
	PermissionsBoundary *string
	// SecretsKeyAlias names the KMS key for envelope encryption of Secrets.
	SecretsKeyAlias string
	// Protect adds prevent_destroy to the cluster, its secrets key, its
	// log group and that group's key.
	Protect bool
}

// EksCluster is what node groups, addons and later stacks use.
type EksCluster struct {
	Name                   *string
	Arn                    *string
	Endpoint               *string
	CertificateAuthority   *string
	OidcIssuerURL          *string
	OidcProviderArn        *string
	ClusterSecurityGroupID *string
	// Dependable lets node groups and addons wait for the control plane.
	Dependable cdktf.ITerraformDependable
}

// NewEksCluster creates the control plane with secrets encryption, audit
// logging, API-based authentication and the IAM OIDC provider for IRSA.
func NewEksCluster(scope constructs.Construct, id string, props *EksClusterProps) (*EksCluster, error) {
	if err := props.validate(id); err != nil {
		return nil, err
	}
	node := constructs.NewConstruct(scope, jsii.String(id))

	key, err := NewKmsKey(node, "secrets-key", &KmsKeyProps{
		Alias: props.SecretsKeyAlias, Description: "Envelope encryption of Kubernetes Secrets in " + props.Name, Protect: props.Protect,
	})
	if err != nil {
		return nil, err
	}
	// EKS writes to this exact name; creating it first sets the retention
	// instead of the never-expire default EKS would create.
	logGroup := "/aws/eks/" + props.Name + "/cluster"
	logsKey, err := NewLogsKey(node, "logs-key", &LogsKeyProps{
		Alias: "alias/" + props.Name + "-logs", Region: props.Region, LogGroupNames: []string{logGroup}, Protect: props.Protect,
	})
	if err != nil {
		return nil, err
	}
	logs, err := NewLogGroup(node, "logs", &LogGroupProps{
		Name: logGroup, RetentionDays: props.LogRetentionDays, KmsKeyArn: logsKey, Protect: props.Protect,
	})
	if err != nil {
		return nil, err
	}
	logTypes := props.LogTypes
	if len(logTypes) == 0 {
		logTypes = ControlPlaneLogTypes
	}
	trust := NewPolicyDocument(node, "role-trust", Statement{
		Actions:    []string{"sts:AssumeRole", "sts:TagSession"},
		Principals: []Principal{{Type: "Service", Identifiers: []string{"eks.amazonaws.com"}}},
	})
	role := iamrole.NewIamRole(node, jsii.String("role"), &iamrole.IamRoleConfig{
		Name: jsii.String(props.RoleName), Path: jsii.String(naming.WorkloadRolePath), AssumeRolePolicy: trust.Json(),
		PermissionsBoundary: props.PermissionsBoundary,
	})
	attach := iamrolepolicyattachment.NewIamRolePolicyAttachment(node, jsii.String("cluster-policy"), &iamrolepolicyattachment.IamRolePolicyAttachmentConfig{
		Role: role.Name(), PolicyArn: jsii.String("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"),
	})

	vpcConfig := &ekscluster.EksClusterVpcConfig{
		SubnetIds:             &props.SubnetIDs,
		EndpointPrivateAccess: jsii.Bool(true),
		EndpointPublicAccess:  jsii.Bool(props.EnablePublicEndpoint),
	}
	if props.EnablePublicEndpoint {
		vpcConfig.PublicAccessCidrs = jsii.Strings(props.PublicAccessCidrs...)
	}
	cluster := ekscluster.NewEksCluster(node, jsii.String("cluster"), &ekscluster.EksClusterConfig{
		Name:      jsii.String(props.Name),
		Version:   jsii.String(props.Version),
		RoleArn:   role.Arn(),
		VpcConfig: vpcConfig,
		EncryptionConfig: &ekscluster.EksClusterEncryptionConfig{
			Resources: jsii.Strings("secrets"),
			Provider:  &ekscluster.EksClusterEncryptionConfigProvider{KeyArn: key.KeyArn},
		},
		EnabledClusterLogTypes: jsii.Strings(logTypes...),
		Lifecycle:              Lifecycle(props.Protect),
		AccessConfig: &ekscluster.EksClusterAccessConfig{
			// Access entries only: the aws-auth ConfigMap is ignored, so
			// nobody gains access by editing a ConfigMap. Managed node groups
			// get their EC2_LINUX entry from EKS itself.
			AuthenticationMode: jsii.String(AuthenticationModeAPI),
			// No hidden admin: whoever creates the cluster (a human at
			// bootstrap, the infra deploy role later) gets no implicit
			// cluster-admin. Admin is only the break-glass entry below and
			// the CI roles' entries in the cicd stack, each visible in code.
			BootstrapClusterCreatorAdminPermissions: jsii.Bool(false),
		},
		DependsOn: &[]cdktf.ITerraformDependable{logs, attach},
	})

	issuer := cluster.Identity().Get(jsii.Number(0)).Oidc().Get(jsii.Number(0)).Issuer()
	// No thumbprint: IAM trusts the EKS issuer through its own CA store, and
	// a pinned thumbprint would break when the certificate rotates.
	oidc := iamopenidconnectprovider.NewIamOpenidConnectProvider(node, jsii.String("oidc"), &iamopenidconnectprovider.IamOpenidConnectProviderConfig{
		Url:          issuer,
		ClientIdList: jsii.Strings(StsAudience),
	})

	entry := eksaccessentry.NewEksAccessEntry(node, jsii.String("break-glass"), &eksaccessentry.EksAccessEntryConfig{
		ClusterName: cluster.Name(), PrincipalArn: jsii.String(props.BreakGlassRoleArn), Type: jsii.String("STANDARD"),
	})
	eksaccesspolicyassociation.NewEksAccessPolicyAssociation(node, jsii.String("break-glass-policy"), &eksaccesspolicyassociation.EksAccessPolicyAssociationConfig{
		ClusterName:  cluster.Name(),
		PrincipalArn: entry.PrincipalArn(),
		PolicyArn:    jsii.String(ClusterAdminPolicyArn),
		AccessScope:  &eksaccesspolicyassociation.EksAccessPolicyAssociationAccessScope{Type: jsii.String("cluster")},
	})

	return &EksCluster{
		Name:                   cluster.Name(),
		Arn:                    cluster.Arn(),
		Endpoint:               cluster.Endpoint(),
		CertificateAuthority:   cluster.CertificateAuthority().Get(jsii.Number(0)).Data(),
		OidcIssuerURL:          issuer,
		OidcProviderArn:        oidc.Arn(),
		ClusterSecurityGroupID: cluster.VpcConfig().ClusterSecurityGroupId(),
		Dependable:             cluster,
	}, nil
}

func (p *EksClusterProps) validate(id string) error {
	switch {
	case p == nil:
		return fmt.Errorf("%s: props are required", id)
	case p.Name == "" || p.Version == "" || p.RoleName == "" || p.SecretsKeyAlias == "":
		return fmt.Errorf("%s: name, version, roleName and secretsKeyAlias are required", id)
	case p.BreakGlassRoleArn == "":
		return fmt.Errorf("%s: breakGlassRoleArn is required: with no bootstrap admin it is the only human way in", id)
	case len(p.SubnetIDs) < 2:
		return fmt.Errorf("%s: subnetIds has %d subnet(s); EKS needs subnets in at least 2 AZs", id, len(p.SubnetIDs))
	case p.EnablePublicEndpoint && len(p.PublicAccessCidrs) == 0:
		return fmt.Errorf("%s: enablePublicEndpoint needs publicAccessCidrs; an empty list would mean 0.0.0.0/0", id)
	case p.LogRetentionDays < 1:
		return fmt.Errorf("%s: logRetentionDays must be positive", id)
	case p.Region == "":
		return fmt.Errorf("%s: region is required (it names the CloudWatch Logs principal of the log key)", id)
	}
	for i, t := range p.LogTypes {
		if !slices.Contains(ControlPlaneLogTypes, t) {
			return fmt.Errorf("%s: logTypes[%d]=%q is not an EKS log type; use %v", id, i, t, ControlPlaneLogTypes)
		}
	}
	return nil
}
