package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/spatialprops/spatialprops-infra/envs"
)

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
	if e.Edge, err = NewEdgeStack(scope, cfg, e.Cluster, e.Platform, e.Storage, e.Identity); err != nil {
		return nil, err
	}
	if e.Market, err = NewMarketplaceStack(scope, cfg, e.Cluster, e.Storage); err != nil {
		return nil, err
	}
	return &e, nil
}
