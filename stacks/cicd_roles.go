package stacks

import (
	"fmt"
	"path"
	"strings"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// RefreshReadActions are the metadata reads a Terraform refresh of the
// stacks needs: Describe/List/Get of configuration, never of data. It is
// the plan role's only read grant, in place of ReadOnlyAccess, which also
// reads S3 objects, SSM parameters, secrets and log events. Nothing here
// returns an object body, a parameter or secret value, a log event, a
// queue message, an image layer or a DynamoDB item.
var RefreshReadActions = []string{
	"acm:DescribeCertificate", "acm:ListCertificates", "acm:ListTagsForCertificate",
	// A CA's certificate and CSR are public documents; GetCertificate
	// returns an issued certificate, never a private key.
	"acm-pca:DescribeCertificateAuthority", "acm-pca:GetCertificate", "acm-pca:GetCertificateAuthorityCertificate",
	"acm-pca:GetCertificateAuthorityCsr", "acm-pca:ListTags",
	"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeTags",
	"cloudfront:GetCachePolicy", "cloudfront:GetDistribution", "cloudfront:GetOriginAccessControl",
	"cloudfront:GetOriginRequestPolicy", "cloudfront:GetResponseHeadersPolicy", "cloudfront:ListCachePolicies",
	"cloudfront:ListDistributions", "cloudfront:ListOriginRequestPolicies", "cloudfront:ListTagsForResource",
	"codebuild:BatchGetProjects", "codeconnections:GetConnection", "codeconnections:ListTagsForResource",
	"dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource",
	"ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute", "ec2:DescribeAvailabilityZones", "ec2:DescribeFlowLogs",
	"ec2:DescribeInternetGateways", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeLaunchTemplates",
	"ec2:DescribeNatGateways", "ec2:DescribeNetworkAcls", "ec2:DescribeNetworkInterfaces", "ec2:DescribeRouteTables",
	"ec2:DescribeSecurityGroupRules", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeTags",
	"ec2:DescribeVpcAttribute", "ec2:DescribeVpcs",
	"ecr:DescribeRepositories", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource",
	"eks:DescribeAccessEntry", "eks:DescribeAddon", "eks:DescribeAddonVersions", "eks:DescribeCluster", "eks:DescribeNodegroup",
	"eks:ListAccessEntries", "eks:ListAccessPolicies", "eks:ListAddons", "eks:ListAssociatedAccessPolicies",
	"eks:ListNodegroups", "eks:ListTagsForResource",
	"elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTrustStoreRevocations",
	"elasticloadbalancing:DescribeTrustStores",
	"iam:GetOpenIDConnectProvider", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy",
	"iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:ListOpenIDConnectProviders",
	"iam:ListPolicyVersions", "iam:ListRolePolicies", "iam:ListRoleTags",
	"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:GetPublicKey", "kms:ListAliases", "kms:ListResourceTags",
	"logs:DescribeLogGroups", "logs:DescribeResourcePolicies", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
	"route53:GetChange", "route53:GetHostedZone", "route53:ListHostedZones", "route53:ListHostedZonesByName",
	"route53:ListResourceRecordSets", "route53:ListTagsForResource",
	"s3:GetAccelerateConfiguration", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketLocation", "s3:GetBucketLogging",
	"s3:GetBucketObjectLockConfiguration", "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy",
	"s3:GetBucketPublicAccessBlock", "s3:GetBucketRequestPayment", "s3:GetBucketTagging", "s3:GetBucketVersioning",
	"s3:GetBucketWebsite", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
	"secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy",
	"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags",
	"sts:GetCallerIdentity",
	"wafv2:GetLoggingConfiguration", "wafv2:GetWebACL", "wafv2:ListTagsForResource",
}

// DeployReadActions are the deploy role's metadata reads, written with
// wildcards where a whole family is configuration-only: the role's inline
// policy must stay under IAM's 10,240-character limit per role. Wildcards
// that would reach data (s3:Get*, logs:Get*, secretsmanager:Get*,
// ssm:Get*, sqs:Receive*) are avoided here too.
var DeployReadActions = []string{
	"acm:DescribeCertificate", "acm:List*", "autoscaling:Describe*", "cloudfront:Get*", "cloudfront:List*",
	"cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource",
	"codebuild:BatchGetProjects", "dynamodb:Describe*", "dynamodb:ListTagsOfResource", "ec2:Describe*",
	"ecr:Describe*", "ecr:GetLifecyclePolicy", "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource",
	"eks:Describe*", "eks:List*", "elasticloadbalancing:Describe*", "iam:Get*", "iam:List*", "kms:Describe*", "kms:GetKeyPolicy",
	"kms:GetKeyRotationStatus", "kms:GetPublicKey", "kms:List*", "logs:Describe*", "logs:ListTags*", "route53:Get*", "route53:List*",
	"s3:Get*Configuration", "s3:GetBucket*", "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy",
	"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags", "sts:GetCallerIdentity", "wafv2:Get*", "wafv2:List*",
}

// DataReadActions return data rather than configuration. The plan role is
// denied them explicitly (outside the state store), so attaching a broader
// policy to it later cannot quietly hand pull requests the data.
var DataReadActions = []string{
	"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan",
	"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
	"logs:FilterLogEvents", "logs:GetLogEvents", "logs:GetLogRecord", "logs:GetQueryResults", "logs:StartQuery",
	"s3:GetObject", "s3:GetObjectVersion",
	"secretsmanager:GetSecretValue",
	"sqs:ReceiveMessage",
	"ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters", "ssm:GetParametersByPath",
}

// EKS access policies granted to the GitHub roles (docs/cicd.md).
const (
	// EKSEditPolicyArn lets service deploys manage workloads (and Helm's
	// release Secrets) in their one namespace.
	EKSEditPolicyArn = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
	// EKSViewPolicyArn is the plan role's cluster-wide read. Unlike
	// AmazonEKSAdminViewPolicy it does not include Secrets.
	EKSViewPolicyArn = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
)

// AttachablePolicyArns are the only managed policies the deploy role may
// attach (iam:PolicyARN), and only to roles that carry the boundary.
var AttachablePolicyArns = []string{
	"arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
	"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
	"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
	"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
	sp.EbsCsiPolicyArn,
}

// LinkedRoleServices may get a service-linked role (iam:AWSServiceName).
var LinkedRoleServices = []string{
	"eks.amazonaws.com", "eks-nodegroup.amazonaws.com", "autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com",
}

// PassRoleServices are the services the deploy role hands roles to: the
// cluster and node roles to EKS, the flow-log role to VPC flow logs.
var PassRoleServices = []string{"eks.amazonaws.com", "vpc-flow-logs.amazonaws.com"}

// ec2CreateActions create the network, tagged at creation; the same list
// is what ec2:CreateTags accepts as ec2:CreateAction.
var ec2CreateActions = []string{
	"ec2:AllocateAddress", "ec2:CreateFlowLogs", "ec2:CreateInternetGateway", "ec2:CreateLaunchTemplate",
	"ec2:CreateNatGateway", "ec2:CreateRouteTable", "ec2:CreateSecurityGroup", "ec2:CreateSubnet", "ec2:CreateVpc",
}

// ec2ChangeActions change or delete existing network resources; they are
// allowed only on resources tagged with this env.
var ec2ChangeActions = []string{
	"ec2:AssociateRouteTable", "ec2:AttachInternetGateway", "ec2:AuthorizeSecurityGroupEgress",
	"ec2:AuthorizeSecurityGroupIngress", "ec2:CreateLaunchTemplateVersion", "ec2:CreateRoute", "ec2:CreateTags",
	"ec2:DeleteFlowLogs", "ec2:DeleteInternetGateway", "ec2:DeleteLaunchTemplate", "ec2:DeleteNatGateway",
	"ec2:DeleteRoute", "ec2:DeleteRouteTable", "ec2:DeleteSecurityGroup", "ec2:DeleteSubnet", "ec2:DeleteTags",
	"ec2:DeleteVpc", "ec2:DetachInternetGateway", "ec2:DisassociateAddress", "ec2:DisassociateRouteTable",
	"ec2:ModifyLaunchTemplate", "ec2:ModifySecurityGroupRules", "ec2:ModifySubnetAttribute", "ec2:ModifyVpcAttribute",
	"ec2:ReleaseAddress", "ec2:ReplaceRoute", "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
	"ec2:UpdateSecurityGroupRuleDescriptionsEgress", "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
}

// InfraDeployS3Actions shape the env's buckets. There is no object action:
// the deploy role can neither read nor delete Spatial Packs data.
// (Ownership controls are removed through s3:PutBucketOwnershipControls;
// there is no s3:DeleteBucketOwnershipControls action.)
var InfraDeployS3Actions = []string{
	"s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:ListBucket",
	"s3:PutBucketCORS", "s3:PutBucketLogging", "s3:PutBucketOwnershipControls", "s3:PutBucketPolicy",
	"s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging", "s3:PutBucketVersioning",
	"s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
}

// roleARNs are the ARNs and names the GitHub roles' policies are built from.
type roleARNs struct {
	cfg          *envs.Config
	names        naming.Names
	account      string
	stateBucket  string
	lockTable    string
	stateKeyTest sp.Condition
	boundary     string
}

func newRoleARNs(cfg *envs.Config, names naming.Names, account string) roleARNs {
	return roleARNs{
		cfg: cfg, names: names, account: account,
		stateBucket: "arn:aws:s3:::" + names.StateBucket(),
		lockTable:   fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", cfg.Region, account, names.LockTable()),
		// kms:ResourceAliases is multivalued, so ForAnyValue is correct here.
		stateKeyTest: sp.Condition{Test: "ForAnyValue:StringEquals", Variable: "kms:ResourceAliases", Values: []string{stateKeyAlias(names)}},
		boundary:     fmt.Sprintf("arn:aws:iam::%s:policy/%s", account, names.WorkloadBoundary()),
	}
}

func stateKeyAlias(n naming.Names) string { return "alias/" + n.Prefix() + "-tfstate" }

func (a roleARNs) arn(service, region, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, a.account, resource)
}

