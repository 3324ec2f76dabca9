package natstest

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// hub is a peer's NATS hub in operator (JWT) mode: it accepts leaf
// connections over TLS only from a client certificate of the private CA
// and only with a user JWT signed by the account it knows.
type hub struct {
	port    int
	account nkeys.KeyPair
	s       *server.Server
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func startHub(t *testing.T, ca *pki) *hub {
	t.Helper()
	okp, err := nkeys.CreateOperator()
	require.NoError(t, err)
	opub, _ := okp.PublicKey()
	ojwt, err := jwt.NewOperatorClaims(opub).Encode(okp)
	require.NoError(t, err)
	oc, err := jwt.DecodeOperatorClaims(ojwt)
	require.NoError(t, err)
	akp, err := nkeys.CreateAccount()
	require.NoError(t, err)
	apub, _ := akp.PublicKey()
	ajwt, err := jwt.NewAccountClaims(apub).Encode(okp)
	require.NoError(t, err)
	res := &server.MemAccResolver{}
	require.NoError(t, res.Store(apub, ajwt))

	crt, key, _ := ca.issue("hub", pkix.Name{CommonName: "hub"}, "", x509.ExtKeyUsageServerAuth)
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: crt, KeyFile: key, CaFile: ca.caFile, Verify: true})
	require.NoError(t, err)
	port := freePort(t)
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, NoSigs: true, TrustedOperators: []*jwt.OperatorClaims{oc}, AccountResolver: res,
		LeafNode: server.LeafNodeOpts{Host: "127.0.0.1", Port: port, TLSConfig: tc, TLSTimeout: 2},
	})
	require.NoError(t, err)
	go s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second))
	t.Cleanup(s.Shutdown)
	return &hub{port: port, account: akp, s: s}
}

// creds writes a NATS creds file for a new user signed by signer.
func creds(t *testing.T, signer nkeys.KeyPair) string {
	t.Helper()
	ukp, err := nkeys.CreateUser()
	require.NoError(t, err)
	upub, _ := ukp.PublicKey()
	ujwt, err := jwt.NewUserClaims(upub).Encode(signer)
	require.NoError(t, err)
	seed, _ := ukp.Seed()
	b, err := jwt.FormatUserConfig(ujwt, seed)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "leaf.creds")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

var p2pLimits = edge.AccountLimits{MaxConnections: 2, MaxSubscriptions: 3, MaxPayloadBytes: 1024, MaxLeafNodes: 1, JetStreamMaxFileBytes: 1 << 20}

// bridgeOptions: the bridge's client certificate comes from the service CA
// (its chain up to the root, which the hub trusts, is in the file).
func bridgeOptions(t *testing.T, b *bed, h *hub, credsFile string) edge.SecurityOptions {
	c, k, _ := b.service.issue("leaf-client", pkix.Name{CommonName: "p2p-bridge"}, edge.ServiceUserName("p2p-bridge"), x509.ExtKeyUsageClientAuth)
	return edge.SecurityOptions{P2P: true, Limits: p2pLimits, Leaf: &edge.LeafRemote{
		URL: fmt.Sprintf("tls://127.0.0.1:%d", h.port), CredentialsFile: credsFile, CertFile: c, KeyFile: k, CAFile: b.root.caFile,
	}}
}

func TestP2PBridgeLeafCredentials(t *testing.T) {
	b := newBed(t)
	h := startHub(t, b.root)

	t.Run("the right creds and certificate connect", func(t *testing.T) {
		local := b.start(bridgeOptions(t, b, h, creds(t, h.account)), nil, nil)
		require.Eventually(t, func() bool { return local.NumLeafNodes() == 1 }, 10*time.Second, 50*time.Millisecond)
		local.Shutdown()
		require.Eventually(t, func() bool { return h.s.NumLeafNodes() == 0 }, 5*time.Second, 50*time.Millisecond)
	})

	t.Run("creds signed by an unknown account are refused", func(t *testing.T) {
		stranger, err := nkeys.CreateAccount()
		require.NoError(t, err)
		local := newBed(t).start(bridgeOptions(t, b, h, creds(t, stranger)), nil, nil)
		time.Sleep(3 * time.Second)
		assert.Zero(t, local.NumLeafNodes())
		assert.Zero(t, h.s.NumLeafNodes())
	})
}

