package edge

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodBeacon = `{"venueId":"venue-1","beaconId":"b-0001","packet":"s3://spatialprops-dev-packs/p/1.pack","rotatesAt":1800000000,"expiresAt":1800086400}`

func TestDecodeBeaconAcceptsTheContract(t *testing.T) {
	b, err := DecodeBeacon([]byte(goodBeacon))
	require.NoError(t, err)
	assert.Equal(t, Beacon{VenueID: "venue-1", BeaconID: "b-0001", Packet: "s3://spatialprops-dev-packs/p/1.pack", RotatesAt: 1800000000, ExpiresAt: 1800086400}, b)
}

// GIVEN a record with a PII field WHEN decoded THEN it is refused, naming
// the field and the allowed list.
func TestDecodeBeaconRefusesPII(t *testing.T) {
	_, err := DecodeBeacon([]byte(`{"venueId":"venue-1","beaconId":"b-0001","packet":"s3://x/p","rotatesAt":1,"expiresAt":2,"ownerEmail":"a@example.com"}`))
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrUnknownBeaconField))
	assert.Contains(t, err.Error(), `"ownerEmail"`)
	assert.Contains(t, err.Error(), "beacons carry no personal data")
	assert.Error(t, CheckBeaconFields([]string{"venueId", "deviceOwner"}))
	assert.NoError(t, CheckBeaconFields(BeaconAttributes))
}

func TestDecodeBeaconRefusesBadValues(t *testing.T) {
	for name, rec := range map[string]string{
		"no venue":        `{"beaconId":"b","packet":"s3://x/p","rotatesAt":1,"expiresAt":2}`,
		"bad id":          `{"venueId":"v","beaconId":"b/../x","packet":"s3://x/p","rotatesAt":1,"expiresAt":2}`,
		"no packet uri":   `{"venueId":"v","beaconId":"b","packet":"p","rotatesAt":1,"expiresAt":2}`,
		"no ttl":          `{"venueId":"v","beaconId":"b","packet":"s3://x/p","rotatesAt":1}`,
		"no grace window": `{"venueId":"v","beaconId":"b","packet":"s3://x/p","rotatesAt":5,"expiresAt":4}`,
		"trailing":        goodBeacon + `{}`,
		"wrong type":      `{"venueId":"v","beaconId":"b","packet":"s3://x/p","rotatesAt":"soon","expiresAt":2}`,
	} {
		_, err := DecodeBeacon([]byte(rec))
		assert.Error(t, err, name)
	}
}

func TestBeaconAttributesAreTheKeysAndTheDocumentedFields(t *testing.T) {
	assert.Equal(t, []string{"venueId", "beaconId", "packet", "rotatesAt", "expiresAt", "successorId"}, BeaconAttributes)
	assert.NotContains(t, BeaconAttributes, "ownerEmail")
}
