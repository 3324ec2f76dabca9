// Package beacondb is how every program reads and writes the beacon table
// (<org>-<env>-beacons): items carry the contract's attributes only
// (edge.BeaconAttributes), requests name every attribute through a
// placeholder and project exactly the contract (so the IAM conditions on
// dynamodb:Attributes and dynamodb:Select hold), and an item with anything
// else in it is refused, never trusted. The beacons API, the admin UI and
// the rotation job share it.
package beacondb

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// Encode turns a valid beacon into an item of contract attributes only.
func Encode(b edge.Beacon) (map[string]types.AttributeValue, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	item := map[string]types.AttributeValue{
		edge.BeaconAttrVenueID: Str(b.VenueID), edge.BeaconAttrBeaconID: Str(b.BeaconID), edge.BeaconAttrPacket: Str(b.Packet),
		edge.BeaconAttrRotatesAt: Num(b.RotatesAt), edge.BeaconAttrExpiresAt: Num(b.ExpiresAt),
	}
	if b.SuccessorID != "" {
		item[edge.BeaconAttrSuccessorID] = Str(b.SuccessorID)
	}
	return item, CheckItem(item)
}

// CheckItem refuses an item carrying any attribute outside the contract
// (an owner's email, say).
func CheckItem(item map[string]types.AttributeValue) error {
	keys := make([]string, 0, len(item))
	for k := range item {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return edge.CheckBeaconFields(keys)
}

// Decode reads an item strictly: contract attributes only, of the
// contract's types, with valid values.
func Decode(item map[string]types.AttributeValue) (edge.Beacon, error) {
	if err := CheckItem(item); err != nil {
		return edge.Beacon{}, err
	}
	var b edge.Beacon
	var err error
	for _, f := range []struct {
		name string
		s    *string
		n    *int64
	}{
		{edge.BeaconAttrVenueID, &b.VenueID, nil}, {edge.BeaconAttrBeaconID, &b.BeaconID, nil},
		{edge.BeaconAttrPacket, &b.Packet, nil}, {edge.BeaconAttrSuccessorID, &b.SuccessorID, nil},
		{edge.BeaconAttrRotatesAt, nil, &b.RotatesAt}, {edge.BeaconAttrExpiresAt, nil, &b.ExpiresAt},
	} {
		v, ok := item[f.name]
		if !ok {
			continue
		}
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			if f.s == nil {
				return edge.Beacon{}, fmt.Errorf("beacon: %s must be a number (epoch seconds)", f.name)
			}
			*f.s = v.Value
		case *types.AttributeValueMemberN:
			if f.n == nil {
				return edge.Beacon{}, fmt.Errorf("beacon: %s must be a string", f.name)
			}
			if *f.n, err = strconv.ParseInt(v.Value, 10, 64); err != nil {
				return edge.Beacon{}, fmt.Errorf("beacon: %s=%s must be whole epoch seconds", f.name, v.Value)
			}
		default:
			return edge.Beacon{}, fmt.Errorf("beacon: %s has DynamoDB type %T, want S or N", f.name, v)
		}
	}
	return b, b.Validate()
}

// Key is the item key of a beacon.
func Key(venueID, beaconID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{edge.BeaconAttrVenueID: Str(venueID), edge.BeaconAttrBeaconID: Str(beaconID)}
}

// Names maps "#name" to name for each attribute a request uses; every
// attribute goes through a placeholder so no contract name can collide
// with a DynamoDB reserved word.
func Names(attrs ...string) map[string]string {
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		m["#"+a] = a
	}
	return m
}

// Projection is the projection expression of the contract's attributes
// (with Names(edge.BeaconAttributes...)).
func Projection() string {
	p := make([]string, len(edge.BeaconAttributes))
	for i, a := range edge.BeaconAttributes {
		p[i] = "#" + a
	}
	return strings.Join(p, ", ")
}

// Str and Num are DynamoDB string and number values.
func Str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// Num is a DynamoDB number value.
func Num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// KeyString reads a string attribute ("" when absent or not a string).
func KeyString(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// ConditionFailed reports a failed ConditionExpression.
func ConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}
