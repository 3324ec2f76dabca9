package stacks

import (
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// P2P bridge names in namespace edge-nats, beside NATS (only when
// edge.p2pBridge is on).
const (
	// NATSLeafTLSSecret: the bridge's client certificate from the service CA.
	NATSLeafTLSSecret = "nats-leaf-tls"
	// NATSLeafCredsSecret: the hub's NATS creds file (JWT + nkey seed),
	// copied by ESO from Secrets Manager through NATSSecretStore.
	NATSLeafCredsSecret = "nats-leaf-creds"
	NATSLeafCredsKey    = "leaf.creds"
	natsLeafTLSDir      = "/etc/nats-leaf-tls"
	natsLeafCredDir     = "/etc/nats-leaf-creds"
	// UserP2PBridge is the URI SAN user of the bridge's client certificate.
	UserP2PBridge = "p2p-bridge"
)

// NATSAuthIssuerToken is how the chart writes the callout's issuer: the
// environment variable NATSAuthIssuerEnv, unquoted in nats.conf (the
// chart's << >> raw value), resolved by nats-server at start.
const NATSAuthIssuerToken = "<< $" + NATSAuthIssuerEnv + " >>"

// natsSecurityOptions maps the env config to edge.SecurityOptions: the
// callout's issuer from the environment, and, with the bridge on, the P2P
// account with its limits and a leaf remote whose certificate and creds are
// files mounted from the Secrets above.
func natsSecurityOptions(cfg *envs.Config) edge.SecurityOptions {
	b := cfg.Edge.P2PBridge
	if !b.Enabled {
		return edge.SecurityOptions{CalloutIssuer: NATSAuthIssuerToken}
	}
	return edge.SecurityOptions{CalloutIssuer: NATSAuthIssuerToken, P2P: true, Limits: b.AccountLimits(), Leaf: &edge.LeafRemote{
		URL: b.HubURL, CredentialsFile: natsLeafCredDir + "/" + NATSLeafCredsKey,
		CertFile: natsLeafTLSDir + "/tls.crt", KeyFile: natsLeafTLSDir + "/tls.key", CAFile: natsLeafTLSDir + "/ca.crt",
	}}
}

// addP2PMounts mounts the bridge's certificate and creds into the NATS
// container. JSON patches append to the chart's own lists (a merge would
// replace them).
func addP2PMounts(values map[string]any) {
	values["podTemplate"].(map[string]any)["patch"] = []any{
		map[string]any{"op": "add", "path": "/spec/volumes/-", "value": map[string]any{"name": "leaf-tls", "secret": map[string]any{"secretName": NATSLeafTLSSecret}}},
		map[string]any{"op": "add", "path": "/spec/volumes/-", "value": map[string]any{"name": "leaf-creds", "secret": map[string]any{"secretName": NATSLeafCredsSecret}}},
	}
	values["container"].(map[string]any)["patch"] = []any{
		map[string]any{"op": "add", "path": "/volumeMounts/-", "value": map[string]any{"name": "leaf-tls", "mountPath": natsLeafTLSDir, "readOnly": true}},
		map[string]any{"op": "add", "path": "/volumeMounts/-", "value": map[string]any{"name": "leaf-creds", "mountPath": natsLeafCredDir, "readOnly": true}},
	}
}

// p2pBridgeObjects are the Kubernetes objects the bridge needs: its client
// certificate and the ExternalSecret copying the creds from Secrets Manager
// secret <org>/<env>/<credentialsSecret> (an operator sets its value;
// Terraform never sees it) through the store only edge-nats may use.
func p2pBridgeObjects(cfg *envs.Config, names naming.Names) map[string]map[string]any {
	b := cfg.Edge.P2PBridge
	if !b.Enabled {
		return nil
	}
	return map[string]map[string]any{
		"nats-leaf-certificate": certificate(NATSLeafTLSSecret, naming.NamespaceNATS, map[string]any{
			"commonName": UserP2PBridge, "uris": []string{edge.ServiceUserName(UserP2PBridge)},
			"usages": []string{"client auth"},
		}),
		"nats-leaf-creds": externalSecret(NATSLeafCredsSecret, naming.NamespaceNATS, NATSSecretStore, map[string]any{"data": []any{
			map[string]any{"secretKey": NATSLeafCredsKey, "remoteRef": map[string]any{"key": names.Secret(b.CredentialsSecret)}},
		}}),
	}
}
