# State: every stack keeps its state in the encrypted S3 backend with S3
# native locking. The state stack is no exception: `make bootstrap` applies
# it once with a local override, then migrates its state into its bucket.
package spatialprops

import rego.v1

stack_name := object.get(input, ["//", "metadata", "stackName"], "")

deny contains msg if {
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
	not s3.use_lockfile == true
	msg := sprintf("backend: stack %v does not lock its state (use_lockfile)", [stack_name])
}

deny contains msg if {
	s3 := input.terraform.backend.s3
	s3.dynamodb_table
	msg := sprintf("backend: stack %v names dynamodb_table, deprecated since Terraform 1.11 (use use_lockfile)", [stack_name])
}
