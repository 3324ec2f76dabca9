package ddbitem

import (
	"encoding/json"
	"testing"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
)

// Two reads of the same item can list a set's members in another order;
// they are the same item. A string and a number with the same digits are not.
func TestEqualIgnoresSetOrderOnly(t *testing.T) {
	a := map[string]ddbtypes.AttributeValue{
		"tags": &ddbtypes.AttributeValueMemberSS{Value: []string{"b", "a"}},
		"n":    &ddbtypes.AttributeValueMemberNS{Value: []string{"2", "10"}},
		"m":    &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{"x": &ddbtypes.AttributeValueMemberN{Value: "1"}}},
	}
	b := map[string]ddbtypes.AttributeValue{
		"tags": &ddbtypes.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"n":    &ddbtypes.AttributeValueMemberNS{Value: []string{"10", "2"}},
		"m":    &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{"x": &ddbtypes.AttributeValueMemberN{Value: "1"}}},
	}
	assert.True(t, Equal(a, b))
	b["m"] = &ddbtypes.AttributeValueMemberM{Value: map[string]ddbtypes.AttributeValue{"x": &ddbtypes.AttributeValueMemberS{Value: "1"}}}
	assert.False(t, Equal(a, b), "a string is not a number")
	delete(b, "m")
	assert.False(t, Equal(a, b), "a missing attribute differs")
}

func TestPlainIsJSONFriendly(t *testing.T) {
	out, err := json.Marshal(PlainMap(map[string]ddbtypes.AttributeValue{
		"id": &ddbtypes.AttributeValueMemberS{Value: "b1"}, "ttl": &ddbtypes.AttributeValueMemberN{Value: "1765000000"},
		"on": &ddbtypes.AttributeValueMemberBOOL{Value: true}, "none": &ddbtypes.AttributeValueMemberNULL{Value: true},
	}))
	assert.NoError(t, err)
	assert.JSONEq(t, `{"id":"b1","ttl":1765000000,"on":true,"none":null}`, string(out))
}
