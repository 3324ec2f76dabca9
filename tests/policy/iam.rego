# IAM: no policy allows every action on every resource, whether written as a
# policy document data source or as inline JSON, and no role gets the
# AdministratorAccess managed policy.
package spatialprops

import rego.v1

wildcard_actions := {"*", "*:*"}

deny contains msg if {
	some name
	doc := input.data.aws_iam_policy_document[name]
	some st in doc.statement
	object.get(st, "effect", "Allow") == "Allow"
	some a in st.actions
	a in wildcard_actions
	"*" in st.resources
	msg := sprintf("iam: policy document %v allows %v on *", [name, a])
}

deny contains msg if {
	some type, name
	r := input.resource[type][name]
	startswith(type, "aws_iam_")
	is_string(r.policy)
	startswith(trim_space(r.policy), "{")
	doc := json.unmarshal(r.policy)
	some st in as_array(doc.Statement)
	st.Effect == "Allow"
	some a in as_array(st.Action)
	a in wildcard_actions
	"*" in as_array(st.Resource)
	msg := sprintf("iam: %v.%v allows %v on *", [type, name, a])
}

deny contains msg if {
	some type, name
	r := input.resource[type][name]
	some arn in object.get(r, "managed_policy_arns", [])
	endswith(arn, ":policy/AdministratorAccess")
	msg := sprintf("iam: %v.%v attaches AdministratorAccess", [type, name])
}

deny contains msg if {
	some name
	r := input.resource.aws_iam_role_policy_attachment[name]
	endswith(r.policy_arn, ":policy/AdministratorAccess")
	msg := sprintf("iam: aws_iam_role_policy_attachment.%v attaches AdministratorAccess", [name])
}

as_array(x) := x if is_array(x)

as_array(x) := [x] if not is_array(x)
