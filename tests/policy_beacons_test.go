package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// edgeStack returns dev's synthesized edge stack as a generic document.
func edgeStack(t *testing.T) map[string]any {
	t.Helper()
	for _, s := range allStacks(t) {
		if s.ID == "dev-edge" {
			var doc map[string]any
			require.NoError(t, json.Unmarshal(s.Raw, &doc))
			return doc
		}
	}
	t.Fatal("dev-edge is not synthesized")
	return nil
}

// beaconStatements returns every statement of the edge stack's policy
// documents that names the beacon table, keyed "<document>/<sid>".
func beaconStatements(doc map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	docs := doc["data"].(map[string]any)["aws_iam_policy_document"].(map[string]any)
	for name, d := range docs {
		for _, s := range d.(map[string]any)["statement"].([]any) {
			st := s.(map[string]any)
			res, _ := st["resources"].([]any)
			for _, r := range res {
				if strings.Contains(r.(string), "aws_dynamodb_table.beacons.") {
					sid, _ := st["sid"].(string)
					out[name+"/"+sid] = st
				}
			}
		}
	}
	return out
}

// GIVEN the synthesized edge stack THEN the beacon roles are exactly: the
// API and the rotation job write (PutItem/UpdateItem, never BatchWriteItem)
// under the attribute conditions, and the admin UI only reads.
func TestBeaconRolesWriteOnlyContractAttributes(t *testing.T) {
	sts := beaconStatements(edgeStack(t))
	writers := []string{}
	for key, st := range sts {
		actions := st["actions"].([]any)
		conds := map[string]any{}
		for _, c := range st["condition"].([]any) {
			c := c.(map[string]any)
			conds[c["test"].(string)+" "+c["variable"].(string)] = c["values"]
		}
		attrs := conds["ForAllValues:StringEquals dynamodb:Attributes"]
		require.NotNil(t, attrs, "%s names the beacon table without the attribute condition", key)
		got := []string{}
		for _, a := range attrs.([]any) {
			got = append(got, a.(string))
		}
		assert.Equal(t, edge.BeaconAttributes, got, key)
		assert.Equal(t, []any{"SPECIFIC_ATTRIBUTES"}, conds["StringEqualsIfExists dynamodb:Select"], key)
		assert.Equal(t, []any{"NONE", "UPDATED_OLD", "UPDATED_NEW"}, conds["StringEqualsIfExists dynamodb:ReturnValues"], key)
		assert.NotContains(t, actions, "dynamodb:BatchWriteItem", key)
		if assert.NotContains(t, actions, "dynamodb:DeleteItem", key); contains(actions, "dynamodb:PutItem") {
			writers = append(writers, strings.SplitN(key, "_", 2)[0])
		}
	}
	sort.Strings(writers)
	assert.Equal(t, []string{"irsa-beacon-rotate", "irsa-beacons"}, writers, "only the API and the rotation job write; the admin UI is read-only")
	assert.Contains(t, sts, findKey(sts, "irsa-beacons-admin_", "ReadBeacons"))
}

func findKey(m map[string]map[string]any, prefix, sid string) string {
	for k := range m {
		if strings.HasPrefix(k, prefix) && strings.HasSuffix(k, "/"+sid) {
			return k
		}
	}
	return prefix + "?/" + sid
}