// TestP2PAccountLimits: the P2P account block edge.Authorization renders
// is enforced. The generated account has no users (only the leaf binds to
// it); the test adds one probe user to connect with.
func TestP2PAccountLimits(t *testing.T) {
	b := newBed(t)
	addProbe := func(m map[string]any) {
		m["accounts"].(map[string]any)[edge.AccountP2P].(map[string]any)["users"] = []any{map[string]any{"user": edge.ServiceUserName("p2p-probe")}}
	}
	b.start(edge.SecurityOptions{P2P: true, Limits: p2pLimits}, addProbe, nil)
	c, k := b.service.serviceCert("p2p-probe")
	connect := func() (*client, error) { return b.asService(c, k, "p2p-probe") }

	first, err := connect()
	require.NoError(t, err)
	defer first.nc.Close()
	second, err := connect()
	require.NoError(t, err)
	defer second.nc.Close()
	_, err = connect()
	require.Error(t, err, "a third connection exceeds max_connections=2")
	assert.Contains(t, strings.ToLower(err.Error()), "maximum account active connections")

	for i := 0; i < p2pLimits.MaxSubscriptions; i++ {
		_, err := first.nc.SubscribeSync(fmt.Sprintf("p2p.s%d", i))
		require.NoError(t, err)
	}
	_, err = first.nc.SubscribeSync("p2p.one-too-many")
	require.NoError(t, err)
	require.NoError(t, first.nc.Flush())
	select {
	case err := <-first.errs:
		assert.Contains(t, strings.ToLower(err.Error()), "maximum subscriptions exceeded")
	case <-time.After(3 * time.Second):
		t.Fatal("a fourth subscription must exceed max_subscriptions=3")
	}

	err = first.nc.Publish("p2p.big", make([]byte, p2pLimits.MaxPayloadBytes+1))
	if err == nil {
		_ = first.nc.Flush()
	}
	if err == nil {
		select {
		case err = <-first.errs:
		case <-time.After(2 * time.Second):
		}
	}
	require.Error(t, err, "a payload over max_payload=1024 must be refused")
	assert.True(t, err == nats.ErrMaxPayload || strings.Contains(strings.ToLower(err.Error()), "maximum payload"), err.Error())
}

// TestRollbackDisablesTheBridge is spctl edge rollback's first step on a
// real server: the bridge is the leaf-node remote in the server config;
// removing it (edge.WithoutLeafRemotes, what spctl does to the chart's
// ConfigMap) and reloading is refused by nats-server, which cannot drop a
// remote on reload, so the server keeps bridging; restarting it on the new
// config (what spctl's rolling restart does) ends the leaf connection for
// good.
func TestRollbackDisablesTheBridge(t *testing.T) {
	b := newBed(t)
	h := startHub(t, b.root)
	path := b.config(bridgeOptions(t, b, h, creds(t, h.account)), edge.ServerListeners{Client: "127.0.0.1:-1", AgentsWS: freePort(t)}, nil, nil)
	conf, err := os.ReadFile(path)
	require.NoError(t, err)
	start := func() *server.Server { return runServer(t, path) }
	local := start()
	require.Eventually(t, func() bool { return local.NumLeafNodes() == 1 && h.s.NumLeafNodes() == 1 }, 10*time.Second, 50*time.Millisecond, "the bridge is up")

	off, removed, err := edge.WithoutLeafRemotes(string(conf))
	require.NoError(t, err)
	require.True(t, removed)
	require.NoError(t, os.WriteFile(path, []byte(off), 0o600))
	err = local.Reload()
	require.Error(t, err, "nats-server refuses to drop a leaf remote on reload; if this passes, spctl may reload instead of restarting")
	assert.Contains(t, strings.ToLower(err.Error()), "leafnode")
	assert.Equal(t, 1, h.s.NumLeafNodes(), "after the refused reload the bridge is still up")

	local.Shutdown()
	local = start()
	require.Eventually(t, func() bool { return h.s.NumLeafNodes() == 0 }, 10*time.Second, 50*time.Millisecond, "the hub lost the leaf")
	time.Sleep(3 * time.Second)
	assert.Zero(t, local.NumLeafNodes(), "the restarted server does not reconnect")
	assert.Zero(t, h.s.NumLeafNodes())
	_, err = local.LookupAccount(edge.AccountP2P)
	assert.NoError(t, err, "the P2P account stays: only the remote goes")
}
