# TFLint over the HCL the stacks synthesize (cdktf.out.hcl/stacks/*), run by
# `make tflint` and `make test`. Both plugins are built from source at the
# versions pinned in tools/tflint/go.mod; TFLint finds the AWS ruleset in
# TFLINT_PLUGIN_DIR (bin/tflint-plugins), so nothing is downloaded.
config {
  # The stacks call no modules.
  call_module_type = "none"
}

# The AWS ruleset checks values against the provider's schema and AWS's
# catalogue (instance types, engine versions, regions in ARNs, ...).
# deep_check (calls to AWS) stays off: CI has no AWS credentials.
plugin "aws" {
  enabled = true
}

# TFLint's built-in Terraform language rules.
plugin "terraform" {
  enabled = true
  preset  = "recommended"
}

# cdktf writes every reference as a one-part template ("${aws_x.y.id}"),
# which this rule flags thousands of times in generated code nobody edits;
# it has no effect on what Terraform does.
rule "terraform_deprecated_interpolation" {
  enabled = false
}

# cdktf has no API for terraform.required_version, and the override it
# offers renders into HCL as `0 = "required_version"` (unparsable). The
# README requires Terraform >= 1.10, and an older one refuses every stack by
# name anyway: the S3 backend's use_lockfile argument is new in 1.10.
rule "terraform_required_version" {
  enabled = false
}
