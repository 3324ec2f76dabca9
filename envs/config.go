// Package envs loads the per-environment configuration (dev, staging, prod)
// that every stack is built from. The YAML files are embedded in the binary,
// decoded strictly (an unknown key is an error), filled with defaults, then
// overridden by the guide's session variables ORG, ENV and AWS_REGION.
package envs

// Config is everything one environment's stacks are built from. Field docs
// give units, defaults and valid values; Validate enforces them.
type Config struct {
	// Org is the organisation slug used in every name (lowercase letters,
	// digits, hyphens). Overridden by ORG.
	Org string `yaml:"org"`
	// Env is the environment name; it must match the file name. Selected by ENV.
	Env string `yaml:"env"`
	// Region is the AWS region of the environment. Overridden by AWS_REGION.
	Region string `yaml:"region"`
	// Domain is the apex domain whose Route53 zone holds the CDN records.
	Domain string `yaml:"domain"`
	// AccountID, when set, pins the AWS provider to this account
	// (allowed_account_ids) so a deploy with the wrong credentials fails fast.
	AccountID string `yaml:"accountId"`
	// Tags are the organisation's required tags, applied to every resource.
	Tags RequiredTags `yaml:"tags"`

	Network       Network       `yaml:"network"`
	Cluster       Cluster       `yaml:"cluster"`
	Storage       Storage       `yaml:"storage"`
	CDN           CDN           `yaml:"cdn"`
	CICD          CICD          `yaml:"cicd"`
	Observability Observability `yaml:"observability"`
	Edge          Edge          `yaml:"edge"`
	// Marketplace switches and configures the marketplace stack.
	Marketplace Marketplace `yaml:"marketplace"`
	// Workloads pins the images of the privileged workloads the infra
	// stacks deploy (envs/workloads.go), keyed by workload name.
	Workloads map[string]Workload `yaml:"workloads"`
	// Identity configures the private CA and device certificates (identity.go).
	Identity Identity `yaml:"identity"`
	// AccountBaseline switches the account-level detection services.
	AccountBaseline AccountBaseline `yaml:"accountBaseline"`
	// Backup switches AWS Backup's locked, cross-region copies (backup.go).
	Backup Backup `yaml:"backup"`

	// file is the embedded file the config came from, used in error messages.
	file string
	// src locates each key in the file (line numbers for messages).
	src *source
}

// RequiredTags are the tags the policy checks demand beyond Environment,
// Project and Service (which are derived).
type RequiredTags struct {
	// CostCenter is the team that pays for the environment.
	CostCenter string `yaml:"CostCenter"`
	// Owner is the e-mail address of the accountable owner.
	Owner string `yaml:"Owner"`
}

// NAT gateway modes.
const (
	// NatSingle routes every private subnet through one NAT gateway: cheap,
	// but an AZ outage cuts egress for the whole VPC. Fine for dev.
	NatSingle = "single"
	// NatPerAZ gives each AZ its own NAT gateway, as production needs.
	NatPerAZ = "per-az"
)

// Network describes the VPC of the environment.
type Network struct {
	// VpcCidr is the VPC's IPv4 block, e.g. 10.0.0.0/16.
	VpcCidr string `yaml:"vpcCidr"`
	// AZs are availability-zone suffixes ("a", "b", "c") joined to the region,
	// so an AWS_REGION override keeps valid zone names. At least 2.
	AZs []string `yaml:"azs"`
	// PrivateSubnets has one CIDR per AZ, in AZ order, inside VpcCidr.
	PrivateSubnets []string `yaml:"privateSubnets"`
	// PublicSubnets has one CIDR per AZ, in AZ order, inside VpcCidr.
	PublicSubnets []string `yaml:"publicSubnets"`
	// NatMode is "single" or "per-az". Default: single.
	NatMode string `yaml:"natMode"`
	// FlowLogRetentionDays is how long VPC flow logs are kept. Default: 90.
	FlowLogRetentionDays int `yaml:"flowLogRetentionDays"`
}

