package edge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCA is a CA made in the test; sub makes it a subordinate of parent.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t *testing.T, name string, parent *testCA) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	signer, signKey := tpl, key
	if parent != nil {
		signer, signKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, signer, &key.PublicKey, signKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCA{cert: c, key: key}
}

func (ca *testCA) leaf(t *testing.T, cn string, uris ...string) []*x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	for _, u := range uris {
		p, err := url.Parse(u)
		require.NoError(t, err)
		tpl.URIs = append(tpl.URIs, p)
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return []*x509.Certificate{c, ca.cert}
}

func TestTheCalloutMapsEachIdentityOnlyFromItsOwnCAAndListener(t *testing.T) {
	root := newTestCA(t, "root", nil)
	device, service := newTestCA(t, "device CA", root), newTestCA(t, "service CA", root)
	anchors := CalloutAnchors{Device: device.cert, Service: service.cert}

	g, err := anchors.Authorize(ClientTypeWebsocket, [][]*x509.Certificate{device.leaf(t, "dev-7", DeviceURISAN("dev-7"))})
	require.NoError(t, err)
	assert.Equal(t, AccountEdge, g.Account)
	assert.Equal(t, DevicePermissions("dev-7"), *g.Permissions, "a device gets its own subjects and nothing else")

	g, err = anchors.Authorize(ClientTypeNATS, [][]*x509.Certificate{service.leaf(t, "sys", ServiceUserName(UserSystem))})
	require.NoError(t, err)
	assert.Equal(t, AccountSys, g.Account)

	g, err = anchors.Authorize(ClientTypeNATS, [][]*x509.Certificate{service.leaf(t, "gw", ServiceUserName(UserDTNGateway))})
	require.NoError(t, err)
	assert.Equal(t, ServicePermissions()[UserDTNGateway], *g.Permissions)

	for name, tc := range map[string]struct {
		clientType string
		chain      []*x509.Certificate
		want       string
	}{
		"a service SAN on a device certificate (could a device become the system user?)": {
			ClientTypeWebsocket, device.leaf(t, "system", ServiceUserName(UserSystem)), "is not a device identity"},
		"a device SAN on a service certificate": {
			ClientTypeNATS, service.leaf(t, "dev-7", DeviceURISAN("dev-7")), "is not a service identity"},
		"a device certificate on the in-cluster port": {
			ClientTypeNATS, device.leaf(t, "dev-7", DeviceURISAN("dev-7")), "only through the agents' listener"},
		"a service certificate on the agents' listener": {
			ClientTypeWebsocket, service.leaf(t, "gw", ServiceUserName(UserDTNGateway)), "only on the in-cluster client port"},
		"a certificate straight from the root": {
			ClientTypeWebsocket, root.leaf(t, "dev-7", DeviceURISAN("dev-7")), "neither the device CA nor the service CA"},
		"two device SANs": {
			ClientTypeWebsocket, device.leaf(t, "dev-7", DeviceURISAN("dev-7"), DeviceURISAN("dev-8")), "exactly one"},
		"a CN for another device": {
			ClientTypeWebsocket, device.leaf(t, "dev-8", DeviceURISAN("dev-7")), `CN "dev-8" is not its SAN's device id "dev-7"`},
		"a device id that is two subject tokens": {
			ClientTypeWebsocket, device.leaf(t, "dev.7", DeviceURISAN("dev.7")), "which is not a device id"},
		"an unknown service user": {
			ClientTypeNATS, service.leaf(t, "x", ServiceUserName("stranger")), `no service user "stranger"`},
		"the callout's own identity": {
			ClientTypeNATS, service.leaf(t, "x", ServiceUserName(UserAuthCallout)), `no service user "auth-callout"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := anchors.Authorize(tc.clientType, [][]*x509.Certificate{tc.chain})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("a chain claiming the device CA but signed by another key", func(t *testing.T) {
		// same name and position, other key: the callout verifies itself
		impostor := newTestCA(t, "device CA", root)
		chain := impostor.leaf(t, "dev-7", DeviceURISAN("dev-7"))
		chain[1] = device.cert
		_, err := anchors.Authorize(ClientTypeWebsocket, [][]*x509.Certificate{chain})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "does not verify")
	})
	t.Run("no verified chain", func(t *testing.T) {
		_, err := anchors.Authorize(ClientTypeWebsocket, nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no verified certificate chain")
	})
}
