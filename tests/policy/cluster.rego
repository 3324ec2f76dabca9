# Zero-trust cluster: the VPC CNI enforces network policies; every namespace
# we create carries Pod Security labels and a default-deny ingress policy;
# every allow names its sources (or records why it cannot); telemetry
# backends that trust their callers sit behind policies; Grafana's sidecars
# read only their own namespace.
package spatialprops

import rego.v1

resources_of(type) := object.get(input, ["resource", type], {})

deny contains msg if {
	some name, a in resources_of("aws_eks_addon")
	a.addon_name == "vpc-cni"
	not network_policy_enabled(a)
	msg := sprintf("cluster: aws_eks_addon.%v (vpc-cni) does not set enableNetworkPolicy; NetworkPolicies would be ignored", [name])
}

network_policy_enabled(a) if json.unmarshal(a.configuration_values).enableNetworkPolicy == "true"

psa_levels := {"restricted", "baseline", "privileged"}

deny contains msg if {
	some name, ns in resources_of("kubernetes_namespace_v1")
	level := object.get(ns, ["metadata", "labels", "pod-security.kubernetes.io/enforce"], "")
	not level in psa_levels
	msg := sprintf("cluster: namespace %v has no Pod Security enforce label", [ns.metadata.name])
}

deny contains msg if {
	some name, ns in resources_of("kubernetes_namespace_v1")
	level := object.get(ns, ["metadata", "labels", "pod-security.kubernetes.io/enforce"], "")
	level in {"baseline", "privileged"}
	object.get(ns, ["metadata", "annotations", "spatial.properties/pod-security-reason"], "") == ""
	msg := sprintf("cluster: namespace %v enforces %v without a recorded reason", [ns.metadata.name, level])
}

default_deny_in(namespace) if {
	some p in resources_of("kubernetes_network_policy_v1")
	p.metadata.namespace == namespace
	count(object.get(p, ["spec", "pod_selector", "match_labels"], {})) == 0
	"Ingress" in p.spec.policy_types
	count(object.get(p, ["spec", "ingress"], [])) == 0
}

# A namespace given as a reference resolves to the namespace resource's name.
namespace_name(ns) := name if {
	startswith(ns, "${kubernetes_namespace_v1.")
	id := split(trim_prefix(ns, "${kubernetes_namespace_v1."), ".")[0]
	name := resources_of("kubernetes_namespace_v1")[id].metadata.name
}

namespace_name(ns) := ns if not startswith(ns, "${")

deny contains msg if {
	some name, ns in resources_of("kubernetes_namespace_v1")
	not default_deny_in(ns.metadata.name)
	msg := sprintf("cluster: namespace %v has no default-deny ingress NetworkPolicy", [ns.metadata.name])
}

deny contains msg if {
	some name, r in resources_of("helm_release")
	ns := namespace_name(r.namespace)
	ns != "kube-system"
	not default_deny_in(ns)
	msg := sprintf("cluster: helm_release.%v installs into %v, which has no default-deny ingress NetworkPolicy in this stack", [name, ns])
}

# kube-system belongs to EKS; what we install there must be isolated by a
# policy of its own.
deny contains msg if {
	some name, r in resources_of("helm_release")
	r.namespace == "kube-system"
	not policy_in("kube-system")
	msg := sprintf("cluster: helm_release.%v installs into kube-system without a NetworkPolicy isolating it", [name])
}

policy_in(namespace) if {
	some p in resources_of("kubernetes_network_policy_v1")
	p.metadata.namespace == namespace
}

deny contains msg if {
	some name, p in resources_of("kubernetes_network_policy_v1")
	some rule in object.get(p, ["spec", "ingress"], [])
	count(object.get(rule, "from", [])) == 0
	object.get(p, ["metadata", "annotations", "spatial.properties/any-source-reason"], "") == ""
	msg := sprintf("cluster: NetworkPolicy %v/%v admits any source without a recorded reason", [p.metadata.namespace, p.metadata.name])
}

deny contains msg if {
	some name, p in resources_of("kubernetes_network_policy_v1")
	some rule in object.get(p, ["spec", "ingress"], [])
	count(object.get(rule, "ports", [])) == 0
	msg := sprintf("cluster: NetworkPolicy %v/%v opens every port", [p.metadata.namespace, p.metadata.name])
}

deny contains msg if {
	some name, p in resources_of("kubernetes_network_policy_v1")
	some rule in object.get(p, ["spec", "ingress"], [])
	some peer in object.get(rule, "from", [])
	endswith(object.get(peer, ["ip_block", "cidr"], ""), "/0")
	msg := sprintf("cluster: NetworkPolicy %v/%v admits the whole internet", [p.metadata.namespace, p.metadata.name])
}

release_values(r) := values if {
	some doc in object.get(r, "values", [])
	values := yaml.unmarshal(doc)
}

deny contains msg if {
	some name, r in resources_of("helm_release")
	values := release_values(r)
	walk(values, [path, v])
	count(path) > 0
	path[count(path) - 1] == "searchNamespace"
	searches_all(v)
	msg := sprintf("cluster: helm_release.%v lets a sidecar read ConfigMaps from ALL namespaces (%v)", [name, concat(".", [sprintf("%v", [p]) | some p in path])])
}

searches_all(v) if v == "ALL"

searches_all(v) if {
	is_array(v)
	"ALL" in v
}

# Backends that trust every caller: acceptable only behind a policy that
# selects their pods.
trusting_backend(values) := "loki" if values.loki.auth_enabled == false

trusting_backend(values) := "prometheus" if values.prometheus.prometheusSpec.enableRemoteWriteReceiver == true

selected_by_policy(app) if {
	some p in resources_of("kubernetes_network_policy_v1")
	object.get(p, ["spec", "pod_selector", "match_labels", "app.kubernetes.io/name"], "") == app
	count(object.get(p, ["spec", "ingress", 0, "from"], [])) > 0
}

deny contains msg if {
	some name, r in resources_of("helm_release")
	app := trusting_backend(release_values(r))
	not selected_by_policy(app)
	msg := sprintf("cluster: helm_release.%v runs %v without authentication and no NetworkPolicy limits who reaches it", [name, app])
}
