package naming

import "fmt"

// Stack components in deploy order. Stack ids are "<env>-<component>". They
// live here, beside the names, so the operator CLI (cmd/spctl) can walk the
// stacks without linking the CDKTF bindings.
const (
	ComponentState         = "state"
	ComponentNetwork       = "network"
	ComponentCluster       = "cluster"
	ComponentPlatform      = "platform"
	ComponentStorage       = "storage"
	ComponentCDN           = "cdn"
	ComponentCICD          = "cicd"
	ComponentObservability = "observability"
	ComponentEdge          = "edge"
)

// DeployOrder is the order `cdktf deploy` must follow; later stacks read
// earlier stacks' outputs through remote state. cicd follows the cluster
// directly: its in-VPC runners and access entries are how CI reaches the
// cluster API for the Kubernetes-side stacks. Teardown walks it backwards.
var DeployOrder = []string{
	ComponentState, ComponentNetwork, ComponentCluster, ComponentCICD, ComponentPlatform,
	ComponentStorage, ComponentIdentity, ComponentCDN, ComponentObservability, ComponentEdge,
	ComponentMarketplace,
}

// Helm release names of the platform and edge stacks (the observability
// releases are named in stacks/observability).
const (
	ReleaseMetricsServer     = "metrics-server"
	ReleaseClusterAutoscaler = "cluster-autoscaler"
	ReleaseLBC               = "aws-load-balancer-controller"
	ReleaseNATS              = "nats"
	// ReleaseCertManager, ReleasePCAIssuer and ReleaseApproverPolicy are
	// installed by the platform stack into NamespaceCertManager.
	ReleaseCertManager    = "cert-manager"
	ReleasePCAIssuer      = "aws-privateca-issuer"
	ReleaseApproverPolicy = "cert-manager-approver-policy"
)

// CorsExposeHeaders are the response headers browsers may read from the
// asset buckets: Range reads of PMTiles/COG need Content-Range and
// Accept-Ranges. The storage stack configures them; spctl verify checks them.
var CorsExposeHeaders = []string{"ETag", "Accept-Ranges", "Content-Range", "Content-Length", "Content-Type"}

// DTNOutboxQueue is the DTN store-and-forward SQS queue "<org>-<env>-dtn-outbox".
func (n Names) DTNOutboxQueue() string { return n.Prefix() + "-dtn-outbox" }

// DTNDeadLetterQueue receives envelopes the gateway failed to forward.
func (n Names) DTNDeadLetterQueue() string { return n.Prefix() + "-dtn-dead-letter" }

// DTNQueues are the queues an edge rollback drains, outbox first.
func (n Names) DTNQueues() []string { return []string{n.DTNOutboxQueue()} }

// DeviceLedgerTable is the DynamoDB table "<org>-<env>-device-ledger" that
// records every device certificate issued (serial, device, cohort,
// notAfter, revoked), so a cohort's certificates can be found and revoked.
func (n Names) DeviceLedgerTable() string { return n.Prefix() + "-device-ledger" }

// DevicesTable is the DynamoDB table "<org>-<env>-devices": one item per
// device (hash key device) with its cohort, status (active or revoked),
// current certificate serial and, until it is used, the hash and expiry of
// its one-time enrollment token.
func (n Names) DevicesTable() string { return n.Prefix() + "-devices" }

// DeviceLedgerCohortIndex is the ledger's global secondary index on cohort.
const DeviceLedgerCohortIndex = "by-cohort"

// BeaconTable is the beacon registry table "<org>-<env>-beacons" (beacon ->
// packet pointers per venue, no PII). services/beacons writes it,
// services/beacons-admin and spctl edge rollback read it.
func (n Names) BeaconTable() string { return n.Prefix() + "-beacons" }

// BeaconExportKey is where a rollback writes one venue's beacon export in
// the logs bucket: "exports/beacons/<venue>/<timestamp>.jsonl".
func BeaconExportKey(venue, timestamp string) string {
	return fmt.Sprintf("exports/beacons/%s/%s.jsonl", venue, timestamp)
}

// OIDCGitHubHost is the issuer host of GitHub Actions' OIDC tokens.
const OIDCGitHubHost = "token.actions.githubusercontent.com"

// NodeAMIType is the managed node group's AMI type (EKS-optimized Amazon
// Linux 2023, x86_64), and NodeArchitecture the processor architecture
// every node instance type must support to run it.
const (
	NodeAMIType      = "AL2023_x86_64_STANDARD"
	NodeArchitecture = "x86_64"
)
