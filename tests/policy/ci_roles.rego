# CI roles: what a GitHub Actions job can do once it holds a role.
# - A role a pull request can assume (sub ...:pull_request) reads no data:
#   no managed policy (ReadOnlyAccess reads objects, parameters and logs),
#   no data-read action outside the state store (and the public CA bundle,
#   whose refresh heads it); and no prod role trusts
#   pull requests at all.
# - No role gets iam:* or a whole service on every resource; role creation
#   is tied to the permissions boundary, attachment to a policy allowlist,
#   service-linked roles to named services; nothing is protected by a tag
#   the protected-against role could change.
# - Roles that deploy trust GitHub environments, never a branch, and no two
#   roles share a subject (a service workflow cannot assume the infra role).
# - Every role the stacks create, except the human-deployed GitHub and
#   operator roles, carries a permissions boundary.
package spatialprops

import rego.v1

github_sub := "token.actions.githubusercontent.com:sub"

# documents maps a policy-document data source name to its statements.
documents[name] := object.get(doc, "statement", []) if {
	some name
	doc := input.data.aws_iam_policy_document[name]
}

doc_ref(name) := sprintf("${data.aws_iam_policy_document.%v.json}", [name])

role_ref(role) := {sprintf("${aws_iam_role.%v.id}", [role]), sprintf("${aws_iam_role.%v.name}", [role])}

# subjects(role) are the GitHub sub claims a role's trust policy admits.
subjects(role) := {v |
	r := input.resource.aws_iam_role[role]
	some name
	r.assume_role_policy == doc_ref(name)
	some st in documents[name]
	some c in object.get(st, "condition", [])
	c.variable == github_sub
	some v in c.values
}

# permissions(role) are the Allow statements of the role's inline policies.
permissions(role) := [st |
	some p
	rp := input.resource.aws_iam_role_policy[p]
	rp.role in role_ref(role)
	some name
	rp.policy == doc_ref(name)
	some st in documents[name]
	object.get(st, "effect", "Allow") == "Allow"
]

pr_role(role) if {
	some sub in subjects(role)
	endswith(sub, ":pull_request")
}

data_reads := {
	"s3:getobject", "s3:getobjectversion", "secretsmanager:getsecretvalue",
	"ssm:getparameter", "ssm:getparameters", "ssm:getparametersbypath", "ssm:getparameterhistory",
	"logs:getlogevents", "logs:filterlogevents", "logs:startquery", "logs:getqueryresults",
	"dynamodb:getitem", "dynamodb:batchgetitem", "dynamodb:query", "dynamodb:scan",
	"sqs:receivemessage", "ecr:batchgetimage", "ecr:getdownloadurlforlayer",
}

# The state store is the one place a plan reads data from.
state_store(resource) if startswith(resource, "arn:aws:s3:::tfstate-")

state_store(resource) if contains(resource, ":table/tf-lock-")

# The CA bundle (the root certificate, a public document) is the one object
# outside it a plan may head: refreshing the identity stack's aws_s3_object
# needs it. Exactly that key, never a prefix or another PKI object.
public_document(resource) if regex.match(`^arn:aws:s3:::spatial-pki-[a-z0-9-]+/trust/device-ca\.pem$`, resource)

deny contains msg if {
	some role
	input.resource.aws_iam_role[role]
	pr_role(role)
	some a
	att := input.resource.aws_iam_role_policy_attachment[a]
	att.role in role_ref(role)
	msg := sprintf("ci: role %v is reachable from pull requests and attaches %v; grant curated reads inline", [role, att.policy_arn])
}

deny contains msg if {
	some role
	input.resource.aws_iam_role[role]
	pr_role(role)
	some st in permissions(role)
	some pattern in st.actions
	some action in data_reads
	glob.match(lower(pattern), [], action)
	some res in object.get(st, "resources", ["*"])
	not state_store(res)
	not public_document(res)
	msg := sprintf("ci: role %v is reachable from pull requests and can %v on %v", [role, action, res])
}

deny contains msg if {
	startswith(stack_name, "prod-")
	some role
	input.resource.aws_iam_role[role]
	pr_role(role)
	msg := sprintf("ci: prod role %v trusts pull requests; trust the prod-plan environment instead", [role])
}

deny contains msg if {
	some a
	input.resource.aws_eks_access_policy_association[a].policy_arn == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
	msg := sprintf("ci: access policy association %v grants AmazonEKSAdminViewPolicy, which reads every Secret", [a])
}

