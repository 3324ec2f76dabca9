package cost

// PriceRegion is the one region the table prices; spctl cost refuses
// stacks synthesized for another.
const PriceRegion = "ap-southeast-2"

// HoursPerMonth is AWS's own convention for monthly estimates (8760 / 12).
const HoursPerMonth = 730

// PriceSource says where the table comes from and when it was read. Prices
// are USD, on-demand, Linux, region ap-southeast-2 (Sydney) unless marked
// global; taxes excluded.
const PriceSource = "EC2 instances: pinned extract " + ExtractFile + " (ec2instances.info data in " + ExtractModule +
	", built 2025-05-28); everything else: AWS public price pages (aws.amazon.com/<service>/pricing), read 2026-11-26 for ap-southeast-2"

// ExtractFile is the machine-readable extract the EC2 rates below are
// tested against (prices_test.go); `go run ./internal/ops/cost/refresh`
// rewrites it from ExtractModule.
const ExtractFile = "internal/ops/cost/prices-ec2.json"

// ExtractModule is the Go module (exact version, checksummed by the Go
// checksum database) whose data set the extract is read from.
const ExtractModule = "github.com/cristim/ec2-instances-info@v0.0.0-20250528091325-32acf84f42eb"

// unsourced is the note on every Sydney rate that no machine-readable
// source reachable here confirms: the figure was typed into the table when
// it was written (2026-11-26) from the public price page, with no copy kept.
const unsourced = "Sydney rate typed from the public price page on 2026-11-26, no copy kept; no machine-readable source reachable here confirms it"

// Price is one entry of the pinned table.
type Price struct {
	// USD per Unit.
	USD  float64
	Unit string
	// Confirmed is false where the figure could not be confirmed from a
	// source while the table was written; Note says so. Re-check those
	// against the price page before quoting an estimate.
	Confirmed bool
	Note      string
}

// Hourly and monthly prices of what the stacks create.
var (
	// EKSControlPlane: standard support; extended support is 0.60/h (a
	// version that has left standard support costs 6x). Global price.
	// Source: AWS containers blog, "Amazon EKS extended support for
	// Kubernetes versions pricing".
	EKSControlPlane = Price{USD: 0.10, Unit: "cluster-hour", Confirmed: true}
	// NATGateway hourly charge (data processing is usage, below).
	NATGateway = Price{USD: 0.059, Unit: "gateway-hour", Note: unsourced + " (us-east-1 is 0.045)"}
	// PublicIPv4 is charged for every public IPv4 address, including the
	// NAT gateways' Elastic IPs, since 2024-02-01. Global price.
	PublicIPv4 = Price{USD: 0.005, Unit: "address-hour", Confirmed: true}
	// ALB and NLB hourly charges (LCU/NLCU usage is extra). The LB
	// controller creates them at run time, so synthesized stacks rarely
	// contain one.
	ALB = Price{USD: 0.0252, Unit: "ALB-hour", Note: unsourced + " (us-east-1 is 0.0225)"}
	NLB = Price{USD: 0.0252, Unit: "NLB-hour", Note: unsourced + " (us-east-1 is 0.0225)"}
	// PrivateCA: general-purpose mode, per CA per month (short-lived
	// certificate mode is 50/month). Global price.
	PrivateCA = Price{USD: 400, Unit: "CA-month", Confirmed: true}
	// PrivateCAShortLived: short-lived certificate mode (certificates of 7
	// days at most), per CA per month. Global price.
	PrivateCAShortLived = Price{USD: 50, Unit: "CA-month (short-lived mode)", Confirmed: true}
	// MetricAlarm per standard-resolution CloudWatch alarm per month.
	MetricAlarm = Price{USD: 0.10, Unit: "alarm-month", Note: "us-east-1 list price, typed on 2026-11-26; the Sydney rate is not confirmed by any source reachable here"}
	// WAFWebACL and WAFRule per month; requests are usage. Global price.
	WAFWebACL = Price{USD: 5, Unit: "web-ACL-month", Confirmed: true}
	WAFRule   = Price{USD: 1, Unit: "rule-month", Confirmed: true}
	// KMSKey per customer-managed key per month (plus 1/month per rotated
	// key version, up to two). Global price.
	KMSKey = Price{USD: 1, Unit: "key-month", Confirmed: true}
	// SecretsManagerSecret per secret per month; API calls are usage (and
	// External Secrets reads once an hour). Global list price, not confirmed
	// from a source this session.
	SecretsManagerSecret = Price{USD: 0.40, Unit: "secret-month", Note: "global list price typed on 2026-11-26; not confirmed by any source reachable here"}
	// Route53Zone per hosted zone per month (first 25 zones). Global price.
	Route53Zone = Price{USD: 0.50, Unit: "zone-month", Confirmed: true}
	// EBSgp3 per GB-month: node root volumes, and the persistent volumes
	// the Helm releases ask for (volumes.go).
	EBSgp3 = Price{USD: 0.096, Unit: "GB-month", Note: unsourced + " (us-east-1 is 0.08)"}
	// LogsIngestion per GB ingested into CloudWatch Logs (standard class).
	LogsIngestion = Price{USD: 0.57, Unit: "GB ingested", Note: unsourced + " (us-east-1 is 0.50)"}
)

