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

	// ClusterIssuerPrivateCA is the AWSPCAClusterIssuer backed by the
	// environment's ACM Private CA; every in-cluster certificate names it.
	ClusterIssuerPrivateCA = "private-ca"
)
