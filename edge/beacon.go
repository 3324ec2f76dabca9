package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

// Beacon registry contract. A beacon record maps a venue's beacon id to a
// packet pointer and nothing else: the registry holds no personal data, and
// that is enforced twice. IAM lets every writer role write only the names in
// BeaconAttributes (a dynamodb:Attributes condition, stacks/edge_beacons.go),
// and DecodeBeacon refuses a record carrying any other field, so a writer
// learns at its own boundary, not from an AccessDenied, that e.g.
// "ownerEmail" has no place here.
const (
	// BeaconAttrVenueID is the table's hash key: the venue the beacon is in.
	BeaconAttrVenueID = "venueId"
	// BeaconAttrBeaconID is the range key: the id the beacon broadcasts.
	BeaconAttrBeaconID = "beaconId"
	// BeaconAttrPacket is the packet pointer (an s3:// or https:// URI of
	// the spatial pack the beacon resolves to).
	BeaconAttrPacket = "packet"
	// BeaconAttrRotatesAt is when the rotation job replaces the id (epoch
	// seconds).
	BeaconAttrRotatesAt = "rotatesAt"
	// BeaconAttrExpiresAt is the DynamoDB TTL attribute (epoch seconds): the
	// end of the old id's grace window; TTL deletes the item after it.
	BeaconAttrExpiresAt = "expiresAt"
	// BeaconAttrSuccessorID is set on a rotated beacon: the id that
	// replaced it. It marks the rotation as claimed, so a re-run of the job
	// never writes a second successor.
	BeaconAttrSuccessorID = "successorId"
)

// BeaconAttributes is every attribute name a beacon item may carry, and
// exactly the list the IAM dynamodb:Attributes condition allows writers.
var BeaconAttributes = []string{
	BeaconAttrVenueID, BeaconAttrBeaconID, BeaconAttrPacket,
	BeaconAttrRotatesAt, BeaconAttrExpiresAt, BeaconAttrSuccessorID,
}

// Beacon is one record of the beacon registry.
type Beacon struct {
	VenueID     string `json:"venueId"`
	BeaconID    string `json:"beaconId"`
	Packet      string `json:"packet"`
	RotatesAt   int64  `json:"rotatesAt"`
	ExpiresAt   int64  `json:"expiresAt"`
	SuccessorID string `json:"successorId,omitempty"`
}

var (
	beaconIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)
	packetPattern   = regexp.MustCompile(`^(s3|https)://\S{1,1000}$`)
)

// ErrUnknownBeaconField is wrapped by DecodeBeacon when a record carries a
// field outside BeaconAttributes (PII such as an owner's email included).
var ErrUnknownBeaconField = errors.New("field is not part of the beacon contract (allowed: venueId, beaconId, packet, rotatesAt, expiresAt, successorId); beacons carry no personal data")

// DecodeBeacon decodes one JSON record strictly: unknown fields, trailing
// data and invalid values are errors.
func DecodeBeacon(data []byte) (Beacon, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Beacon
	if err := dec.Decode(&b); err != nil {
		var field string
		if _, err2 := fmt.Sscanf(err.Error(), "json: unknown field %q", &field); err2 == nil {
			return Beacon{}, fmt.Errorf("beacon: %q: %w", field, ErrUnknownBeaconField)
		}
		return Beacon{}, fmt.Errorf("beacon: %w", err)
	}
	if dec.More() {
		return Beacon{}, errors.New("beacon: trailing data after the record")
	}
	return b, b.Validate()
}

// CheckBeaconFields refuses any attribute name outside BeaconAttributes;
// callers holding a DynamoDB item or a generic map check its keys with it.
func CheckBeaconFields(names []string) error {
	allowed := map[string]bool{}
	for _, a := range BeaconAttributes {
		allowed[a] = true
	}
	for _, n := range names {
		if !allowed[n] {
			return fmt.Errorf("beacon: %q: %w", n, ErrUnknownBeaconField)
		}
	}
	return nil
}

// Validate checks the values: ids safe as keys, a packet URI, and a grace
// window (expiresAt not before rotatesAt).
func (b Beacon) Validate() error {
	switch {
	case !beaconIDPattern.MatchString(b.VenueID):
		return fmt.Errorf("beacon: venueId %q must be 1-128 characters of A-Z a-z 0-9 . _ -", b.VenueID)
	case !beaconIDPattern.MatchString(b.BeaconID):
		return fmt.Errorf("beacon: beaconId %q must be 1-128 characters of A-Z a-z 0-9 . _ -", b.BeaconID)
	case b.SuccessorID != "" && !beaconIDPattern.MatchString(b.SuccessorID):
		return fmt.Errorf("beacon: successorId %q must be 1-128 characters of A-Z a-z 0-9 . _ -", b.SuccessorID)
	case !packetPattern.MatchString(b.Packet):
		return fmt.Errorf("beacon: packet %q must be an s3:// or https:// pointer", b.Packet)
	case b.RotatesAt <= 0 || b.ExpiresAt <= 0:
		return errors.New("beacon: rotatesAt and expiresAt are required (epoch seconds)")
	case b.ExpiresAt < b.RotatesAt:
		return fmt.Errorf("beacon: expiresAt %d is before rotatesAt %d; the old id must stay valid through its grace window", b.ExpiresAt, b.RotatesAt)
	}
	return nil
}
