package stacks

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/manifest"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// BillingConnectorK8sSecret is the Kubernetes Secret the billing
// provider's connector reads its credentials from.
const BillingConnectorK8sSecret = "billing-connector"

// billingConnectorSecret (staging, prod) copies the Secrets Manager secret
// named by marketplace.billingConnectorSecret into the Secret
// billing-connector through External Secrets Operator (installed by the
// platform stack). Terraform knows only the secret's name: no value passes
// through config, plan or state. The ClusterSecretStore serves only the
// marketplace namespace.
func billingConnectorSecret(b *base, ns *sp.Namespace) error {
	deps := []cdktf.ITerraformDependable{ns.Resource}
	store := map[string]any{
		"apiVersion": ExternalSecretsAPI,
		"kind":       "ClusterSecretStore",
		"metadata":   map[string]any{"name": MarketplaceSecretStore},
		"spec": map[string]any{
			"provider":   map[string]any{"aws": map[string]any{"service": "SecretsManager", "region": b.cfg.Region}},
			"conditions": []any{map[string]any{"namespaces": []any{naming.NamespaceMarketplace}}},
		},
	}
	s := manifest.NewManifest(b.stack, jsii.String("marketplace-secret-store"), &manifest.ManifestConfig{Manifest: &store, DependsOn: &deps})
	es := map[string]any{
		"apiVersion": ExternalSecretsAPI,
		"kind":       "ExternalSecret",
		"metadata":   map[string]any{"name": BillingConnectorK8sSecret, "namespace": naming.NamespaceMarketplace},
		"spec": map[string]any{
			"refreshInterval": "1h",
			"secretStoreRef":  map[string]any{"kind": "ClusterSecretStore", "name": MarketplaceSecretStore},
			"target":          map[string]any{"name": BillingConnectorK8sSecret, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
			// Every key of the JSON secret becomes a key of the Secret.
			"dataFrom": []any{map[string]any{"extract": map[string]any{"key": b.cfg.BillingConnectorSecretName()}}},
		},
	}
	after := append(deps, s)
	manifest.NewManifest(b.stack, jsii.String("billing-connector-secret"), &manifest.ManifestConfig{Manifest: &es, DependsOn: &after})
	return nil
}
