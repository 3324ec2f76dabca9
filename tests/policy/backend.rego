# State: every stack keeps its state in the encrypted S3 backend with
# DynamoDB locking, except the state stack, which bootstraps that backend.
package spatialprops

import rego.v1

stack_name := object.get(input, ["//", "metadata", "stackName"], "")

is_state_stack if endswith(stack_name, "-state")

deny contains msg if {
	not is_state_stack
	not input.terraform.backend.s3
	msg := sprintf("backend: stack %v has no S3 backend", [stack_name])
}

deny contains msg if {
	s3 := input.terraform.backend.s3
	not s3.encrypt == true
	msg := sprintf("backend: stack %v does not encrypt its state", [stack_name])
}

deny contains msg if {
	s3 := input.terraform.backend.s3
	not s3.dynamodb_table
	msg := sprintf("backend: stack %v has no lock table", [stack_name])
}

deny contains msg if {
	local := input.terraform.backend["local"]
	startswith(object.get(local, "path", ""), "/")
	msg := sprintf("backend: stack %v keeps state at an absolute path", [stack_name])
}
