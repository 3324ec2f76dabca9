package envs

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// KubernetesVersion is one Kubernetes minor EKS runs that this repository
// supports, with the add-on images pinned for it.
type KubernetesVersion struct {
	// AutoscalerImageTag is the cluster-autoscaler release built for this
	// minor; upstream supports only matching minors.
	AutoscalerImageTag string
}

// KubernetesVersions are the values cluster.version accepts: the minors in
// EKS standard support for which every add-on the stacks install has a
// pinned image. The managed EKS add-ons (vpc-cni, kube-proxy, coredns,
// EBS CSI) follow the cluster version by themselves.
var KubernetesVersions = map[string]KubernetesVersion{
	"1.33": {AutoscalerImageTag: "v1.33.6"},
	"1.34": {AutoscalerImageTag: "v1.34.5"},
	"1.35": {AutoscalerImageTag: "v1.35.2"},
}

// SupportedKubernetesVersions lists KubernetesVersions' keys, oldest first.
func SupportedKubernetesVersions() []string {
	out := make([]string, 0, len(KubernetesVersions))
	for v := range KubernetesVersions {
		out = append(out, v)
	}
	minor := func(v string) int {
		_, m, _ := strings.Cut(v, ".")
		n, _ := strconv.Atoi(m)
		return n
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Compare(minor(a), minor(b)) })
	return out
}

func validateKubernetesVersion(p *problems, v string) {
	if _, ok := KubernetesVersions[v]; ok {
		return
	}
	supported := SupportedKubernetesVersions()
	newest := supported[len(supported)-1]
	p.add("cluster.version", "%q is not a supported Kubernetes version; EKS clusters here run %s: use %s (the newest), or leave the key out for the default %s",
		v, strings.Join(supported, ", "), newest, DefaultKubernetesVersion)
}
