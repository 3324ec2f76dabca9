# Cluster access: only through EKS access entries that are visible in code.
# The aws-auth ConfigMap is ignored (authentication mode API) and the
# identity that creates the cluster gets no hidden cluster-admin. CI reaches
# the API from runners inside the VPC, so prod's endpoint stays private and
# no endpoint is open to the internet. The runner projects sit in the VPC.
package spatialprops

import rego.v1

deny contains msg if {
	some name
	c := input.resource.aws_eks_cluster[name]
	object.get(c, ["access_config", "authentication_mode"], "CONFIG_MAP") != "API"
	msg := sprintf("cluster: %v must use authentication mode API (access entries only)", [name])
}

deny contains msg if {
	some name
	c := input.resource.aws_eks_cluster[name]
	# the provider's default is true, so leaving it out is the hidden admin
	object.get(c, ["access_config", "bootstrap_cluster_creator_admin_permissions"], true) != false
	msg := sprintf("cluster: %v gives its creator hidden cluster-admin; set bootstrap_cluster_creator_admin_permissions = false", [name])
}

deny contains msg if {
	startswith(stack_name, "prod-")
	some name
	input.resource.aws_eks_cluster[name].vpc_config.endpoint_public_access == true
	msg := sprintf("cluster: prod cluster %v has a public API endpoint; CI uses the in-VPC runners", [name])
}

deny contains msg if {
	some name
	c := input.resource.aws_eks_cluster[name]
	c.vpc_config.endpoint_public_access == true
	cidrs := object.get(c.vpc_config, "public_access_cidrs", ["0.0.0.0/0"])
	"0.0.0.0/0" in cidrs
	msg := sprintf("cluster: %v opens its API to the internet; list only the operator VPN CIDRs", [name])
}

deny contains msg if {
	some name
	p := input.resource.aws_codebuild_project[name]
	not p.vpc_config
	msg := sprintf("cluster: runner project %v is not in the VPC, so its jobs cannot reach the private API", [name])
}