// InstanceHour is the on-demand Linux price per instance-hour by type, as
// in ExtractFile (prices_test.go holds them equal): every node type of
// envs/*.yaml, and the Graviton types docs/cost.md compares them with.
var InstanceHour = map[string]Price{
	"m6i.large":      {USD: 0.12, Unit: "instance-hour", Confirmed: true},
	"m6i.xlarge":     {USD: 0.24, Unit: "instance-hour", Confirmed: true},
	"m6a.large":      {USD: 0.108, Unit: "instance-hour", Confirmed: true},
	"m5.large":       {USD: 0.12, Unit: "instance-hour", Confirmed: true},
	"m7i-flex.large": {USD: 0.1197, Unit: "instance-hour", Confirmed: true},
	"m7a.large":      {USD: 0.1449, Unit: "instance-hour", Confirmed: true},
	"m6g.large":      {USD: 0.096, Unit: "instance-hour", Confirmed: true},
	"m7g.large":      {USD: 0.102, Unit: "instance-hour", Confirmed: true},
	"t4g.large":      {USD: 0.0848, Unit: "instance-hour", Confirmed: true},
}

// SpotHour is the highest Spot price of the region's zones per type on the
// day the extract's data set was built (2025-05-28). Spot prices move
// hourly and stay below on-demand; a Spot node group is priced at the
// highest SpotHour of its types, and the line says so.
var SpotHour = map[string]Price{
	"m6i.large":      {USD: 0.045, Unit: "instance-hour", Confirmed: true},
	"m6i.xlarge":     {USD: 0.0927, Unit: "instance-hour", Confirmed: true},
	"m6a.large":      {USD: 0.0418, Unit: "instance-hour", Confirmed: true},
	"m5.large":       {USD: 0.0389, Unit: "instance-hour", Confirmed: true},
	"m7i-flex.large": {USD: 0.0399, Unit: "instance-hour", Confirmed: true},
	"m7a.large":      {USD: 0.0373, Unit: "instance-hour", Confirmed: true},
	"m6g.large":      {USD: 0.0436, Unit: "instance-hour", Confirmed: true},
	"m7g.large":      {USD: 0.0468, Unit: "instance-hour", Confirmed: true},
	"t4g.large":      {USD: 0.029, Unit: "instance-hour", Confirmed: true},
}

// LogGroupGBPerMonth is the ingestion assumed for each log group (VPC flow
// logs, EKS control-plane logs): a small, quiet environment.
const LogGroupGBPerMonth = 5

// UsagePrice is a unit price for something billed by use, listed with the
// assumption an estimate would need.
type UsagePrice struct {
	What       string  `json:"what"`
	USD        float64 `json:"usd"`
	Unit       string  `json:"unit"`
	Assumption string  `json:"assumption"`
	Confirmed  bool    `json:"confirmed"`
}

