package naming

// Names shared by the identity, edge and marketplace stacks. They live in
// one place because each is written by one stack and read by another (the
// ClusterIssuer the platform installs is the one edge certificates name)
// or by the operator CLI, and a rename must break the build, not a deploy.
const (
	ComponentIdentity    = "identity"
	ComponentMarketplace = "marketplace"

	// NamespaceCertManager holds cert-manager and the AWS Private CA issuer.
	NamespaceCertManager = "cert-manager"
	// NamespacePresigner holds the CDN presigner behind ALB mutual TLS.
	NamespacePresigner = "cdn-presigner"
	// NamespaceMarketplace holds marketplace-api, -ui and the billing stub.
	NamespaceMarketplace = "marketplace"

	// Privileged namespaces: only the infra stacks create or change what
	// runs in them (no service-deploy role has an access entry there), since
	// their service accounts hold roles or Secrets that issue identities,
	// publish packs or run NATS itself.
	//
	// NamespaceNATS holds the NATS servers, their auth callout, the system
	// and stream-admin credentials and the stream-setup Job.
	NamespaceNATS = "edge-nats"
	// NamespaceEnrollment holds the device-enrollment service (issues device
	// certificates from the device CA).
	NamespaceEnrollment = "device-enrollment"
	// NamespaceProvenance holds the provenance gate (the only kms:Sign on
	// the provenance key and the only writer of published/).
	NamespaceProvenance = "provenance-gate"

	// IssuerServiceCA is the namespaced AWSPCAIssuer, backed by the service
	// subordinate CA, in every namespace that requests in-cluster
	// certificates. There is no cluster-wide issuer: a namespace without
	// one cannot ask for a certificate at all.
	IssuerServiceCA = "service-ca"
)

// PrivilegedNamespaces are the namespaces no service-deploy role may edit.
var PrivilegedNamespaces = []string{NamespaceNATS, NamespaceEnrollment, NamespacePresigner, NamespaceProvenance}

// The CA hierarchy's names the identity stack writes and spctl pki reads.
const (
	// CAPurposeTag marks each subordinate CA "device" or "service".
	CAPurposeTag     = "CAPurpose"
	DeviceCAPurpose  = "device"
	ServiceCAPurpose = "service"
	// NATSAuthCalloutSecret is the Secrets Manager name, under <org>/<env>/,
	// of the NATS auth callout's account key (JSON {"seed", "public"}),
	// written by spctl pki ceremony.
	NATSAuthCalloutSecret = "nats-auth-callout"
)

// PKIRootKeyAlias is "alias/<org>-<env>-pki-root", the KMS key that is the
// offline root CA's private key.
func (n Names) PKIRootKeyAlias() string { return "alias/" + n.Prefix() + "-pki-root" }

// PKICeremonyRole is "<org>-<env>-pki-ceremony", the MFA-only role that may
// sign with the root key and install subordinate CA certificates.
func (n Names) PKICeremonyRole() string { return n.Role("pki-ceremony") }

// DeviceTrustStore is "<org>-<env>-devices", the presigner ALB's trust store.
func (n Names) DeviceTrustStore() string { return n.Prefix() + "-devices" }
