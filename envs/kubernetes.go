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
	// EksAddons pins the EKS managed add-ons (vpc-cni, kube-proxy, coredns,
	// aws-ebs-csi-driver) to the builds for this minor, as
	// `aws eks describe-addon-versions --kubernetes-version <minor>` lists
	// them, so a re-plan never picks up a new add-on build by itself.
	EksAddons map[string]string
}

// KubernetesVersions are the values cluster.version accepts: the minors in
// EKS standard support for which every add-on the stacks install has a
// pinned image and every managed EKS add-on a pinned build. To upgrade,
// add the next minor here with its autoscaler tag and add-on builds, then
// change cluster.version one minor at a time.
var KubernetesVersions = map[string]KubernetesVersion{
	"1.35": {AutoscalerImageTag: "v1.35.2", EksAddons: map[string]string{
		"vpc-cni":            "v1.23.0-eksbuild.1",
		"kube-proxy":         "v1.35.3-eksbuild.18",
		"coredns":            "v1.14.3-eksbuild.3",
		"aws-ebs-csi-driver": "v1.60.0-eksbuild.1",
	}},
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