// Usage lists the usage-priced items by the resource type that incurs them.
var Usage = map[string][]UsagePrice{
	"aws_cloudfront_distribution": {
		{What: "CloudFront data transfer out (Australia, first 10 TB)", USD: 0.114, Unit: "GB", Assumption: "not estimated: depends on pack downloads; 1 TB/month would be about 114 USD"},
		{What: "CloudFront HTTPS requests (Australia)", USD: 0.0125, Unit: "10,000 requests", Assumption: "not estimated: Range reads make many small requests"},
	},
	"aws_s3_bucket": {
		{What: "S3 Standard storage", USD: 0.025, Unit: "GB-month", Assumption: "not estimated: depends on pack volume; old versions move to IA/Glacier IR by lifecycle"},
		{What: "S3 GET requests", USD: 0.00044, Unit: "1,000 requests", Assumption: "not estimated: most reads are served from the CDN cache"},
	},
	"aws_nat_gateway": {
		{What: "NAT gateway data processing", USD: 0.059, Unit: "GB", Assumption: "not estimated: image pulls and AWS API calls; VPC endpoints avoid it"},
	},
	"data-transfer": {
		{What: "Data transfer out to the internet (first 10 TB)", USD: 0.114, Unit: "GB", Assumption: "not estimated"},
		{What: "Data transfer between AZs", USD: 0.01, Unit: "GB each way", Assumption: "not estimated: multi-AZ replicas and cross-AZ pod traffic"},
	},
	"aws_codebuild_project": {
		{What: "CodeBuild runner minutes (general1.small, Linux)", USD: 0.005, Unit: "build minute", Assumption: "not estimated: one minute per CI job that reaches the cluster; scales to zero when idle (rate not confirmed from a source here)"},
	},
	"aws_sqs_queue": {
		{What: "SQS requests", USD: 0.40, Unit: "million requests", Assumption: "first million per month free; the DTN backlog is small"},
	},
	"aws_dynamodb_table": {
		{What: "DynamoDB on-demand writes", USD: 0.625, Unit: "million write units", Assumption: "state locks and the device ledger: pennies"},
		{What: "DynamoDB storage + PITR", USD: 0.285 + 0.228, Unit: "GB-month", Assumption: "under 1 GB"},
	},
	"aws_acmpca_certificate_authority": {
		{What: "Private CA certificates issued (general-purpose mode, first 1,000 per month; 0.35 up to 10,000)", USD: 0.75, Unit: "certificate", Assumption: "one-time fee per issued certificate: a device renews at two thirds of its 30-day certificate (every 20 days, about 1.5 certificates a month), so 200 devices cost about 225 USD/month; in-cluster server certificates renew every 20 days. Source: aws.amazon.com/private-ca/pricing, read 2026-12-05"},
		{What: "Private CA certificates issued in short-lived mode", USD: 0.058, Unit: "certificate", Assumption: "the service CA (and the device CA of dev and staging): in-cluster certificates renew every 4 days (6-day certificates, a third left), about 8 a month each for 9 to 12 certificates; 7-day device certificates renew about every 4.7 days (rate not confirmed from a source here)"},
		{What: "Private CA OCSP responses", USD: 0.06, Unit: "10,000 OCSP requests", Assumption: "NATS checks each agent certificate on connect; pennies at fleet sizes below 10,000 (rate not confirmed from a source here)"},
	},
	"aws_sns_topic": {
		{What: "SNS publishes and e-mail notifications", USD: 0.50, Unit: "million publishes", Assumption: "alarm notifications only: the first million publishes and 1,000 e-mails a month are free"},
	},
	"aws_kms_key": {
		{What: "KMS requests (symmetric)", USD: 0.03, Unit: "10,000 requests", Assumption: "S3 bucket keys keep data-key calls low"},
		{What: "KMS asymmetric Sign/Verify requests", USD: 0.15, Unit: "10,000 requests", Assumption: "one Sign per published pack and one Verify per listing check (rate not confirmed from a source here)"},
	},
	"aws_backup_vault": {
		{What: "AWS Backup storage, S3 (warm)", USD: 0.05, Unit: "GB-month", Assumption: "not estimated: one daily recovery point of the packs bucket per vault, kept backup.retentionDays; each vault holds the bucket's size plus what changed (us-east-1 list price; Sydney and Melbourne not confirmed from a source here)"},
		{What: "AWS Backup storage, DynamoDB (warm)", USD: 0.10, Unit: "GB-month", Assumption: "the beacons and device-ledger tables: under 1 GB, pennies (us-east-1 list price; not confirmed for Sydney here)"},
		{What: "Cross-region copy (data transfer between regions)", USD: 0.02, Unit: "GB", Assumption: "not estimated: each daily copy moves what changed since the last (rate not confirmed from a source here)"},
	},
	"aws_ecr_repository": {
		{What: "ECR storage", USD: 0.10, Unit: "GB-month", Assumption: "lifecycle keeps the last tagged images only"},
	},
}
