# Required tags on what AWS creates at run time, out of reach of provider
# default_tags: EC2 instances, their volumes and ENIs (launch template
# tag_specifications), the load balancers the AWS Load Balancer Controller
# creates (its defaultTags) and the EBS volumes behind PVCs (the EBS CSI
# driver's extraVolumeTags). These are the biggest line items of the bill.
package spatialprops

import rego.v1

launch_template_types := {"instance", "volume", "network-interface"}

deny contains msg if {
	some name
	lt := input.resource.aws_launch_template[name]
	some rtype in launch_template_types
	specs := [s | some s in object.get(lt, "tag_specifications", []); s.resource_type == rtype]
	count(specs) == 0
	msg := sprintf("tags: aws_launch_template.%v does not tag %v", [name, rtype])
}

deny contains msg if {
	some name
	lt := input.resource.aws_launch_template[name]
	some spec in object.get(lt, "tag_specifications", [])
	some key in required_tags
	object.get(spec, ["tags", key], "") == ""
	msg := sprintf("tags: aws_launch_template.%v tags %v without %v", [name, spec.resource_type, key])
}

deny contains msg if {
	some name
	r := input.resource.helm_release[name]
	r.chart == "aws-load-balancer-controller"
	values := yaml.unmarshal(object.get(r, ["values", 0], "{}"))
	some key in required_tags
	object.get(values, ["defaultTags", key], "") == ""
	msg := sprintf("tags: helm_release.%v (aws-load-balancer-controller) has no defaultTags.%v", [name, key])
}

deny contains msg if {
	some name
	a := input.resource.aws_eks_addon[name]
	a.addon_name == "aws-ebs-csi-driver"
	config := json.unmarshal(object.get(a, "configuration_values", "{}"))
	some key in required_tags
	object.get(config, ["controller", "extraVolumeTags", key], "") == ""
	msg := sprintf("tags: aws_eks_addon.%v (aws-ebs-csi-driver) has no controller.extraVolumeTags.%v", [name, key])
}
