# One account per env. A stack that looks the GitHub OIDC provider up
# instead of creating it shares its account with the env that owns it; its
# account-global names must then carry the env, or two envs create the same
# ECR repository (the second deploy fails, and an immutable tag pushed by
# one env blocks the other).
package spatialprops

import rego.v1

stack_env := split(stack_name, "-")[0]

shares_account if {
	some name
	p := input.data.aws_iam_openid_connect_provider[name]
	contains(p.url, "token.actions.githubusercontent.com")
}

deny contains msg if {
	shares_account
	some name
	repo := input.resource.aws_ecr_repository[name].name
	not contains(repo, sprintf("/%v/", [stack_env]))
	msg := sprintf("accounts: %v shares its AWS account but ECR repository %v does not carry the env; set cicd.sharedAccount", [stack_name, repo])
}
