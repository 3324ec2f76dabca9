package naming

// serviceNamespaces places the services that do not run in the shared
// services namespace: the edge services next to NATS (their traffic to it
// stays inside one default-deny namespace), the marketplace in its own, and
// crl-sync next to the presigner whose trust store it keeps.
var serviceNamespaces = map[string]string{
	"dtn-gateway":      NamespaceEdge,
	"uplink-satellite": NamespaceEdge,
	"uplink-lpwan":     NamespaceEdge,
	"beacons":          NamespaceEdge,
	"beacons-admin":    NamespaceEdge,
	"beacon-rotate":    NamespaceEdge,
	"edge-sync":        NamespaceEdge,
	// device-enrollment, cdn-presigner and provenance-gate are privileged:
	// the infra stacks deploy them (contracts.md); these are the namespaces
	// their IRSA roles trust today.
	"device-enrollment": NamespaceEdge,
	"cdn-presigner":     NamespacePresigner,
	"crl-sync":          NamespacePresigner,
	"marketplace-api":   NamespaceMarketplace,
	"marketplace-ui":    NamespaceMarketplace,
	"billing-stub":      NamespaceMarketplace,
	"provenance-gate":   NamespaceMarketplace,
}

// ServiceNamespace is the namespace a service's Helm release lives in: the
// deploy workflows install it there and spctl teardown uninstalls it there.
func ServiceNamespace(svc string) string {
	if ns, ok := serviceNamespaces[svc]; ok {
		return ns
	}
	return NamespaceServices
}
