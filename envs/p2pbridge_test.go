package envs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestP2PBridgeIsOffByDefaultWithBoundedLimits(t *testing.T) {
	cfg, err := Parse("envs/dev.yaml", []byte(validDev), Overrides{})
	require.NoError(t, err)
	b := cfg.Edge.P2PBridge
	assert.False(t, b.Enabled)
	l := b.AccountLimits()
	assert.Equal(t, DefaultP2PMaxConnections, l.MaxConnections)
	assert.Equal(t, 51200, l.MaxPayloadBytes)
	assert.Equal(t, int64(1<<30), l.JetStreamMaxFileBytes)
}

func TestBadP2PBridgeConfigNamesTheField(t *testing.T) {
	cases := map[string]struct{ block, want string }{
		"plain-text hub": {"  p2pBridge:\n    enabled: true\n    hubURL: nats://hub:7422\n    credentialsSecret: x\n",
			`envs/dev.yaml:22: edge.p2pBridge.hubURL: "nats://hub:7422" must be a tls:// URL`},
		"no creds": {"  p2pBridge:\n    enabled: true\n    hubURL: tls://hub:7422\n",
			`envs/dev.yaml:20: edge.p2pBridge.credentialsSecret: set the Secrets Manager secret`},
		"payload over the envelope": {"  p2pBridge:\n    limits:\n      maxPayloadBytes: 60000\n",
			`envs/dev.yaml:22: edge.p2pBridge.limits.maxPayloadBytes: 60000 must be between 1 and 51200`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			doc := withEdge(t, c.block)
			_, err := Parse("envs/dev.yaml", []byte(doc), Overrides{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// withEdge appends an edge block to the valid dev document.
func withEdge(t *testing.T, block string) string {
	t.Helper()
	return validDev + "\nedge:\n" + block
}
