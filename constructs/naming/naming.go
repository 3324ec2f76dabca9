// Package naming derives every AWS and Kubernetes name the platform uses from
// the three values an SRE exports for a session (ORG, ENV, AWS_REGION), so the
// names match the setup guide exactly and are computed in one place only.
//
// It is a plain Go package with no CDKTF dependency, so the env config loader
// can validate derived names (length limits) before any synthesis starts.
package naming

import "fmt"

// AWS limits that derived names must respect; checked when the config loads.
const (
	// MaxBucketName is the S3 bucket name limit.
	MaxBucketName = 63
	// MaxRoleName is the IAM role name limit.
	MaxRoleName = 64
	// MaxTableName is the DynamoDB table name limit.
	MaxTableName = 255
	// MaxClusterName is the EKS cluster name limit.
	MaxClusterName = 100
	// MaxConnectionName is the CodeConnections connection name limit.
	MaxConnectionName = 32
)

// Project is the value of the Project tag on every resource.
const Project = "spatial-properties"

// Kubernetes namespaces named by the guide.
const (
	NamespaceObservability = "observability"
	NamespaceLBC           = "aws-lbc"
	NamespaceServices      = "spatial-properties"
	NamespaceEdge          = "edge-sync"
	NamespaceKubeSystem    = "kube-system"
	// NamespaceExternalSecrets holds External Secrets Operator.
	NamespaceExternalSecrets = "external-secrets"
)

// Names holds the inputs every derived name is built from.
type Names struct {
	Org    string
	Env    string
	Region string
	// SharedAccount is set when another environment lives in the same AWS
	// account: account-global names that would otherwise be "<org>/..."
	// then carry the env too, so two envs never create the same name.
	SharedAccount bool
}

// New returns the naming scheme for one environment.
func New(org, env, region string) Names { return Names{Org: org, Env: env, Region: region} }

// Prefix is "<org>-<env>", the stem of most resource names.
func (n Names) Prefix() string { return n.Org + "-" + n.Env }

// StackID is the CDKTF stack id "<env>-<component>", e.g. "dev-network".
func (n Names) StackID(component string) string { return n.Env + "-" + component }

// StateBucket is the Terraform state bucket "tfstate-<org>-<env>-<region>".
func (n Names) StateBucket() string {
	return fmt.Sprintf("tfstate-%s-%s-%s", n.Org, n.Env, n.Region)
}

// StateLogsBucket receives the state bucket's server access logs:
// "tfstate-logs-<org>-<env>-<region>".
func (n Names) StateLogsBucket() string {
	return fmt.Sprintf("tfstate-logs-%s-%s-%s", n.Org, n.Env, n.Region)
}

// TrailBucket holds CloudTrail and AWS Config deliveries when the
// environment creates its own account baseline:
// "audit-<org>-<env>-<region>".
func (n Names) TrailBucket() string {
	return fmt.Sprintf("audit-%s-%s-%s", n.Org, n.Env, n.Region)
}

// LockTable is the DynamoDB state-lock table "tf-lock-<org>-<env>-<region>".
func (n Names) LockTable() string {
	return fmt.Sprintf("tf-lock-%s-%s-%s", n.Org, n.Env, n.Region)
}

// StateKey is the object key of one stack's state: "<env>/<component>.tfstate".
func (n Names) StateKey(component string) string {
	return fmt.Sprintf("%s/%s.tfstate", n.Env, component)
}

// Vpc is the VPC name "<org>-<env>-vpc".
func (n Names) Vpc() string { return n.Prefix() + "-vpc" }

// Cluster is the EKS cluster name "<org>-<env>-eks".
func (n Names) Cluster() string { return n.Prefix() + "-eks" }

// DataBucket is one of the Spatial Packs buckets: kind is "packs", "stac" or
// "logs", giving "spatial-<kind>-<org>-<env>-<region>".
func (n Names) DataBucket(kind string) string {
	return fmt.Sprintf("spatial-%s-%s-%s-%s", kind, n.Org, n.Env, n.Region)
}

// DataKeyAlias is the alias of the customer-managed data key.
func (n Names) DataKeyAlias() string { return "alias/" + n.Prefix() + "-data" }

// OAC is the CloudFront origin access control name "<org>-<env>-oac".
func (n Names) OAC() string { return n.Prefix() + "-oac" }

// EcrRepository is the ECR repository of one service: "<org>/<service>",
// the guide's name, when the env has its own account, and
// "<org>/<env>/<service>" when it shares the account with another env.
func (n Names) EcrRepository(service string) string { return n.EcrPrefix() + service }

// EcrPrefix is what every repository name of the env starts with.
func (n Names) EcrPrefix() string {
	if n.SharedAccount {
		return n.Org + "/" + n.Env + "/"
	}
	return n.Org + "/"
}

// WorkloadBoundary is the name of the IAM policy every role the stacks
// create carries as its permissions boundary: "<org>-<env>-workload-boundary".
func (n Names) WorkloadBoundary() string { return n.Prefix() + "-workload-boundary" }

