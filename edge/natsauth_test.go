package edge

import (
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/testpki"
)

// chain is a client certificate from ca and ca itself, as a listener
// verifies it (leaf first, anchor last).
func chain(t *testing.T, ca *testpki.CA, cn string, uris ...string) []*x509.Certificate {
	return []*x509.Certificate{ca.ClientCert(t, cn, uris...), ca.Cert}
}

func TestTheCalloutMapsEachIdentityOnlyFromItsOwnCAAndListener(t *testing.T) {
	root := testpki.NewCA(t, "root", nil)
	device, service := testpki.NewCA(t, "device CA", root), testpki.NewCA(t, "service CA", root)
	anchors := CalloutAnchors{Device: device.Cert, Service: service.Cert}

	g, err := anchors.Authorize(ClientTypeWebsocket, [][]*x509.Certificate{chain(t, device, "dev-7", DeviceURISAN("dev-7"))})
	require.NoError(t, err)
	assert.Equal(t, AccountEdge, g.Account)
	assert.Equal(t, DevicePermissions("dev-7"), *g.Permissions, "a device gets its own subjects and nothing else")

	g, err = anchors.Authorize(ClientTypeNATS, [][]*x509.Certificate{chain(t, service, "sys", ServiceUserName(UserSystem))})
	require.NoError(t, err)
	assert.Equal(t, AccountSys, g.Account)

	g, err = anchors.Authorize(ClientTypeNATS, [][]*x509.Certificate{chain(t, service, "gw", ServiceUserName(UserDTNGateway))})
	require.NoError(t, err)
	assert.Equal(t, ServicePermissions()[UserDTNGateway], *g.Permissions)

	for name, tc := range map[string]struct {
		clientType string
		chain      []*x509.Certificate
		want       string
	}{
		"a service SAN on a device certificate (could a device become the system user?)": {
			ClientTypeWebsocket, chain(t, device, "system", ServiceUserName(UserSystem)), "is not a device identity"},
		"a device SAN on a service certificate": {
			ClientTypeNATS, chain(t, service, "dev-7", DeviceURISAN("dev-7")), "is not a service identity"},
		"a device certificate on the in-cluster port": {
			ClientTypeNATS, chain(t, device, "dev-7", DeviceURISAN("dev-7")), "only through the agents' listener"},
		"a service certificate on the agents' listener": {
			ClientTypeWebsocket, chain(t, service, "gw", ServiceUserName(UserDTNGateway)), "only on the in-cluster client port"},
		"a certificate straight from the root": {
			ClientTypeWebsocket, chain(t, root, "dev-7", DeviceURISAN("dev-7")), "neither the device CA nor the service CA"},
		"two device SANs": {
			ClientTypeWebsocket, chain(t, device, "dev-7", DeviceURISAN("dev-7"), DeviceURISAN("dev-8")), "exactly one"},
		"a CN for another device": {
			ClientTypeWebsocket, chain(t, device, "dev-8", DeviceURISAN("dev-7")), `CN "dev-8" is not its SAN's device id "dev-7"`},
		"a device id that is two subject tokens": {
			ClientTypeWebsocket, chain(t, device, "dev.7", DeviceURISAN("dev.7")), "which is not a device id"},
		"an unknown service user": {
			ClientTypeNATS, chain(t, service, "x", ServiceUserName("stranger")), `no service user "stranger"`},
		"the callout's own identity": {
			ClientTypeNATS, chain(t, service, "x", ServiceUserName(UserAuthCallout)), `no service user "auth-callout"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := anchors.Authorize(tc.clientType, [][]*x509.Certificate{tc.chain})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	t.Run("a chain claiming the device CA but signed by another key", func(t *testing.T) {
		// same name and position, other key: the callout verifies itself
		impostor := testpki.NewCA(t, "device CA", root)
		chain := chain(t, impostor, "dev-7", DeviceURISAN("dev-7"))
		chain[1] = device.Cert
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
