# Detection: what an incident review needs is recorded, encrypted and kept.
# Outside dev nothing that holds evidence or undelivered data can be
# destroyed by a plan.
package spatialprops

import rego.v1

protected_env if not startswith(stack_name, "dev-")

state_stack_doc if endswith(stack_name, "-state")

eks_log_types := {"api", "audit", "authenticator", "controllerManager", "scheduler"}

prevents_destroy(r) if r.lifecycle.prevent_destroy == true

deny contains msg if {
	protected_env
	some name, c in resources_of("aws_eks_cluster")
	some t in eks_log_types
	not t in object.get(c, "enabled_cluster_log_types", [])
	msg := sprintf("detection: aws_eks_cluster.%v does not ship the %v log", [name, t])
}

# prod is covered by protection.rego (every stateful type); this extends
# the rule to staging for what the detection review asked for.
deny contains msg if {
	protected_env
	not is_prod_stack
	some type in {"aws_eks_cluster", "aws_sqs_queue", "aws_cloudwatch_log_group"}
	some name, r in resources_of(type)
	not prevents_destroy(r)
	msg := sprintf("detection: %v.%v lacks prevent_destroy outside dev", [type, name])
}

deny contains msg if {
	some name, g in resources_of("aws_cloudwatch_log_group")
	object.get(g, "kms_key_id", "") == ""
	msg := sprintf("detection: aws_cloudwatch_log_group.%v is not encrypted with a logs CMK", [name])
}

# A key that lets CloudWatch Logs use it must pin the log groups through
# the encryption context, or any log group in the account could use it.
deny contains msg if {
	some name, d in object.get(input, ["data", "aws_iam_policy_document"], {})
	some st in object.get(d, "statement", [])
	some p in object.get(st, "principals", [])
	some id in p.identifiers
	regex.match(`^logs\.[a-z0-9-]+\.amazonaws\.com$`, id)
	not logs_context_condition(st)
	msg := sprintf("detection: policy document %v lets %v use a key without a kms:EncryptionContext:aws:logs:arn condition", [name, id])
}

logs_context_condition(st) if {
	some c in object.get(st, "condition", [])
	c.variable == "kms:EncryptionContext:aws:logs:arn"
}

waf_logging(acl) := cfg if {
	some cfg in resources_of("aws_wafv2_web_acl_logging_configuration")
	cfg.resource_arn == sprintf("${aws_wafv2_web_acl.%v.arn}", [acl])
}

deny contains msg if {
	some name, _ in resources_of("aws_wafv2_web_acl")
	not waf_logging(name)
	msg := sprintf("detection: aws_wafv2_web_acl.%v has no logging configuration", [name])
}

required_redactions := {"authorization", "cookie"}

deny contains msg if {
	some name, _ in resources_of("aws_wafv2_web_acl")
	cfg := waf_logging(name)
	redacted := {lower(f.single_header.name) | some f in object.get(cfg, "redacted_fields", []); f.single_header}
	some h in required_redactions
	not h in redacted
	msg := sprintf("detection: WAF logs of aws_wafv2_web_acl.%v keep the %v header in clear", [name, h])
}

deny contains msg if {
	some name, _ in resources_of("aws_wafv2_web_acl")
	cfg := waf_logging(name)
	some dest in cfg.log_destination_configs
	startswith(dest, "${aws_cloudwatch_log_group.")
	id := split(trim_prefix(dest, "${aws_cloudwatch_log_group."), ".")[0]
	not startswith(resources_of("aws_cloudwatch_log_group")[id].name, "aws-waf-logs-")
	msg := sprintf("detection: WAF logs of aws_wafv2_web_acl.%v go to a log group not named aws-waf-logs-*, which WAF refuses", [name])
}

deny contains msg if {
	state_stack_doc
	some name, b in resources_of("aws_s3_bucket")
	startswith(b.bucket, "tfstate-")
	not startswith(b.bucket, "tfstate-logs-")
	not access_logged(name)
	msg := sprintf("detection: state bucket %v has no server access logging", [b.bucket])
}

access_logged(name) if {
	some l in resources_of("aws_s3_bucket_logging")
	l.bucket == sprintf("${aws_s3_bucket.%v.id}", [name])
}
