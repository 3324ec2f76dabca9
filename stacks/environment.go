package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// Dependencies are the stack dependencies no cross-stack value carries, so
// CDKTF cannot infer them and they are declared (AddDependency): the
// manifest then orders the stacks for `cdktf deploy '*'` and any other
// tool that reads it. Keys and values are components.
var Dependencies = map[string][]string{
	// Every stack keeps its state in the state stack's bucket, and every
	// role it creates carries the workload boundary the state stack creates.
	Network: {State}, Cluster: {State}, CICD: {State}, Platform: {State}, Storage: {State},
	naming.ComponentIdentity: {State}, CDN: {State},
	// Grafana's and Alertmanager's credentials are ExternalSecrets, a CRD
	// the platform stack installs with External Secrets Operator.
	Observability: {State, Platform},
	// The edge stack's ClusterIssuer and Certificates are cert-manager and
	// AWS Private CA issuer CRDs (platform); NATS's PodMonitor is a
	// prometheus-operator CRD (observability); its ALBs and NLB come from
	// the load balancer controller (platform).
	EdgeStack: {State, Platform, Observability},
	// The storefront's Ingress becomes an ALB only once the load balancer
	// controller (platform) runs; its DNS record points at that ALB.
	naming.ComponentMarketplace: {State, Platform},
}

// Environment holds the typed outputs of every stack of one environment.
type Environment struct {
	Network  *NetworkOutputs
	Cluster  *ClusterOutputs
	Platform *PlatformOutputs
	Storage  *StorageOutputs
	Identity *IdentityOutputs
	CDN      *CDNOutputs
	CICD     *CICDOutputs
	Obs      *ObservabilityOutputs
	// Edge is nil when edge.enabled is false.
	Edge *EdgeOutputs
	// Market is nil when marketplace.enabled is false.
	Market *MarketplaceOutputs
}

// NewEnvironment builds every stack of cfg's environment in dependency
// order, handing each stack the outputs of the stacks it reads.
func NewEnvironment(scope constructs.Construct, cfg *envs.Config) (*Environment, error) {
	var (
		e   Environment
		err error
	)
	if err = NewStateStack(scope, cfg); err != nil {
		return nil, err
	}
	if e.Network, err = NewNetworkStack(scope, cfg); err != nil {
		return nil, err
	}
	if e.Cluster, err = NewClusterStack(scope, cfg, e.Network); err != nil {
		return nil, err
	}
	if e.CICD, err = NewCICDStack(scope, cfg, e.Network, e.Cluster); err != nil {
		return nil, err
	}
	if e.Platform, err = NewPlatformStack(scope, cfg, e.Network, e.Cluster); err != nil {
		return nil, err
	}
	if e.Storage, err = NewStorageStack(scope, cfg); err != nil {
		return nil, err
	}
	if e.Identity, err = NewIdentityStack(scope, cfg, e.Cluster); err != nil {
		return nil, err
	}
	if e.CDN, err = NewCDNStack(scope, cfg, e.Storage); err != nil {
		return nil, err
	}
	if e.Obs, err = NewObservabilityStack(scope, cfg, e.Cluster, e.Platform, e.Storage); err != nil {
		return nil, err
	}
	if e.Edge, err = NewEdgeStack(scope, cfg, e.Cluster, e.Platform, e.Storage, e.Identity, e.CDN); err != nil {
		return nil, err
	}
	if e.Market, err = NewMarketplaceStack(scope, cfg, e.Cluster, e.Storage); err != nil {
		return nil, err
	}
	declareDependencies(scope, naming.New(cfg.Org, cfg.Env, cfg.Region))
	return &e, nil
}

// declareDependencies adds Dependencies between the env's stacks that exist
// (edge and marketplace are optional).
func declareDependencies(scope constructs.Construct, n naming.Names) {
	find := func(component string) cdktf.TerraformStack {
		c := scope.Node().TryFindChild(jsii.String(n.StackID(component)))
		if c == nil {
			return nil
		}
		return cdktf.TerraformStack_Of(c)
	}
	for _, component := range naming.DeployOrder {
		stack := find(component)
		if stack == nil {
			continue
		}
		for _, need := range Dependencies[component] {
			if dep := find(need); dep != nil {
				stack.AddDependency(dep)
			}
		}
	}
}
