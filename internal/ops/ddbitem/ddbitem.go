// Package ddbitem turns DynamoDB items into plain Go values, for the
// beacon export (JSON Lines) and for comparing a restored item with the
// live one.
package ddbitem

import (
	"encoding/json"
	"reflect"
	"sort"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Plain turns an attribute into JSON-friendly Go values: strings, numbers
// as json.Number, booleans, nil, lists, maps, bytes. Sets come back sorted,
// since DynamoDB returns their members in any order.
func Plain(v ddbtypes.AttributeValue) any {
	switch a := v.(type) {
	case *ddbtypes.AttributeValueMemberS:
		return a.Value
	case *ddbtypes.AttributeValueMemberN:
		return json.Number(a.Value)
	case *ddbtypes.AttributeValueMemberBOOL:
		return a.Value
	case *ddbtypes.AttributeValueMemberNULL:
		return nil
	case *ddbtypes.AttributeValueMemberSS:
		return sorted(a.Value)
	case *ddbtypes.AttributeValueMemberNS:
		out := make([]json.Number, 0, len(a.Value))
		for _, n := range sorted(a.Value) {
			out = append(out, json.Number(n))
		}
		return out
	case *ddbtypes.AttributeValueMemberB:
		return a.Value
	case *ddbtypes.AttributeValueMemberBS:
		out := append([][]byte(nil), a.Value...)
		sort.Slice(out, func(i, j int) bool { return string(out[i]) < string(out[j]) })
		return out
	case *ddbtypes.AttributeValueMemberL:
		out := make([]any, len(a.Value))
		for i, x := range a.Value {
			out[i] = Plain(x)
		}
		return out
	case *ddbtypes.AttributeValueMemberM:
		return PlainMap(a.Value)
	}
	return nil
}

// PlainMap is Plain for a whole item.
func PlainMap(item map[string]ddbtypes.AttributeValue) map[string]any {
	out := make(map[string]any, len(item))
	for k, x := range item {
		out[k] = Plain(x)
	}
	return out
}

// Equal reports whether two items hold the same attributes and values.
func Equal(a, b map[string]ddbtypes.AttributeValue) bool {
	return reflect.DeepEqual(PlainMap(a), PlainMap(b))
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
