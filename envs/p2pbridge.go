package envs

import (
	"strings"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// P2PBridge is the optional NATS leaf-node bridge to a peer hub
// (edge.p2pBridge). Off by default: while off, no P2P account and no leaf
// remote are configured.
type P2PBridge struct {
	Enabled bool `yaml:"enabled"`
	// HubURL is the peer hub's leaf-node URL; it must be tls://.
	HubURL string `yaml:"hubURL"`
	// CredentialsSecret names the Secrets Manager secret holding the NATS
	// JWT/nkey creds file for the hub; an ExternalSecret copies it into the
	// cluster, so the creds never pass through config or state.
	CredentialsSecret string `yaml:"credentialsSecret"`
	// Limits bound what the peer can do through the bridge.
	Limits P2PLimits `yaml:"limits"`
}

// P2PLimits are the P2P account's limits.
type P2PLimits struct {
	MaxConnections     int `yaml:"maxConnections"`
	MaxSubscriptions   int `yaml:"maxSubscriptions"`
	MaxPayloadBytes    int `yaml:"maxPayloadBytes"`
	MaxLeafNodes       int `yaml:"maxLeafNodes"`
	JetStreamMaxFileMi int `yaml:"jetStreamMaxFileMi"`
}

// Defaults for the P2P account limits: one bridge, a few hundred
// subscriptions, envelope-sized payloads, 1 GiB of JetStream file storage.
const (
	DefaultP2PMaxConnections     = 4
	DefaultP2PMaxSubscriptions   = 256
	DefaultP2PMaxLeafNodes       = 1
	DefaultP2PJetStreamMaxFileMi = 1024
)

// AccountLimits converts the config to the NATS account limits.
func (b P2PBridge) AccountLimits() edge.AccountLimits {
	return edge.AccountLimits{
		MaxConnections: b.Limits.MaxConnections, MaxSubscriptions: b.Limits.MaxSubscriptions,
		MaxPayloadBytes: b.Limits.MaxPayloadBytes, MaxLeafNodes: b.Limits.MaxLeafNodes,
		JetStreamMaxFileBytes: int64(b.Limits.JetStreamMaxFileMi) << 20,
	}
}

func defaultP2PBridge(b *P2PBridge) {
	setInt(&b.Limits.MaxConnections, DefaultP2PMaxConnections)
	setInt(&b.Limits.MaxSubscriptions, DefaultP2PMaxSubscriptions)
	setInt(&b.Limits.MaxPayloadBytes, edge.MaxEnvelopeBytes)
	setInt(&b.Limits.MaxLeafNodes, DefaultP2PMaxLeafNodes)
	setInt(&b.Limits.JetStreamMaxFileMi, DefaultP2PJetStreamMaxFileMi)
}

func validateP2PBridge(p *problems, b P2PBridge) {
	const f = "edge.p2pBridge."
	l := b.Limits
	for _, c := range []struct {
		field string
		v     int
	}{{"maxConnections", l.MaxConnections}, {"maxSubscriptions", l.MaxSubscriptions},
		{"maxLeafNodes", l.MaxLeafNodes}, {"jetStreamMaxFileMi", l.JetStreamMaxFileMi}} {
		if c.v < 1 {
			p.add(f+"limits."+c.field, "%d must be at least 1: an unbounded bridge lets a peer exhaust the server", c.v)
		}
	}
	if l.MaxPayloadBytes < 1 || l.MaxPayloadBytes > edge.MaxEnvelopeBytes {
		p.add(f+"limits.maxPayloadBytes", "%d must be between 1 and 51200 (the 50 KB envelope)", l.MaxPayloadBytes)
	}
	if !b.Enabled {
		return
	}
	if !strings.HasPrefix(b.HubURL, "tls://") {
		p.add(f+"hubURL", "%q must be a tls:// URL of the peer hub's leaf-node port (the bridge runs over TLS with a private-CA client certificate)", b.HubURL)
	}
	if b.CredentialsSecret == "" {
		p.add(f+"credentialsSecret", "set the Secrets Manager secret that holds the hub's NATS creds file (JWT + nkey seed); never put the creds in config")
	}
}
