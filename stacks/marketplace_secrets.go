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
	store := secretStore(MarketplaceSecretStore, b.cfg.Region, naming.NamespaceMarketplace, nil)
	s := manifest.NewManifest(b.stack, jsii.String("marketplace-secret-store"), &manifest.ManifestConfig{Manifest: &store, DependsOn: &deps})
	// Every key of the JSON secret becomes a key of the Secret.
	es := externalSecret(BillingConnectorK8sSecret, naming.NamespaceMarketplace, MarketplaceSecretStore, map[string]any{
		"dataFrom": []any{map[string]any{"extract": map[string]any{"key": b.cfg.BillingConnectorSecretName()}}},
	})
	after := append(deps, s)
	manifest.NewManifest(b.stack, jsii.String("billing-connector-secret"), &manifest.ManifestConfig{Manifest: &es, DependsOn: &after})
	return nil
}