func (a roleARNs) envTag(kind string) sp.Condition {
	return sp.Condition{Test: "StringEquals", Variable: "aws:" + kind + "/Environment", Values: []string{a.cfg.Env}}
}

// stateObjects are this env's state files, "<env>/<stack>.tfstate".
func (a roleARNs) stateObjects() string { return a.stateBucket + "/" + a.cfg.Env + "/*" }

func (a roleARNs) useStateKey(actions ...string) sp.Statement {
	return sp.Statement{Sid: "UseTheStateKey", Actions: actions,
		Resources: []string{a.arn("kms", a.cfg.Region, "key/*")}, Conditions: []sp.Condition{a.stateKeyTest}}
}

// planStatements: read the env's state, the refresh metadata, and nothing
// else. Plans run with -lock=false, so not even the S3 lock object
// (<key>.tflock) is written. Data reads are denied outside the state files.
func (a roleARNs) planStatements() []sp.Statement {
	return []sp.Statement{
		{Sid: "ListState", Actions: []string{"s3:ListBucket"}, Resources: []string{a.stateBucket},
			Conditions: []sp.Condition{{Test: "StringLike", Variable: "s3:prefix", Values: []string{a.cfg.Env + "/*"}}}},
		{Sid: "ReadState", Actions: []string{"s3:GetObject"}, Resources: []string{a.stateObjects()}},
		a.useStateKey("kms:Decrypt"),
		{Sid: "RefreshMetadata", Actions: RefreshReadActions, Resources: []string{"*"}},
		// The provider finds a bucket with HeadBucket, which S3 authorizes
		// as s3:ListBucket: key names of this env's buckets, never a body.
		{Sid: "FindThisEnvsBuckets", Actions: []string{"s3:ListBucket"}, Resources: a.dataBuckets()},
		// Refreshing the identity stack's aws_s3_object heads the CA bundle
		// (HeadObject is authorized as s3:GetObject) and reads its tags. The
		// bundle is the root certificate, a public document; no other object
		// of the PKI bucket is readable.
		{Sid: "RefreshTheCABundle", Actions: []string{"s3:GetObject", "s3:GetObjectTagging"}, Resources: []string{a.caBundle()}},
		{Sid: "NoDataReads", Effect: "Deny", Actions: DataReadActions, NotResources: []string{a.stateObjects(), a.caBundle()}},
	}
}

