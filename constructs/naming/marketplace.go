package naming

// Marketplace names, shared by the cdn stack (which must name the
// provenance gate's role before the marketplace stack creates it) and the
// marketplace stack.
const (
	// ProvenanceGatePurpose names the provenance gate's IRSA role
	// "<org>-<env>-irsa-provenance-gate": the only principal that may
	// kms:Sign and write published/ in the packs bucket.
	ProvenanceGatePurpose = "irsa-provenance-gate"
	// PacksPublishedPrefix holds packs that passed the provenance gate.
	PacksPublishedPrefix = "published/"
	// PacksStagingPrefix is where the marketplace api uploads candidates.
	PacksStagingPrefix = "staging/"
)

// BillingEventsQueue is "<org>-<env>-billing-events".
func (n Names) BillingEventsQueue() string { return n.Prefix() + "-billing-events" }

// BillingDeadLetterQueue is "<org>-<env>-billing-events-dlq".
func (n Names) BillingDeadLetterQueue() string { return n.Prefix() + "-billing-events-dlq" }

// EntitlementsTable is "<org>-<env>-entitlements": the licences
// marketplace-api grants on purchase (hash key subject "device#<id>" or
// "cohort#<cohort>", range key pack) and the CDN presigner checks.
func (n Names) EntitlementsTable() string { return n.Prefix() + "-entitlements" }

// BillingKeyAlias is "alias/<org>-<env>-billing", the CMK of both queues.
func (n Names) BillingKeyAlias() string { return "alias/" + n.Prefix() + "-billing" }

// ProvenanceKeyAlias is "alias/<org>-<env>-provenance", the asymmetric
// ECC_NIST_P256 SIGN_VERIFY key the provenance gate signs with.
func (n Names) ProvenanceKeyAlias() string { return "alias/" + n.Prefix() + "-provenance" }

// ProvenanceGateRole is the provenance gate's IRSA role name.
func (n Names) ProvenanceGateRole() string { return n.Role(ProvenanceGatePurpose) }
