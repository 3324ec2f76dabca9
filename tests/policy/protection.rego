# Nothing is lost by accident: in prod, every resource that holds data,
# keys or history carries lifecycle.prevent_destroy (or, for DynamoDB,
# deletion protection), so `terraform destroy` or a change that would
# replace it stops at plan time. Removing it is a deliberate two-step change.
package spatialprops

import rego.v1

stateful_types := {
	"aws_kms_key",
	"aws_s3_bucket",
	"aws_dynamodb_table",
	"aws_sqs_queue",
	"aws_ecr_repository",
	"aws_eks_cluster",
	"aws_cloudwatch_log_group",
	"aws_acmpca_certificate_authority",
}

is_prod_stack if startswith(stack_name, "prod-")

protected(r) if r.lifecycle.prevent_destroy == true

protected(r) if r.deletion_protection_enabled == true

deny contains msg if {
	is_prod_stack
	some type in stateful_types
	some name, r in object.get(input, ["resource", type], {})
	not protected(r)
	msg := sprintf("protection: %v.%v in %v has no lifecycle.prevent_destroy", [type, name, stack_name])
}
