package edge

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// GIVEN the server config with the bridge on THEN removing the leaf remote
// leaves exactly the config with the bridge off: the same accounts (the P2P
// account and its limits stay), no leafnodes block.
func TestWithoutLeafRemotesIsTheBridgeOffConfig(t *testing.T) {
	limits := AccountLimits{MaxConnections: 2, MaxSubscriptions: 3, MaxPayloadBytes: 1024, MaxLeafNodes: 1, JetStreamMaxFileBytes: 1 << 20}
	on, err := ServerConfig(ServerListeners{Client: "0.0.0.0:4222", StoreDir: "/data"}, ServerFiles{}, SecurityOptions{CalloutIssuer: "AISSUER", P2P: true, Limits: limits,
		Leaf: &LeafRemote{URL: "tls://hub.example:7422", CredentialsFile: "/etc/nats-leaf-creds/leaf.creds", CAFile: "/etc/x/ca.crt"}})
	require.NoError(t, err)
	off, err := ServerConfig(ServerListeners{Client: "0.0.0.0:4222", StoreDir: "/data"}, ServerFiles{}, SecurityOptions{CalloutIssuer: "AISSUER", P2P: true, Limits: limits})
	require.NoError(t, err)
	got, removed, err := WithoutLeafRemotes(string(on))
	require.NoError(t, err)
	assert.True(t, removed)
	var a, b map[string]any
	require.NoError(t, json.Unmarshal([]byte(got), &a), got)
	require.NoError(t, json.Unmarshal(off, &b))
	assert.Equal(t, b, a)

	again, removed, err := WithoutLeafRemotes(got)
	require.NoError(t, err)
	assert.False(t, removed, "a second run finds nothing to remove")
	assert.Equal(t, got, again)
}

// The chart's nats.conf is JSON with unquoted variables; braces inside
// strings do not confuse the block matcher.
func TestWithoutLeafRemotesInTheChartsFormat(t *testing.T) {
	conf := `{
  "server_name": $SERVER_NAME,
  "leafnodes": {
    "remotes": [
      {"urls": ["tls://hub:7422"], "account": "P2P", "credentials": "/etc/{odd}}/leaf.creds"}
    ]
  },
  "lame_duck_duration": "30s"
}`
	got, removed, err := WithoutLeafRemotes(conf)
	require.NoError(t, err)
	assert.True(t, removed)
	assert.Equal(t, "{\n  \"server_name\": $SERVER_NAME,\n  \"lame_duck_duration\": \"30s\"\n}", got)
	last := strings.Replace(conf, `,
  "lame_duck_duration": "30s"`, "", 1)
	got, _, err = WithoutLeafRemotes(last)
	require.NoError(t, err)
	assert.Equal(t, "{\n  \"server_name\": $SERVER_NAME\n}", got, "the comma before a last entry goes with it")
	_, _, err = WithoutLeafRemotes(`{"leafnodes": {"remotes": [`)
	assert.ErrorContains(t, err, "not closed")
}

// The NATS config syntax (unquoted keys, no colon before a block) works too.
func TestWithoutLeafRemotesInConfSyntax(t *testing.T) {
	conf := "http: 8222\nleafnodes {\n  remotes: [\n    { urls: [\"tls://hub:7422\"], account: \"P2P\" }\n  ]\n}\nmax_leafnodes_note: 1\n"
	got, removed, err := WithoutLeafRemotes(conf)
	require.NoError(t, err)
	assert.True(t, removed)
	assert.Equal(t, "http: 8222\n\nmax_leafnodes_note: 1\n", got)
}