// Cluster describes the EKS cluster and its managed node group.
type Cluster struct {
	// Version is the Kubernetes minor version. Default: 1.35. The guide's 1.30
	// has left EKS extended support; 1.35 is in standard support, which is
	// the cheapest tier and still receives patches.
	Version string `yaml:"version"`
	// EndpointPublicAccess opens the API endpoint to PublicAccessCidrs as
	// well as to the VPC. Default: true outside prod, false in prod. CI never
	// needs it: every job that talks to the API runs on the env's in-VPC
	// CodeBuild runners (docs/cicd.md).
	EndpointPublicAccess *bool `yaml:"endpointPublicAccess"`
	// PublicAccessCidrs is the operator-VPN list: the egress CIDRs of the
	// VPN that SREs run kubectl through, and nothing else (no CI ranges, no
	// office Wi-Fi): IPv4 blocks, required when EndpointPublicAccess is on.
	// 0.0.0.0/0 is refused everywhere, and prod refuses any public access.
	PublicAccessCidrs []string `yaml:"publicAccessCidrs"`
	// PublicAccessWidestPrefix caps how much of the internet
	// PublicAccessCidrs may open: together the blocks may cover at most as
	// many public addresses as one block of this prefix length. Counting the
	// union stops a wide opening split into pieces (0.0.0.0/1 + 128.0.0.0/1).
	// Private and reserved ranges do not count. Default: 16; valid: 8 to 32.
	PublicAccessWidestPrefix int `yaml:"publicAccessWidestPrefix"`
	// BreakGlassRoleArn is the only human identity with cluster-admin: an
	// IAM role in the env's account (arn:aws:iam::<account>:role/<name>)
	// whose use is audited. Required. The cluster creator gets no admin of
	// its own; the CI roles get the scopes listed in docs/cicd.md.
	BreakGlassRoleArn string `yaml:"breakGlassRoleArn"`
	// LogRetentionDays is how long control-plane logs are kept. Default: 90.
	LogRetentionDays int `yaml:"logRetentionDays"`
	// LogTypes are the control-plane logs shipped to CloudWatch, from
	// EKSLogTypes. Default: all five outside dev; in dev api, audit and
	// authenticator (the controller manager and scheduler logs are the
	// chattiest and cost the most, and dev holds no data worth an
	// investigation). Staging and prod must ship all five.
	LogTypes []string `yaml:"logTypes"`
	// NodeGroup sizes the managed node group.
	NodeGroup NodeGroup `yaml:"nodeGroup"`
}

// NodeGroup sizes the managed node group; the cluster autoscaler moves the
// desired size between Min and Max after creation.
type NodeGroup struct {
	// InstanceTypes default to [m6i.large].
	InstanceTypes []string `yaml:"instanceTypes"`
	// MinSize default 2, DesiredSize default 3, MaxSize default 6.
	MinSize     int `yaml:"minSize"`
	DesiredSize int `yaml:"desiredSize"`
	MaxSize     int `yaml:"maxSize"`
	// DiskSizeGiB is the encrypted gp3 root volume size. Default: 50.
	DiskSizeGiB int `yaml:"diskSizeGiB"`
	// CapacityType is ON_DEMAND (the default) or SPOT. Prod refuses SPOT,
	// and SPOT needs at least two instance types (envs/capacity.go).
	CapacityType string `yaml:"capacityType"`
	// WorkingHours, when set, scales the nodes to zero outside these hours
	// (dev only). Default: unset, nodes run around the clock.
	WorkingHours *WorkingHours `yaml:"workingHours"`
}

// Storage configures the three Spatial Packs buckets and their data key.
type Storage struct {
	// NoncurrentIADays, NoncurrentGlacierIRDays and NoncurrentExpireDays are
	// the guide's lifecycle for old object versions: 30, 90, 365 by default.
	NoncurrentIADays        int `yaml:"noncurrentIADays"`
	NoncurrentGlacierIRDays int `yaml:"noncurrentGlacierIRDays"`
	NoncurrentExpireDays    int `yaml:"noncurrentExpireDays"`
	// AbortMultipartDays cleans up abandoned multipart uploads. Default: 7.
	AbortMultipartDays int `yaml:"abortMultipartDays"`
	// LogRetentionDays expires access logs in the logs bucket. Default: 365.
	LogRetentionDays int `yaml:"logRetentionDays"`
	// CorsAllowedOrigins for packs and stac. Default: ["*"], as in the guide.
	CorsAllowedOrigins []string `yaml:"corsAllowedOrigins"`
}