deny contains msg if {
	some name
	some st in documents[name]
	object.get(st, "effect", "Allow") == "Allow"
	some a in st.actions
	lower(a) == "iam:*"
	msg := sprintf("ci: policy document %v allows iam:*", [name])
}

deny contains msg if {
	some role
	input.resource.aws_iam_role[role]
	some st in permissions(role)
	some a in st.actions
	endswith(a, ":*")
	"*" in object.get(st, "resources", [])
	not st.condition
	msg := sprintf("ci: role %v allows %v on every resource", [role, a])
}

boundary_bound := {"iam:createrole", "iam:putrolepolicy", "iam:attachrolepolicy", "iam:putrolepermissionsboundary"}

has_condition(st, variable) if {
	some c in object.get(st, "condition", [])
	c.variable == variable
}

deny contains msg if {
	some name
	some st in documents[name]
	object.get(st, "effect", "Allow") == "Allow"
	some pattern in st.actions
	not pattern in wildcard_actions
	some action in boundary_bound
	glob.match(lower(pattern), [], action)
	not has_condition(st, "iam:PermissionsBoundary")
	msg := sprintf("ci: policy document %v allows %v without an iam:PermissionsBoundary condition", [name, action])
}

deny contains msg if {
	some name
	some st in documents[name]
	object.get(st, "effect", "Allow") == "Allow"
	some pattern in st.actions
	not pattern in wildcard_actions
	glob.match(lower(pattern), [], "iam:attachrolepolicy")
	not has_condition(st, "iam:PolicyARN")
	msg := sprintf("ci: policy document %v allows iam:AttachRolePolicy without an iam:PolicyARN allowlist", [name])
}

deny contains msg if {
	some name
	some st in documents[name]
	object.get(st, "effect", "Allow") == "Allow"
	some pattern in st.actions
	not pattern in wildcard_actions
	glob.match(lower(pattern), [], "iam:createservicelinkedrole")
	not has_condition(st, "iam:AWSServiceName")
	msg := sprintf("ci: policy document %v allows iam:CreateServiceLinkedRole without iam:AWSServiceName", [name])
}

deny contains msg if {
	some name
	some st in documents[name]
	st.effect == "Deny"
	some c in object.get(st, "condition", [])
	startswith(c.variable, "aws:ResourceTag/")
	msg := sprintf("ci: policy document %v protects by %v, a tag the denied principal may change; name the resources by ARN", [name, c.variable])
}

# Actions IAM does not have: a grant or deny of them silently does nothing.
not_iam_actions := {"s3:deletebucketownershipcontrols"}

deny contains msg if {
	some name
	some st in documents[name]
	some a in st.actions
	lower(a) in not_iam_actions
	msg := sprintf("ci: policy document %v names %v, which is not an IAM action", [name, a])
}

# Roles that deploy: they push images, pass roles or administer the cluster.
deploys(role) if {
	some st in permissions(role)
	some a in st.actions
	lower(a) in {"ecr:putimage", "iam:passrole", "iam:createrole"}
}

deny contains msg if {
	some role
	input.resource.aws_iam_role[role]
	deploys(role)
	some sub in subjects(role)
	not contains(sub, ":environment:")
	msg := sprintf("ci: deploy role %v trusts %v; trust a GitHub environment with reviewers and a main-only branch rule", [role, sub])
}

deny contains msg if {
	some a, b
	input.resource.aws_iam_role[a]
	input.resource.aws_iam_role[b]
	a < b
	some sub in subjects(a)
	sub in subjects(b)
	msg := sprintf("ci: roles %v and %v trust the same subject %v; give each its own GitHub environment", [a, b, sub])
}

deny contains msg if {
	some role
	r := input.resource.aws_iam_role[role]
	is_string(r.name)
	not r.permissions_boundary
	not github_role(r)
	not operator_role(r)
	msg := sprintf("ci: role %v has no permissions boundary; CI may only create roles under <org>-<env>-workload-boundary", [role])
}

# The operators' roles are human-deployed (cicd) and may revoke device
# certificates or sign with the offline root, which the boundary denies to
# every role CI creates.
operator_role(r) if endswith(r.name, "-device-revocation")

operator_role(r) if endswith(r.name, "-pki-ceremony")
# AWS Backup's service role is human-deployed (state, prod) and needs the
# AWS Backup managed policies, which no role CI creates may hold.
operator_role(r) if endswith(r.name, "-backup")

# The GitHub roles are deployed by a human and are out of CI's reach.
github_role(r) if {
	contains(r.name, "-gha-")
	not endswith(r.name, "-runner")
}
