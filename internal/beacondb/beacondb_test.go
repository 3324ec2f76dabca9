package beacondb

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// GIVEN a beacon THEN its item round-trips; an item with a field outside
// the contract, or a number where a string belongs, is refused.
func TestItemsCarryTheContractOnly(t *testing.T) {
	b := edge.Beacon{VenueID: "v-1", BeaconID: "b-1", Packet: "s3://packs/p", RotatesAt: 10, ExpiresAt: 20, SuccessorID: "b-2"}
	item, err := Encode(b)
	require.NoError(t, err)
	back, err := Decode(item)
	require.NoError(t, err)
	assert.Equal(t, b, back)
	item["ownerEmail"] = Str("a@example.com")
	_, err = Decode(item)
	assert.True(t, errors.Is(err, edge.ErrUnknownBeaconField), err)
	delete(item, "ownerEmail")
	item[edge.BeaconAttrPacket] = Num(1)
	_, err = Decode(item)
	assert.ErrorContains(t, err, "packet must be a string")
	assert.Equal(t, "#venueId, #beaconId, #packet, #rotatesAt, #expiresAt, #successorId", Projection())
}