// CDN configures CloudFront in front of the packs bucket.
type CDN struct {
	// Domain is the CDN host name. Default: cdn.<domain> in prod and
	// cdn.<env>.<domain> elsewhere, so environments never share a name.
	Domain string `yaml:"domain"`
	// CreateHostedZone creates the Route53 zone for Domain's apex instead of
	// looking up an existing one. Default: false.
	CreateHostedZone bool `yaml:"createHostedZone"`
	// EnableWAF attaches a web ACL with AWS managed rules and a rate limit.
	EnableWAF bool `yaml:"enableWaf"`
	// RateLimitPer5Min is the WAF per-IP request limit. Default: 2000.
	RateLimitPer5Min int `yaml:"rateLimitPer5Min"`
	// WafLogRetentionDays keeps WAF request logs (credentials redacted) in
	// CloudWatch. Default: 90.
	WafLogRetentionDays int `yaml:"wafLogRetentionDays"`
	// PriceClass of the distribution. Default: PriceClass_All.
	PriceClass string `yaml:"priceClass"`
}

// CICD configures ECR, GitHub Actions access and the in-VPC runners. The
// GitHub environments are fixed by convention: "<env>" gates service
// deploys, "<env>-infra" gates infrastructure deploys (see InfraEnvironment).
type CICD struct {
	// Services get one ECR repository "<org>/<service>" each.
	Services []string `yaml:"services"`
	// GitHubOrg and GitHubRepo identify the repository trusted through OIDC.
	GitHubOrg  string `yaml:"githubOrg"`
	GitHubRepo string `yaml:"githubRepo"`
	// PlanEnvironment, when set, is the GitHub environment the plan role
	// trusts instead of pull requests: a plan of this env then runs only
	// after that environment's reviewers approved the job. Required in
	// prod ("prod-plan"), whose plan must never run unreviewed PR code.
	PlanEnvironment string `yaml:"planEnvironment"`
	// SharedAccount declares that another env lives in the same AWS account.
	// Account-global names (ECR repositories) then carry the env, and
	// exactly one env of the account owns the GitHub OIDC provider. Default:
	// false, one account per env; two envs with the same accountId are
	// refused unless both set it.
	SharedAccount bool `yaml:"sharedAccount"`
	// CreateOIDCProvider creates the account-wide GitHub OIDC provider. With
	// one account per env every env sets it; in a shared account exactly one
	// env does and the others reference it.
	CreateOIDCProvider bool `yaml:"createOidcProvider"`
	// KeepTaggedImages is how many tagged images each repository keeps.
	KeepTaggedImages int `yaml:"keepTaggedImages"`
}

// Observability sizes the metrics, logs and traces stack and says where
// alerts go.
type Observability struct {
	// PrometheusRetention, e.g. "15d" (the guide's value and the default).
	PrometheusRetention string `yaml:"prometheusRetention"`
	// PrometheusStorageGi is the Prometheus volume size. Default: 50.
	PrometheusStorageGi int `yaml:"prometheusStorageGi"`
	// LokiRetentionDays is how long Loki keeps logs before its compactor
	// deletes them: 1 to 365 days. Default: 30. Size LokiStorageGi for this
	// many days of logs; without retention Loki keeps everything and the
	// volume fills.
	LokiRetentionDays int `yaml:"lokiRetentionDays"`
	// LokiStorageGi is the Loki volume size. Default: 10, as in the guide.
	LokiStorageGi int `yaml:"lokiStorageGi"`
	// TempoStorageGi is the Tempo volume size. Default: 10.
	TempoStorageGi int `yaml:"tempoStorageGi"`
	// Alerting names the receivers Alertmanager notifies.
	Alerting Alerting `yaml:"alerting"`
}

// Alerting names who hears about an alert. Critical alerts page
// (PagerDuty and/or SNS; Slack when neither is set); warnings go to chat
// (Slack; else SNS; else PagerDuty). Credentials never appear here: the
// Slack webhook URL and the PagerDuty routing key are read from the
// Kubernetes Secret alertmanager-receivers, which External Secrets fills
// from the Secrets Manager secret <org>/<env>/alertmanager-receivers.
// staging and prod must name at least one receiver.
type Alerting struct {
	// SlackChannel, e.g. "#spatialprops-prod-alerts", turns on Slack. The
	// webhook URL comes from the Secret's key slack-webhook-url.
	SlackChannel string `yaml:"slackChannel"`
	// PagerDuty turns on PagerDuty (Events API v2). The routing key comes
	// from the Secret's key pagerduty-routing-key.
	PagerDuty bool `yaml:"pagerDuty"`
	// SNSTopicArn turns on Amazon SNS (standard topic, not FIFO). Alertmanager
	// signs with SigV4 through an IRSA role that may only publish to it.
	SNSTopicArn string `yaml:"snsTopicArn"`
	// AllowNullReceiver accepts that alerts notify no one. Only dev may set
	// it, and only when no receiver is named.
	AllowNullReceiver bool `yaml:"allowNullReceiver"`
}

