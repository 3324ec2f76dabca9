# Required tags: every AWS provider in a stack applies the five required tags
# through default_tags, and no resource blanks one of them.
# Run by hand: opa eval -d tests/policy -i cdktf.out/stacks/dev-network/cdk.tf.json 'data.spatialprops.deny'
package spatialprops

import rego.v1

required_tags := {"Environment", "Project", "Service", "CostCenter", "Owner"}

deny contains msg if {
	some i
	p := input.provider.aws[i]
	tags := object.get(p, ["default_tags", 0, "tags"], {})
	some key in required_tags
	object.get(tags, key, "") == ""
	msg := sprintf("tags: AWS provider %v (alias %v) has no default tag %v", [i, object.get(p, "alias", "default"), key])
}

deny contains msg if {
	count(object.get(input, ["provider", "aws"], [])) == 0
	some typ, _ in object.get(input, "resource", {})
	startswith(typ, "aws_")
	msg := "tags: stack has resources but no AWS provider with default_tags"
}

deny contains msg if {
	some type, name
	r := input.resource[type][name]
	startswith(type, "aws_")
	some key in required_tags
	object.get(r, ["tags", key], "unset") == ""
	msg := sprintf("tags: %v.%v blanks required tag %v", [type, name, key])
}