func contains(xs []any, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// GIVEN the real edge stack, mutated THEN tests/policy/beacons.rego fires
// when a writer loses its attribute condition, allows a PII attribute, drops
// the ReturnValues condition, or when a new role writes through BatchWriteItem
// without conditions; the unmutated stack passes.
func TestBeaconPolicyFiresOnMutatedStack(t *testing.T) {
	q := policies(t)
	raw, err := json.Marshal(edgeStack(t))
	require.NoError(t, err)
	assert.Empty(t, deny(t, q, raw), "the real stack passes")

	mutate := func(f func(st map[string]any) bool) []string {
		doc := map[string]any{}
		require.NoError(t, json.Unmarshal(raw, &doc))
		for _, st := range beaconStatements(doc) {
			if f(st) {
				break
			}
		}
		out, err := json.Marshal(doc)
		require.NoError(t, err)
		return deny(t, q, out)
	}
	isWriter := func(st map[string]any) bool { return contains(st["actions"].([]any), "dynamodb:PutItem") }
	dropCond := func(variable string) func(map[string]any) bool {
		return func(st map[string]any) bool {
			if !isWriter(st) {
				return false
			}
			var kept []any
			for _, c := range st["condition"].([]any) {
				if c.(map[string]any)["variable"] != variable {
					kept = append(kept, c)
				}
			}
			st["condition"] = kept
			return true
		}
	}
	got := mutate(dropCond("dynamodb:Attributes"))
	require.Len(t, got, 1)
	assert.Regexp(t, `^beacons: policy document irsa-beacon.*statement WriteAllowedBeaconAttributes writes the beacon table without ForAllValues:StringEquals dynamodb:Attributes`, got[0])

	got = mutate(dropCond("dynamodb:ReturnValues"))
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "without a dynamodb:ReturnValues condition")

	got = mutate(func(st map[string]any) bool {
		if !isWriter(st) {
			return false
		}
		for _, c := range st["condition"].([]any) {
			if c := c.(map[string]any); c["variable"] == "dynamodb:Attributes" {
				c["values"] = append(c["values"].([]any), "ownerEmail")
			}
		}
		return true
	})
	require.Len(t, got, 1, "a PII attribute in the allowed list fires")

	// a new statement granting BatchWriteItem on the table, no conditions
	doc := map[string]any{}
	require.NoError(t, json.Unmarshal(raw, &doc))
	docs := doc["data"].(map[string]any)["aws_iam_policy_document"].(map[string]any)
	docs["sneaky"] = map[string]any{"statement": []any{map[string]any{"sid": "Bulk", "actions": []any{"dynamodb:BatchWriteItem"}, "resources": []any{"arn:aws:dynamodb:ap-southeast-2:111122223333:table/spatialprops-dev-beacons"}}}}
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	got = deny(t, q, out)
	assert.Len(t, got, 2)
	assert.Contains(t, strings.Join(got, "\n"), "policy document sneaky statement Bulk writes the beacon table without ForAllValues")
}

// The Rego list and the Go contract are one list.
func TestBeaconAttributeListsAgree(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("policy", "beacons.rego"))
	require.NoError(t, err)
	m := regexp.MustCompile(`beacon_attributes := \{([^}]*)\}`).FindStringSubmatch(string(raw))
	require.NotNil(t, m)
	assert.Equal(t, quoted(edge.BeaconAttributes), m[1])

}

func quoted(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = `"` + x + `"`
	}
	return strings.Join(q, ", ")
}

// GIVEN each env's edge stack THEN the beacon table has the contract's key,
// TTL on expiresAt, PITR, its own CMK, and protection outside dev.
func TestBeaconTable(t *testing.T) {
	for env, protect := range map[string]bool{"dev": false, "staging": true, "prod": true} {
		var tbl = resources(stack(t, env+"-edge").Doc, "aws_dynamodb_table")
		found := false
		for _, r := range tbl {
			if r.Get("name").String() != "spatialprops-"+env+"-beacons" {
				continue
			}
			found = true
			assert.Equal(t, "venueId", r.Get("hash_key").String())
			assert.Equal(t, "beaconId", r.Get("range_key").String())
			assert.Equal(t, "expiresAt", r.Get("ttl.attribute_name").String())
			assert.True(t, r.Get("ttl.enabled").Bool())
			assert.True(t, r.Get("point_in_time_recovery.enabled").Bool())
			assert.Contains(t, r.Get("server_side_encryption.kms_key_arn").String(), "aws_kms_key.beacons-key")
			assert.Equal(t, protect, r.Get("lifecycle.prevent_destroy").Bool(), env)
			assert.Equal(t, protect, r.Get("deletion_protection_enabled").Bool(), env)
		}
		assert.True(t, found, env)
		assert.Contains(t, string(stack(t, env+"-edge").Raw), `"name": "alias/spatialprops-`+env+`-beacons"`)
	}
}
