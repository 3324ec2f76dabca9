# Beacon registry: the no-PII guarantee is IAM's. Every policy statement that
# lets a principal write the beacon table ("<org>-<env>-beacons") must carry
# the attribute-level conditions AWS documents for DynamoDB: every attribute
# the request names is one of the contract's (edge.BeaconAttributes, with
# ForAllValues:StringEquals on dynamodb:Attributes), and a write returns no
# more than it updated (dynamodb:ReturnValues). A writer without them could
# store an owner's email next to a beacon.
package spatialprops

import rego.v1

beacon_attributes := {"venueId", "beaconId", "packet", "rotatesAt", "expiresAt", "successorId"}

beacon_write_actions := {
	"*", "dynamodb:*", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem",
	"dynamodb:Put*", "dynamodb:Update*", "dynamodb:Batch*", "dynamodb:*Item",
}

# beacon_tables are the resource keys of the beacon tables in this stack.
beacon_tables contains key if {
	some key
	t := input.resource.aws_dynamodb_table[key]
	endswith(t.name, "-beacons")
}

# covers_beacon_table: a statement resource reaches a beacon table, by
# reference, by a literal ARN, or by wildcard.
covers_beacon_table(res) if {
	some key in beacon_tables
	contains(res, sprintf("aws_dynamodb_table.%s.", [key]))
}

covers_beacon_table(res) if {
	count(beacon_tables) > 0
	res in {"*", "arn:aws:dynamodb:*:*:table/*"}
}

covers_beacon_table(res) if regex.match(`:table/[^/]*-beacons(/.*)?$`, res)

beacon_writer_statements contains [name, i] if {
	some name
	doc := input.data.aws_iam_policy_document[name]
	some i, st in doc.statement
	object.get(st, "effect", "Allow") == "Allow"
	some a in st.actions
	a in beacon_write_actions
	some res in object.get(st, "resources", [])
	covers_beacon_table(res)
}

has_attribute_condition(st) if {
	some c in object.get(st, "condition", [])
	c.test == "ForAllValues:StringEquals"
	c.variable == "dynamodb:Attributes"
	count(c.values) > 0
	every v in c.values {
		v in beacon_attributes
	}
}

has_return_values_condition(st) if {
	some c in object.get(st, "condition", [])
	c.variable == "dynamodb:ReturnValues"
	every v in c.values {
		v in {"NONE", "UPDATED_OLD", "UPDATED_NEW"}
	}
}

deny contains msg if {
	some [name, i] in beacon_writer_statements
	st := input.data.aws_iam_policy_document[name].statement[i]
	not has_attribute_condition(st)
	msg := sprintf("beacons: policy document %v statement %v writes the beacon table without ForAllValues:StringEquals dynamodb:Attributes limited to the beacon contract", [name, object.get(st, "sid", i)])
}

deny contains msg if {
	some [name, i] in beacon_writer_statements
	st := input.data.aws_iam_policy_document[name].statement[i]
	not has_return_values_condition(st)
	msg := sprintf("beacons: policy document %v statement %v writes the beacon table without a dynamodb:ReturnValues condition (NONE, UPDATED_OLD, UPDATED_NEW)", [name, object.get(st, "sid", i)])
}
