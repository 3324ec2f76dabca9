package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

func TestEdgeStreamsAndEnvelopeLimit(t *testing.T) {
	for env, replicas := range map[string]int64{"dev": 1, "staging": 3, "prod": 3} {
		doc := stack(t, env+"-edge").Doc
		var names []string
		for _, ns := range resources(doc, "kubernetes_namespace_v1") {
			names = append(names, ns.Get("metadata.name").String())
		}
		assert.ElementsMatch(t, []string{"edge-sync", "edge-nats", "cdn-presigner", "device-enrollment"}, names,
			"the services the workflows deploy in edge-sync; NATS, the presigner and enrollment each apart, where no deploy role reaches")

		_, v := releaseValues(t, doc, "nats")
		cfg := v["config"].(map[string]any)
		assert.Equal(t, 51200, cfg["merge"].(map[string]any)["max_payload"], "the server refuses payloads over 50 KB")
		assert.Equal(t, true, cfg["jetstream"].(map[string]any)["enabled"])
		assert.Equal(t, replicas > 1, cfg["cluster"].(map[string]any)["enabled"], env)

		streams := configMap(t, pinnedStack(t, env, "edge"), "edge-streams")
		subjects := map[string]string{}
		for _, f := range []string{"EDGE.json", "BEACONS.json", "DEVICES.json", "SECURITY.json"} {
			s := gjson.Parse(streams.Get("data." + gjson.Escape(f)).String())
			assert.Equal(t, int64(51200), s.Get("max_msg_size").Int(), f)
			assert.Equal(t, replicas, s.Get("num_replicas").Int(), "%s: stream replicas match the NATS servers", env)
			for _, subj := range s.Get("subjects").Array() {
				subjects[subj.String()] = s.Get("name").String()
			}
		}
		assert.Equal(t, map[string]string{"edge.peer.sync": "EDGE", "edge.peer.sync.>": "EDGE", "edge.beacon.updated": "BEACONS",
			"edge.device.>": "DEVICES", "security.replay.detected": "SECURITY"}, subjects)
	}
}

func TestDTNQueuesAreProtectedOutsideDev(t *testing.T) {
	// The queues hold undelivered envelopes; the README promises
	// prevent_destroy on stateful resources outside dev.
	for env, want := range map[string]bool{"dev": false, "staging": true, "prod": true} {
		queues := resources(stack(t, env+"-edge").Doc, "aws_sqs_queue")
		require.Len(t, queues, 2, env)
		for _, q := range queues {
			assert.Equal(t, want, q.Get("lifecycle.prevent_destroy").Bool(), "%s: %s", env, q.Get("name"))
		}
	}
}

func TestNATSKeepsQuorumWhileNodesDrain(t *testing.T) {
	_, v := releaseValues(t, stack(t, "prod-edge").Doc, "nats")
	assert.Equal(t, map[string]any{"enabled": true}, v["podDisruptionBudget"], "the chart's PDB allows one server down at a time")
}

func TestDTNStoreAndForward(t *testing.T) {
	doc := stack(t, "dev-edge").Doc
	var outbox gjson.Result
	for _, q := range resources(doc, "aws_sqs_queue") {
		assert.Contains(t, q.Get("kms_master_key_id").String(), "cross-stack-reference-input-dev-storage", "queues use the edge key")
		assert.Contains(t, q.Get("kms_master_key_id").String(), "edge-key", "the edge's own key, not the packs' data key")
		if q.Get("name").String() == "spatialprops-dev-dtn-outbox" {
			outbox = q
		}
	}
	require.True(t, outbox.Exists())
	assert.Equal(t, int64(51200), outbox.Get("max_message_size").Int(), "the queue refuses envelopes over 50 KB")
	assert.Contains(t, outbox.Get("redrive_policy").String(), "maxReceiveCount")

	buckets := resources(doc, "aws_s3_bucket")
	require.Len(t, buckets, 1)
	assert.Equal(t, "spatial-dtn-spatialprops-dev-ap-southeast-2", buckets[0].Get("bucket").String())

	trusted := false
	for _, pair := range irsaTrusts(doc) {
		if len(pair[0]) == 1 && pair[0][0] == "system:serviceaccount:edge-sync:dtn-gateway" {
			trusted = true
			assert.Equal(t, []string{"sts.amazonaws.com"}, pair[1])
		}
	}
	assert.True(t, trusted, "a role trusts edge-sync/dtn-gateway alone")
	for _, sid := range []string{"QueueEnvelopes", "StoreEnvelopeBodies", "ListEnvelopes", "UseTheEdgeKeyForItsStoreAndQueues"} {
		for _, r := range strs(policyStatement(t, doc, sid).Get("resources")) {
			assert.NotEqual(t, "*", r, "%s is scoped to its resource", sid)
		}
	}
	// the logs bucket accepts the DTN bucket's access logs
	logs := policyStatement(t, stack(t, "dev-storage").Doc, "AllowAccessLogsFromDtn")
	assert.Equal(t, []string{"arn:aws:s3:::spatial-logs-spatialprops-dev-ap-southeast-2/spatial-dtn/*"}, strs(logs.Get("resources")))
}

// GIVEN the edge stack WHEN synthesized THEN the device-certificate ledger a
// cohort revocation reads is encrypted with the devices key, recoverable, has the
// cohort index rollback queries, and cannot be destroyed outside dev; so is
// the devices table enrollment and the presigner read.
func TestDeviceLedgerTable(t *testing.T) {
	for env, protect := range map[string]bool{"dev": false, "staging": true, "prod": true} {
		tables := map[string]gjson.Result{}
		for _, tbl := range resources(stack(t, env+"-edge").Doc, "aws_dynamodb_table") {
			tables[tbl.Get("name").String()] = tbl
		}
		require.Len(t, tables, 3, env) // the device ledger, the devices and the beacon registry
		devices := tables["spatialprops-"+env+"-devices"]
		assert.Equal(t, "device", devices.Get("hash_key").String(), "one item per device")
		assert.True(t, devices.Get("point_in_time_recovery.enabled").Bool(), env)
		assert.Contains(t, devices.Get("server_side_encryption.kms_key_arn").String(), "cross-stack-reference-input-"+env+"-storage")
		assert.Equal(t, protect, devices.Get("lifecycle.prevent_destroy").Bool(), env)
		tbl := tables["spatialprops-"+env+"-device-ledger"]
		assert.Equal(t, "spatialprops-"+env+"-device-ledger", tbl.Get("name").String())
		assert.Equal(t, "serial", tbl.Get("hash_key").String(), "one item per certificate serial")
		assert.Equal(t, "by-cohort", tbl.Get("global_secondary_index.0.name").String(), "rollback finds a cohort's serials through this index")
		assert.Equal(t, "cohort", tbl.Get("global_secondary_index.0.hash_key").String())
		assert.True(t, tbl.Get("point_in_time_recovery.enabled").Bool(), "%s: a bad write can be rolled back", env)
		assert.True(t, tbl.Get("server_side_encryption.enabled").Bool())
		assert.Contains(t, tbl.Get("server_side_encryption.kms_key_arn").String(), "cross-stack-reference-input-"+env+"-storage", "customer-managed key, not the AWS-owned one")
		assert.Contains(t, tbl.Get("server_side_encryption.kms_key_arn").String(), "devices-key", "the devices key, not the packs' data key")
		assert.Equal(t, protect, tbl.Get("lifecycle.prevent_destroy").Bool(), env)
		assert.Equal(t, protect, tbl.Get("deletion_protection_enabled").Bool(), env)
	}
}