// RunnerProject is the CodeBuild project that hosts the env's in-VPC
// GitHub Actions runners; workflows select it with
// runs-on: codebuild-<project>-<run id>-<attempt>.
func (n Names) RunnerProject() string { return n.Prefix() + "-gha-runner" }

// PlanRunnerProject hosts the env's pull-request plans: a project of its
// own, so the deploy runners run only workflows on main.
func (n Names) PlanRunnerProject() string { return n.Prefix() + "-gha-plan-runner" }

// GitHubConnection is the CodeConnections connection to GitHub the runner
// project authenticates with (AWS limits the name to 32 characters).
func (n Names) GitHubConnection() string { return n.Prefix() + "-github" }

// SecretPrefix is the Secrets Manager name prefix of this environment's
// secrets, "<org>/<env>/": the External Secrets role may read nothing else.
func (n Names) SecretPrefix() string { return n.Org + "/" + n.Env + "/" }

// Secret is the Secrets Manager name of one of this environment's secrets.
func (n Names) Secret(name string) string { return n.SecretPrefix() + name }

// Role is an IAM role name scoped to this environment: "<org>-<env>-<purpose>".
func (n Names) Role(purpose string) string { return n.Prefix() + "-" + purpose }

// WorkloadRolePath is the IAM path of every role CI creates (IRSA, the
// cluster, node and flow-log roles): the infra deploy role may create and
// change roles only on it, so the GitHub roles, the operators' roles and
// the break-glass role, all on "/", are out of its reach by ARN.
const WorkloadRolePath = "/workload/"

// WorkloadRoleArn is the ARN of the workload role with the given purpose.
func (n Names) WorkloadRoleArn(account, purpose string) string {
	return "arn:aws:iam::" + account + ":role" + WorkloadRolePath + n.Role(purpose)
}

// DataBucketKinds are the three buckets of E1.2, in a stable order.
var DataBucketKinds = []string{"packs", "stac", "logs"}

// RolePurposes lists every IAM role the stacks create, so their full names can
// be length-checked up front instead of failing at apply time.
var RolePurposes = []string{
	"vpc-flow-logs",
	"eks-cluster",
	"eks-node",
	"irsa-ebs-csi",
	"irsa-cluster-autoscaler",
	"irsa-aws-lbc",
	"gha-infra-plan",
	"gha-infra-deploy",
	"gha-runner",
	"gha-plan-runner",
	"irsa-dtn-gateway",
	"irsa-external-secrets",
	"irsa-alertmanager",
	"irsa-grafana-cloudwatch",
	"irsa-beacons",
	"irsa-beacons-admin",
	"irsa-beacon-rotate",
	"irsa-marketplace-api",
	"irsa-provenance-gate",
	"irsa-billing-stub",
	"irsa-billing-connector",
	"irsa-pca-issuer",
	"irsa-device-enrollment",
	"irsa-cdn-presigner",
	"irsa-pack-service",
	"irsa-crl-sync",
	"device-revocation",
	"pki-ceremony",
	"irsa-cdn-presigner",
	"irsa-beacons-admin-oidc",
	"irsa-loki",
	"irsa-tempo",
	"backup",
}

// EdgeBucketKinds are the edge stack's buckets (DTN store-and-forward).
var EdgeBucketKinds = []string{"dtn"}

// TelemetryBucketKinds are the storage stack's buckets for Loki's chunks
// and index and Tempo's trace blocks.
var TelemetryBucketKinds = []string{"loki", "tempo"}

// TelemetryKeyAlias is the alias of the key that encrypts the telemetry
// buckets. Loki and Tempo may use it; neither may use the data key.
func (n Names) TelemetryKeyAlias() string { return "alias/" + n.Prefix() + "-telemetry" }

// BackupVault is the AWS Backup vault of the env, in its region and in the
// copy region alike: "<org>-<env>-backup".
func (n Names) BackupVault() string { return n.Prefix() + "-backup" }

// BackupKeyAlias is the alias of the key that encrypts the vault (one key
// per region).
func (n Names) BackupKeyAlias() string { return "alias/" + n.Prefix() + "-backup" }

// PKIBucketKind is the identity stack's bucket (CRLs and the CA bundle):
// spatial-pki-<org>-<env>-<region>.
const PKIBucketKind = "pki"

// Buckets returns every S3 bucket name of the environment.
func (n Names) Buckets() []string {
	out := []string{n.StateBucket(), n.StateLogsBucket(), n.TrailBucket()}
	kinds := append(append(append([]string(nil), DataBucketKinds...), TelemetryBucketKinds...), EdgeBucketKinds...)
	for _, k := range kinds {
		out = append(out, n.DataBucket(k))
	}
	return append(out, n.DataBucket(PKIBucketKind))
}

// Roles returns every IAM role name of the environment: the fixed ones and
// one deploy role per service ("<org>-<env>-gha-deploy-<service>").
func (n Names) Roles(services ...string) []string {
	out := make([]string, 0, len(RolePurposes)+len(services))
	for _, p := range RolePurposes {
		out = append(out, n.Role(p))
	}
	for _, s := range services {
		out = append(out, n.Role("gha-deploy-"+s))
	}
	return out
}
