package edge

import (
	"errors"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// GIVEN the SANs of a request THEN only exactly one device URI passes; any
// DNS name, IP, e-mail, second URI, other URI scheme or bad id is refused.
func TestDeviceSANsNameOnlyTheDevice(t *testing.T) {
	id, err := DeviceSANs(nil, nil, 0, []string{"urn:spatial-properties:device:dev-0001"})
	require.NoError(t, err)
	assert.Equal(t, "dev-0001", id)
	for name, c := range map[string]struct {
		dns, mail []string
		ips       int
		uris      []string
	}{
		"dns":         {dns: []string{"presign.spatial.properties"}, uris: []string{DeviceURISAN("d1")}},
		"email":       {mail: []string{"a@example.com"}, uris: []string{DeviceURISAN("d1")}},
		"ip":          {ips: 1, uris: []string{DeviceURISAN("d1")}},
		"two devices": {uris: []string{DeviceURISAN("d1"), DeviceURISAN("d2")}},
		"service":     {uris: []string{NATSUserURISANPrefix + "stream-admin"}},
		"shared":      {uris: []string{"urn:spatial-properties:edge-agent"}},
		"dotted id":   {uris: []string{DeviceURISAN("a.b")}},
		"none":        {},
		"bad id":      {uris: []string{DeviceURISAN("../d1")}},
	} {
		_, err := DeviceSANs(c.dns, c.mail, c.ips, c.uris)
		assert.True(t, errors.Is(err, ErrSANNotDevice), "%s: %v", name, err)
	}
}

func TestSerialHexIsWholeBytes(t *testing.T) {
	assert.Equal(t, "0a01", SerialHex(big.NewInt(0x0a01)))
	assert.Equal(t, "ff", SerialHex(big.NewInt(255)))
}