// HasReceiver reports whether any real receiver is configured.
func (a Alerting) HasReceiver() bool {
	return a.SlackChannel != "" || a.PagerDuty || a.SNSTopicArn != ""
}

// Edge switches the optional edge & marketplace components.
type Edge struct {
	// Enabled deploys the edge stack: NATS JetStream in edge-sync and the
	// DTN gateway's store-and-forward queue.
	Enabled bool `yaml:"enabled"`
	// EnvelopeMaxBytes caps hint/claim payloads. Default and maximum: 51200
	// (edge.MaxEnvelopeBytes).
	EnvelopeMaxBytes int `yaml:"envelopeMaxBytes"`
	// JetStreamStorageGi sizes each NATS server's JetStream volume.
	// Default: 10.
	JetStreamStorageGi int `yaml:"jetStreamStorageGi"`
	// P2PBridge is the optional leaf-node bridge to a peer hub (envs/p2pbridge.go).
	P2PBridge P2PBridge `yaml:"p2pBridge"`
	// AdminOIDC is the identity provider in front of the beacon admin UI
	// (envs/adminoidc.go). Required when the edge is enabled.
	AdminOIDC AdminOIDC `yaml:"adminOidc"`
}

// AccountBaseline covers CloudTrail, GuardDuty and AWS Config, which are
// account-wide. By default the stacks assume an organization landing zone
// (AWS Control Tower or equivalent) already runs them in every account:
// an organization trail, a delegated GuardDuty administrator and an
// aggregated Config recorder. Create them here only in an account that has
// none, or they would duplicate (and bill twice for) the organization's.
type AccountBaseline struct {
	// Create adds a multi-region CloudTrail trail with log file validation
	// into a KMS-encrypted bucket, a GuardDuty detector and an AWS Config
	// recorder to the state stack. Default: false.
	Create bool `yaml:"create"`
	// RetentionDays expires trail and Config objects. Default: 365.
	RetentionDays int `yaml:"retentionDays"`
}

// File is the embedded file this config was read from, e.g. "envs/dev.yaml".
func (c *Config) File() string { return c.file }

// At is where field is written, "envs/dev.yaml:14", or the nearest key
// that encloses it; the file alone when it writes neither.
func (c *Config) At(field string) string {
	if c.src == nil {
		return c.file
	}
	return c.src.at(field)
}

// InfraEnvironment is the GitHub environment infra deploys run in,
// "<env>-infra". Service deploys run in one environment per service
// (ServiceEnvironment): no two share a sub claim, so a service workflow can
// never assume the infra deploy role or another service's role.
func (c *Config) InfraEnvironment() string { return c.Env + "-infra" }

// ServiceEnvironment is the GitHub environment svc's deploy workflow runs
// in, "<env>-deploy-<svc>": its jobs' OIDC tokens name it, and only svc's
// deploy role trusts it.
func (c *Config) ServiceEnvironment(svc string) string { return c.Env + "-deploy-" + svc }

// MainRef is the only ref deploys run from.
const MainRef = "refs/heads/main"

// GitHubSubject is the OIDC sub claim of a job of this repository under
// its subject template (repo, context, job_workflow_ref): context is
// "environment:<name>", "ref:<ref>" or "pull_request".
func (c *Config) GitHubSubject(context, workflow, ref string) string {
	repo := c.CICD.GitHubOrg + "/" + c.CICD.GitHubRepo
	return "repo:" + repo + ":" + context + ":job_workflow_ref:" + repo + "/.github/workflows/" + workflow + "@" + ref
}

// ServiceDeploySubject is the one subject svc's deploy role trusts: its
// own workflow, deploy-<svc>.yml on main, in its own environment.
func (c *Config) ServiceDeploySubject(svc string) string {
	return c.GitHubSubject("environment:"+c.ServiceEnvironment(svc), "deploy-"+svc+".yml", MainRef)
}

// IsProd reports whether deletion protection and the stricter defaults apply.
func (c *Config) IsProd() bool { return c.Env == "prod" }

// Protect reports whether stateful resources get prevent_destroy and deletion
// protection: everywhere except dev, where teardown must stay cheap.
func (c *Config) Protect() bool { return c.Env != "dev" }

// FullAZs returns the availability-zone names, e.g. ap-southeast-2a.
func (c *Config) FullAZs() []string {
	out := make([]string, len(c.Network.AZs))
	for i, s := range c.Network.AZs {
		out[i] = c.Region + s
	}
	return out
}
