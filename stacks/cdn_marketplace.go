package stacks

import (
	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// ProvenanceGateRoleArn is the provenance gate's IRSA role ARN. The cdn
// stack names it before the marketplace stack creates it (the marketplace
// stack deploys last), so it is built from the deterministic role name.
func (b *base) ProvenanceGateRoleArn() string {
	return b.names.WorkloadRoleArn(*b.accountID(), naming.ProvenanceGatePurpose)
}

// publishedDeny is the statement the packs bucket's single policy carries
// when the marketplace is on: no principal but the provenance gate's role
// may put an object under published/, so nothing reaches the marketplace
// without a verified provenance attestation. A Deny outranks any Allow in
// an identity policy, including an admin's; aws:PrincipalArn is the role's
// ARN (not the session's) for assumed-role callers.
func publishedDeny(b *base, packsArn string) []sp.Statement {
	if !b.cfg.Marketplace.Enabled {
		return nil
	}
	return []sp.Statement{{
		Sid:        "OnlyTheProvenanceGatePublishes",
		Effect:     "Deny",
		Actions:    []string{"s3:PutObject"},
		Resources:  []string{packsArn + "/" + naming.PacksPublishedPrefix + "*"},
		Principals: []sp.Principal{{Type: "AWS", Identifiers: []string{"*"}}},
		Conditions: []sp.Condition{{Test: "ArnNotEquals", Variable: "aws:PrincipalArn", Values: []string{b.ProvenanceGateRoleArn()}}},
	}}
}

// serviceDeployNamespaces are the namespaces the service deploy role may
// edit: the services namespace, edge-sync (the DTN gateway and uplink
// adapters), cdn-presigner (the crl-sync CronJob), and marketplace when it
// is on.
func serviceDeployNamespaces(cfg *envs.Config) []string {
	ns := []string{naming.NamespaceServices, naming.NamespaceEdge, naming.NamespacePresigner}
	if cfg.Marketplace.Enabled {
		ns = append(ns, naming.NamespaceMarketplace)
	}
	return ns
}