// pkiBucket is the identity stack's bucket (CRLs and the CA bundle).
func (a roleARNs) pkiBucket() string {
	return "arn:aws:s3:::" + a.names.DataBucket(naming.PKIBucketKind)
}

// caBundle is the public CA bundle object the ALB trust store reads.
func (a roleARNs) caBundle() string { return a.pkiBucket() + "/" + TrustBundleKey }

// deployStatements: change this env's resources, identified by name
// prefix where the service names them, by the Environment tag where it
// does not; create roles only under the workload boundary; never touch
// the state store, the GitHub roles or the boundary, and never assume
// another role.
func (a roleARNs) deployStatements() []sp.Statement {
	cfg, n, region := a.cfg, a.names, a.cfg.Region
	prefix := n.Prefix()
	iamRole := a.workloadRoles()
	cluster := n.Cluster()
	eksArns := []string{
		a.arn("eks", region, "cluster/"+cluster),
		a.arn("eks", region, "nodegroup/"+cluster+"/*"),
		a.arn("eks", region, "addon/"+cluster+"/*"),
		a.arn("eks", region, "access-entry/"+cluster+"/*"),
	}
	dataBuckets := a.dataBuckets()
	st := []sp.Statement{
		{Sid: "RefreshMetadata", Actions: DeployReadActions, Resources: []string{"*"}},
		{Sid: "ListState", Actions: []string{"s3:ListBucket"}, Resources: []string{a.stateBucket}},
		// State files and their S3 lock objects (<key>.tflock, use_lockfile).
		{Sid: "WriteState", Actions: []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, Resources: []string{a.stateObjects()}},
		a.useStateKey("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"),

		// EKS: the env's cluster, by name
		{Sid: "ThisEnvsCluster", Actions: []string{"eks:*"}, Resources: eksArns},
		// CreateCluster takes no resource: the cluster is created tagged
		// with this env (and named by ThisEnvsCluster for everything after).
		{Sid: "CreateTheClusterTaggedForThisEnv", Actions: []string{"eks:CreateCluster"}, Resources: []string{"*"},
			Conditions: a.tagOnCreate()},
		{Sid: "PassRolesToEksAndFlowLogs", Actions: []string{"iam:PassRole"}, Resources: []string{iamRole},
			Conditions: []sp.Condition{{Test: "StringEquals", Variable: "iam:PassedToService", Values: PassRoleServices}}},

		// KMS: keys tagged with this env, aliases by name
		{Sid: "CreateKeysTaggedForThisEnv", Actions: []string{"kms:CreateKey", "kms:TagResource"}, Resources: []string{"*"},
			Conditions: a.tagOnCreate()},
		{Sid: "ChangeThisEnvsKeys", Actions: []string{
			"kms:CreateAlias", "kms:CreateGrant", "kms:DeleteAlias", "kms:DescribeKey", "kms:EnableKeyRotation",
			"kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
			"kms:UpdateAlias", "kms:UpdateKeyDescription",
		}, Resources: a.regionalArns("kms", "key/*"), Conditions: []sp.Condition{a.envTag("ResourceTag")}},
		{Sid: "ThisEnvsAliases", Actions: []string{"kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"},
			Resources: a.regionalArns("kms", "alias/"+prefix+"-*")},

		// CloudWatch Logs: groups whose name carries "<org>-<env>-"
		{Sid: "ThisEnvsLogGroups", Actions: []string{
			"logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy",
			"logs:DisassociateKmsKey", "logs:PutRetentionPolicy", "logs:TagLogGroup", "logs:TagResource",
			"logs:UntagLogGroup", "logs:UntagResource",
		}, Resources: a.regionalArns("logs", "log-group:*"+prefix+"-*")},
		// S3: the env's data buckets by name, configuration only
		{Sid: "ThisEnvsBuckets", Actions: InfraDeployS3Actions, Resources: dataBuckets},

		// IAM: roles on the workload path named "<org>-<env>-*", and only
		// under the boundary
		{Sid: "CreateRolesUnderTheBoundary", Actions: []string{
			"iam:CreateRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
		}, Resources: []string{iamRole}, Conditions: []sp.Condition{a.boundaryTest()}},
		{Sid: "AttachOnlyListedPolicies", Actions: []string{"iam:AttachRolePolicy"}, Resources: []string{iamRole},
			Conditions: []sp.Condition{a.boundaryTest(), {Test: "ArnEquals", Variable: "iam:PolicyARN", Values: AttachablePolicyArns}}},
		{Sid: "MaintainThisEnvsRoles", Actions: []string{
			"iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
		}, Resources: []string{iamRole}},
		{Sid: "ClusterOidcProviders", Actions: []string{
			"iam:AddClientIDToOpenIDConnectProvider", "iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider",
			"iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
		}, Resources: []string{fmt.Sprintf("arn:aws:iam::%s:oidc-provider/oidc.eks.%s.amazonaws.com/id/*", a.account, region)}},
		{Sid: "ServiceLinkedRoles", Actions: []string{"iam:CreateServiceLinkedRole"},
			Resources:  []string{fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/*", a.account)},
			Conditions: []sp.Condition{{Test: "StringEquals", Variable: "iam:AWSServiceName", Values: LinkedRoleServices}}},
	}
	if cfg.CDN.CreateHostedZone {
		st = append(st, sp.Statement{Sid: "TheCdnHostedZone", Actions: []string{
			"route53:ChangeTagsForResource", "route53:CreateHostedZone", "route53:DeleteHostedZone",
		}, Resources: []string{"*"}})
	}
	return st
}

// apiNames strips the service prefix: ec2:CreateAction holds the API name
// ("CreateVpc"), not the IAM action.
func apiNames(actions []string) []string {
	out := make([]string, 0, len(actions))
	for _, a := range actions {
		out = append(out, a[strings.Index(a, ":")+1:])
	}
	return out
}

// regions are where the env has resources: its own region and us-east-1
// (CloudFront's certificates, the CDN's web ACL and its logs and key).
func (a roleARNs) regionalArns(service, resource string) []string {
	return []string{a.arn(service, a.cfg.Region, resource), a.arn(service, CertificateRegion, resource)}
}

// deployServiceStatements: tables, alarms, WAF logging, queues and
// secrets. A managed policy of its own, to keep the inline policy under
// IAM's size limit.
// deployCdnStatements: CloudFront, ACM (us-east-1), WAF and Route 53 for
// the CDN, the CRL host and the env's service records; a managed policy of
// its own, so the inline policy stays under IAM's size limit.
func (a roleARNs) deployCdnStatements() []sp.Statement {
	region, prefix := a.cfg.Region, a.names.Prefix()
	return []sp.Statement{
		// CloudFront, ACM (us-east-1), WAF, Route 53: the CDN and the CRL host
		{Sid: "CreateCdnTaggedForThisEnv", Actions: []string{
			"acm:AddTagsToCertificate", "acm:RequestCertificate", "cloudfront:CreateDistribution", "cloudfront:TagResource",
		}, Resources: []string{"*"}, Conditions: a.tagOnCreate()},
		{Sid: "ChangeThisEnvsCdn", Actions: []string{
			"acm:DeleteCertificate", "acm:RemoveTagsFromCertificate",
			"cloudfront:DeleteDistribution", "cloudfront:UntagResource", "cloudfront:UpdateDistribution",
		}, Resources: []string{"*"}, Conditions: []sp.Condition{a.envTag("ResourceTag")}},
		// Creating an origin access control or a response headers policy
		// takes no resource; nor does any call on the public key and key
		// group that verify licensed URLs (the key is KMS's public half).
		{Sid: "CreateCdnPolicies", Actions: []string{
			"cloudfront:CreateKeyGroup", "cloudfront:CreateOriginAccessControl", "cloudfront:CreatePublicKey",
			"cloudfront:CreateResponseHeadersPolicy", "cloudfront:DeleteKeyGroup", "cloudfront:DeletePublicKey",
			"cloudfront:UpdateKeyGroup", "cloudfront:UpdatePublicKey",
		}, Resources: []string{"*"}},
		{Sid: "CdnPolicies", Actions: []string{
			"cloudfront:DeleteOriginAccessControl", "cloudfront:DeleteResponseHeadersPolicy",
			"cloudfront:UpdateOriginAccessControl", "cloudfront:UpdateResponseHeadersPolicy",
		}, Resources: []string{
			fmt.Sprintf("arn:aws:cloudfront::%s:origin-access-control/*", a.account),
			fmt.Sprintf("arn:aws:cloudfront::%s:response-headers-policy/*", a.account),
		}},
		{Sid: "ThisEnvsWebAcl", Actions: []string{
			"wafv2:CreateWebACL", "wafv2:DeleteLoggingConfiguration", "wafv2:DeleteWebACL", "wafv2:PutLoggingConfiguration",
			"wafv2:TagResource", "wafv2:UntagResource", "wafv2:UpdateWebACL",
		}, Resources: []string{
			a.arn("wafv2", CertificateRegion, "global/webacl/"+prefix+"-*"),
			a.arn("wafv2", CertificateRegion, "global/managedruleset/*"),
			// the marketplace's regional web ACL
			a.arn("wafv2", region, "regional/webacl/"+prefix+"-*"),
			a.arn("wafv2", region, "regional/managedruleset/*"),
		}},
		{Sid: "ThisEnvsRecords", Actions: []string{"route53:ChangeResourceRecordSets"}, Resources: []string{"arn:aws:route53:::hostedzone/*"},
			Conditions: []sp.Condition{{Test: "ForAllValues:StringLike", Variable: "route53:ChangeResourceRecordSetsNormalizedRecordNames",
				Values: a.recordNames()}}},
	}
}

func (a roleARNs) deployServiceStatements() []sp.Statement {
	region, prefix := a.cfg.Region, a.names.Prefix()
	return []sp.Statement{
		// WAF logging: the log delivery and the log group's resource policy
		// (these actions take no resource).
		{Sid: "WafLogDelivery", Actions: []string{
			"logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DeleteResourcePolicy", "logs:DescribeResourcePolicies",
			"logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
		}, Resources: []string{"*"}},

		// DynamoDB tables (beacons, device ledger) and CloudWatch alarms, by name
		{Sid: "ThisEnvsTables", Actions: []string{
			"dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:TagResource", "dynamodb:UntagResource",
			"dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive",
		}, Resources: []string{a.arn("dynamodb", region, "table/"+prefix+"-*")}},
		{Sid: "ThisEnvsAlarms", Actions: []string{
			"cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource",
		}, Resources: []string{a.arn("cloudwatch", region, "alarm:"+prefix+"-*")}},

		// Secrets Manager: secrets created empty (values come from External
		// Secrets in the cluster), tagged with this env; never their values
		{Sid: "CreateSecretsTaggedForThisEnv", Actions: []string{"secretsmanager:CreateSecret", "secretsmanager:TagResource"},
			Resources: []string{"*"}, Conditions: a.tagOnCreate()},
		{Sid: "ChangeThisEnvsSecrets", Actions: []string{
			"secretsmanager:DeleteResourcePolicy", "secretsmanager:DeleteSecret", "secretsmanager:PutResourcePolicy",
			"secretsmanager:TagResource", "secretsmanager:UntagResource", "secretsmanager:UpdateSecret",
		}, Resources: []string{a.arn("secretsmanager", region, "secret:*")}, Conditions: []sp.Condition{a.envTag("ResourceTag")}},

		// SNS: the alarm topic "<org>-<env>-alarms" (storage stack)
		{Sid: "ThisEnvsTopics", Actions: []string{
			"sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:ListTagsForResource",
			"sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource",
		}, Resources: []string{a.arn("sns", region, prefix+"-*")}},

		// SQS: queues named "<org>-<env>-*", configuration only
		{Sid: "ThisEnvsQueues", Actions: []string{
			"sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue",
		}, Resources: []string{a.arn("sqs", region, prefix+"-*")}},
	}
}

// tagOnCreate admits a create (or the tagging call that comes with it) only
// when it tags the new resource with this env; IfExists on the resource
// tag stops the same grant from re-tagging another env's resource.
func (a roleARNs) tagOnCreate() []sp.Condition {
	return []sp.Condition{a.envTag("RequestTag"),
		{Test: "StringEqualsIfExists", Variable: "aws:ResourceTag/Environment", Values: []string{a.cfg.Env}}}
}

// deployNetworkStatements: EC2 (network, launch template, node security
// group), created tagged with this env and changed only when so tagged.
// They are a managed policy of their own, to keep the inline policy under
// IAM's size limit.
func (a roleARNs) deployNetworkStatements() []sp.Statement {
	return []sp.Statement{
		{Sid: "CreateNetworkTaggedForThisEnv", Actions: ec2CreateActions, Resources: []string{"*"},
			Conditions: []sp.Condition{a.envTag("RequestTag")}},
		{Sid: "TagOnCreate", Actions: []string{"ec2:CreateTags"}, Resources: []string{"*"},
			Conditions: []sp.Condition{{Test: "StringEquals", Variable: "ec2:CreateAction", Values: apiNames(ec2CreateActions)}}},
		// The VPC's default security group exists before Terraform adopts
		// it, untagged: it may be tagged into this env once, never retagged.
		{Sid: "AdoptTheDefaultSecurityGroup", Actions: []string{"ec2:CreateTags"},
			Resources:  []string{a.arn("ec2", a.cfg.Region, "security-group/*")},
			Conditions: []sp.Condition{a.envTag("RequestTag"), {Test: "Null", Variable: "aws:ResourceTag/Environment", Values: []string{"true"}}}},
		{Sid: "ChangeThisEnvsNetwork", Actions: ec2ChangeActions, Resources: []string{"*"},
			Conditions: []sp.Condition{a.envTag("ResourceTag")}},
	}
}

// deployIdentityStatements: what <env>-identity needs beyond the buckets,
// keys, roles and CloudFront grants above: its private CA (created tagged
// with this env, changed only when so tagged; nothing issued and no CA
// certificate installed: the PKI ceremony does that with the offline root
// key), the CA bundle object and the key that encrypts it, and the
// presigner's ALB trust store by name. A managed policy of its own,
// to keep the inline policy under IAM's size limit.
func (a roleARNs) deployIdentityStatements() []sp.Statement {
	region, prefix := a.cfg.Region, a.names.Prefix()
	cas := a.arn("acm-pca", region, "certificate-authority/*")
	return []sp.Statement{
		{Sid: "CreateCATaggedForThisEnv", Actions: []string{"acm-pca:CreateCertificateAuthority", "acm-pca:TagCertificateAuthority"},
			Resources: []string{"*"}, Conditions: a.tagOnCreate()},
		{Sid: "ChangeThisEnvsCA", Actions: []string{
			"acm-pca:DeleteCertificateAuthority", "acm-pca:DescribeCertificateAuthority", "acm-pca:GetCertificate",
			"acm-pca:GetCertificateAuthorityCertificate", "acm-pca:GetCertificateAuthorityCsr",
			"acm-pca:ListTags", "acm-pca:TagCertificateAuthority",
			"acm-pca:UntagCertificateAuthority", "acm-pca:UpdateCertificateAuthority",
		}, Resources: []string{cas}, Conditions: []sp.Condition{a.envTag("ResourceTag")}},
		// The bundle under trust/ only: CRLs are written by ACM PCA itself.
		// Versions: an object in a versioned bucket is destroyed version by
		// version, and the trust store names the version it reads.
		{Sid: "TheCABundle", Actions: []string{
			"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectTagging", "s3:GetObjectVersion",
			"s3:PutObject", "s3:PutObjectTagging",
		}, Resources: []string{a.pkiBucket() + "/" + path.Dir(TrustBundleKey) + "/*"}},
		{Sid: "ListCABundleVersions", Actions: []string{"s3:ListBucketVersions"}, Resources: []string{a.pkiBucket()}},
		// kms:ResourceAliases is multivalued, so ForAnyValue is correct here.
		{Sid: "UseThePKIKey", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resources: []string{a.arn("kms", region, "key/*")},
			Conditions: []sp.Condition{{Test: "ForAnyValue:StringEquals", Variable: "kms:ResourceAliases", Values: []string{"alias/" + prefix + "-pki"}}}},
		// No AddTrustStoreRevocations: the crl-sync job owns the trust
		// store's revocation list. Remove stays so an apply can still drop a
		// list an earlier version of the stack attached.
		{Sid: "ThisEnvsTrustStore", Actions: []string{
			"elasticloadbalancing:AddTags", "elasticloadbalancing:CreateTrustStore",
			"elasticloadbalancing:DeleteTrustStore", "elasticloadbalancing:ModifyTrustStore", "elasticloadbalancing:RemoveTags",
			"elasticloadbalancing:RemoveTrustStoreRevocations",
		}, Resources: []string{a.arn("elasticloadbalancing", region, "truststore/"+prefix+"-devices/*")}},
	}
}

// PublicHostServices are the services with a public name of their own
// (cfg.ServiceHost): the identity stack's CRL host, the edge NATS
// endpoint, the presigner, the beacons admin UI and the marketplace. Each
// has alias records and a certificate whose validation records sit under it.
var PublicHostServices = []string{CRLHostService, "edge", "presign", BeaconsAdminAccount, "market"}

// recordNames are the DNS names the deploy role may change: the CDN's and
// each service host's, and the validation records under them.
func (a roleARNs) recordNames() []string {
	out := []string{a.cfg.CDN.Domain, "*." + a.cfg.CDN.Domain}
	for _, svc := range PublicHostServices {
		host := a.cfg.ServiceHost(svc)
		out = append(out, host, "*."+host)
	}
	return out
}

// dataBuckets are the ARNs of the env's buckets other than the state bucket.
func (a roleARNs) dataBuckets() []string {
	var out []string
	for _, b := range a.names.Buckets() {
		if b != a.names.StateBucket() {
			out = append(out, "arn:aws:s3:::"+b)
		}
	}
	return out
}

// workloadRoles are the roles CI creates: "<org>-<env>-*" on the workload
// path. Every other role of the account (the GitHub and operator roles,
// break-glass, anything on "/") is out of the deploy role's reach.
func (a roleARNs) workloadRoles() string {
	return fmt.Sprintf("arn:aws:iam::%s:role%s%s-*", a.account, naming.WorkloadRolePath, a.names.Prefix())
}

// RoleWriteActions change whether a role exists, who may assume it, what
// it may do, or hand it to a service.
var RoleWriteActions = []string{
	"iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary", "iam:DeleteRolePolicy",
	"iam:DetachRolePolicy", "iam:PassRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:TagRole",
	"iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
}

func (a roleARNs) boundaryTest() sp.Condition {
	return sp.Condition{Test: "StringEquals", Variable: "iam:PermissionsBoundary", Values: []string{a.boundary}}
}

// deployDenies go into their own managed policy, attached to the deploy
// role (an inline policy is limited to 10,240 characters per role). They
// hold whatever the allows above might later grow into. The
// state store is named by ARN (and its key by an alias the role cannot
// move), not by a tag the role could edit.
func (a roleARNs) deployDenies() []sp.Statement {
	prefix := a.names.Prefix()
	return []sp.Statement{
		// The roles CI must never touch, by name on any path (the GitHub
		// roles, the operators' revocation role, break-glass), and the
		// boundary; then every role write outside the workload path, so no
		// other role can be re-trusted, extended, or deleted and re-created
		// under its name.
		{Sid: "NoSelfEscalation", Effect: "Deny", Actions: []string{"iam:*"}, Resources: []string{
			fmt.Sprintf("arn:aws:iam::%s:role/*%s-gha-*", a.account, prefix),
			fmt.Sprintf("arn:aws:iam::%s:role/*%s-%s", a.account, prefix, DeviceRevocationPurpose),
			fmt.Sprintf("arn:aws:iam::%s:role/*%s-break-glass", a.account, prefix),
			a.cfg.Cluster.BreakGlassRoleArn,
			a.boundary,
		}},
		{Sid: "OnlyWorkloadRoles", Effect: "Deny", Actions: RoleWriteActions, NotResources: []string{
			a.workloadRoles(), fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/*", a.account),
		}},
		{Sid: "BoundaryStays", Effect: "Deny", Actions: []string{"iam:DeleteRolePermissionsBoundary"}, Resources: []string{"*"}},
		{Sid: "NoRoleChaining", Effect: "Deny", Actions: []string{"sts:AssumeRole"}, Resources: []string{"*"}},
		{Sid: "StateStoreIsHumanOnly", Effect: "Deny", Actions: []string{
			"dynamodb:DeleteTable", "dynamodb:UpdateTable", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:DeleteObjectVersion",
			"s3:PutBucketPolicy", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
		}, Resources: []string{a.stateBucket, a.stateBucket + "/*", a.lockTable}},
		{Sid: "StateKeyAliasStays", Effect: "Deny", Actions: []string{"kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"},
			Resources: []string{a.arn("kms", a.cfg.Region, stateKeyAlias(a.names))}},
		{Sid: "StateKeyIsHumanOnly", Effect: "Deny", Actions: []string{
			"kms:CreateGrant", "kms:DisableKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
		}, Resources: []string{"*"}, Conditions: []sp.Condition{a.stateKeyTest}},
		// CI never mints a certificate of any template and never installs a
		// CA certificate: subordinate CA certificates come from the PKI
		// ceremony (offline root key, MFA), device certificates from the
		// enrollment service, in-cluster ones from cert-manager. It never
		// revokes either: revocation is an operator's act with MFA
		// (device-revocation role).
		{Sid: "NoCertificates", Effect: "Deny", Actions: []string{"acm-pca:IssueCertificate", "acm-pca:ImportCertificateAuthorityCertificate"}, Resources: []string{"*"}},
		{Sid: "NoRevocations", Effect: "Deny", Actions: []string{"acm-pca:RevokeCertificate"}, Resources: []string{"*"}},
	}
}

// Subjects the GitHub roles trust (docs/cicd.md has the table). The
// repository's OIDC subject template (the github stack) puts the job's
// workflow file and ref into the sub claim:
// repo:<org>/<repo>:<context>:job_workflow_ref:<org>/<repo>/.github/workflows/<file>@<ref>.
// A role is thereby tied to reviewed workflow files on main, not only to a
// GitHub environment: a branch's edited copy of a workflow, dispatched into
// the environment, carries its own ref and is refused.

// Workflow files the roles trust.
const (
	InfraCIWorkflow     = "infra-ci.yml"
	InfraDeployWorkflow = "infra-deploy.yml"
	SecurityWorkflow    = "security.yml"
	// MainRef is the only ref deploys run from.
	MainRef = envs.MainRef
	// PullRequestRef is the merge ref of any pull request.
	PullRequestRef = "refs/pull/*/merge"
)

// SubjectClaimKeys are the claims of the repository's OIDC subject
// template, in order.
var SubjectClaimKeys = []string{"repo", "context", "job_workflow_ref"}

func githubSubject(cfg *envs.Config, context, workflow, ref string) string {
	return cfg.GitHubSubject(context, workflow, ref)
}

// PlanSubjects: drift checks of security.yml on main (exact), and the PR
// plans of infra-ci.yml on any pull request's merge ref (a pattern); where
// cicd.planEnvironment is set, only PR jobs its reviewers approved.
func PlanSubjects(cfg *envs.Config) (exact, patterns []string) {
	pr := "pull_request"
	if cfg.CICD.PlanEnvironment != "" {
		pr = "environment:" + cfg.CICD.PlanEnvironment
	}
	return []string{githubSubject(cfg, "ref:"+MainRef, SecurityWorkflow, MainRef)},
		[]string{githubSubject(cfg, pr, InfraCIWorkflow, PullRequestRef)}
}

// InfraDeploySubjects are the "<env>-infra" GitHub environment's jobs of
// infra-deploy.yml and of security.yml (the cluster baseline), on main.
func InfraDeploySubjects(cfg *envs.Config) []string {
	env := "environment:" + cfg.InfraEnvironment()
	return []string{githubSubject(cfg, env, InfraDeployWorkflow, MainRef), githubSubject(cfg, env, SecurityWorkflow, MainRef)}
}

// ServiceDeploySubject is svc's own workflow, deploy-<svc>.yml on main, in
// its own "<env>-deploy-<svc>" GitHub environment: no other workflow names
// that environment, and a branch's copy of the file carries its own ref.
func ServiceDeploySubject(cfg *envs.Config, svc string) string {
	return cfg.ServiceDeploySubject(svc)
}
