package constructs

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	k8s "github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// newK8sTestStack is newTestStack plus a kubernetes provider.
func newK8sTestStack(t *testing.T) cdktf.TerraformStack {
	t.Helper()
	stack := newTestStack(t)
	k8s.NewKubernetesProvider(stack, jsii.String("kubernetes"), &k8s.KubernetesProviderConfig{})
	return stack
}

func policyByName(t *testing.T, doc gjson.Result, name string) gjson.Result {
	t.Helper()
	for _, p := range resources(doc, "kubernetes_network_policy_v1") {
		if p.Get("metadata.name").String() == name {
			return p
		}
	}
	t.Fatalf("no network policy %s", name)
	return gjson.Result{}
}

func TestNetworkPoliciesDenyByDefaultAndAllowByName(t *testing.T) {
	// GIVEN a namespace with one allow from pods of another namespace
	// and one from a CIDR
	stack := newK8sTestStack(t)
	_, err := NewNetworkPolicies(stack, "np", &NetworkPoliciesProps{
		Namespace: "observability", DefaultDeny: true,
		Allows: []IngressAllow{
			{Name: "loki-push", PodLabels: map[string]string{"app.kubernetes.io/name": "loki"}, Ports: []int{3100},
				From: []Peer{{Namespace: "edge-sync", PodLabels: map[string]string{"app": "gw"}}}},
			{Name: "alb", Ports: []int{8080}, From: []Peer{{CIDR: "10.0.101.0/24"}}},
		},
	})
	require.NoError(t, err)
	doc := synth(t, stack)

	// THEN every pod is isolated for ingress: empty selector, no rules
	deny := policyByName(t, doc, DefaultDenyPolicy)
	assert.Equal(t, []string{"Ingress"}, strs(deny.Get("spec.policy_types")))
	assert.False(t, deny.Get("spec.ingress").Exists(), "a deny policy must carry no ingress rule")
	assert.False(t, deny.Get("spec.pod_selector.match_labels").Exists(), "the deny must select every pod")

	// AND the allow admits only the named pods of the named namespace on
	// the named port (namespace AND pod selector in one peer)
	loki := policyByName(t, doc, "allow-loki-push")
	assert.Equal(t, "loki", loki.Get(`spec.pod_selector.match_labels.app\.kubernetes\.io/name`).String())
	from := loki.Get("spec.ingress.0.from.0")
	assert.Equal(t, "edge-sync", from.Get(`namespace_selector.match_labels.kubernetes\.io/metadata\.name`).String())
	assert.Equal(t, "gw", from.Get("pod_selector.match_labels.app").String())
	assert.Equal(t, "3100", loki.Get("spec.ingress.0.ports.0.port").String())
	assert.Equal(t, "TCP", loki.Get("spec.ingress.0.ports.0.protocol").String())

	alb := policyByName(t, doc, "allow-alb")
	assert.Equal(t, "10.0.101.0/24", alb.Get("spec.ingress.0.from.0.ip_block.cidr").String())
}

func TestNetworkPoliciesAnySourceNeedsAReason(t *testing.T) {
	stack := newK8sTestStack(t)
	_, err := NewNetworkPolicies(stack, "np", &NetworkPoliciesProps{
		Namespace: "aws-lbc", DefaultDeny: true,
		Allows: []IngressAllow{{Name: "webhook", Ports: []int{9443}, AnySourceReason: "API server"}},
	})
	require.NoError(t, err)
	p := policyByName(t, synth(t, stack), "allow-webhook")
	assert.False(t, p.Get("spec.ingress.0.from").Exists(), "no from = any source, on the listed port only")
	assert.Equal(t, "9443", p.Get("spec.ingress.0.ports.0.port").String())
}

func TestNetworkPoliciesRejectOpenings(t *testing.T) {
	cases := map[string]struct {
		props NetworkPoliciesProps
		want  string
	}{
		"nothing at all": {NetworkPoliciesProps{Namespace: "x"}, "np: neither defaultDeny nor allows: the namespace would stay open"},
		"any source without reason": {NetworkPoliciesProps{Namespace: "x", Allows: []IngressAllow{{Name: "a", Ports: []int{1}}}},
			"np: allows[0] (a): from is empty, which admits any source; name the sources or give anySourceReason"},
		"no ports": {NetworkPoliciesProps{Namespace: "x", Allows: []IngressAllow{{Name: "a", From: []Peer{{Namespace: "y"}}}}},
			"np: allows[0] (a): list the ports it opens; an allow without ports opens every port"},
		"world cidr": {NetworkPoliciesProps{Namespace: "x", Allows: []IngressAllow{{Name: "a", Ports: []int{80}, From: []Peer{{CIDR: "0.0.0.0/0"}}}}},
			"np: allows[0] (a): from[0]: cidr 0.0.0.0/0 admits every address; name the sources instead"},
		"every pod everywhere": {NetworkPoliciesProps{Namespace: "x", Allows: []IngressAllow{{Name: "a", Ports: []int{80}, From: []Peer{{Namespace: AnyNamespace}}}}},
			`np: allows[0] (a): from[0]: namespace "*" without podLabels admits every pod; name the pods`},
		"duplicate": {NetworkPoliciesProps{Namespace: "x", Allows: []IngressAllow{
			{Name: "a", Ports: []int{80}, From: []Peer{{Namespace: "y"}}}, {Name: "a", Ports: []int{81}, From: []Peer{{Namespace: "y"}}}}},
			"np: allows[1] (a): name is used twice"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := NewNetworkPolicies(newK8sTestStack(t), "np", &tc.props)
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestNamespaceCarriesPodSecurityAndDefaultDeny(t *testing.T) {
	stack := newK8sTestStack(t)
	_, err := NewNamespace(stack, "ns", &NamespaceProps{Name: "observability"})
	require.NoError(t, err)
	doc := synth(t, stack)
	ns := one(t, doc, "kubernetes_namespace_v1")
	labels := ns.Get("metadata.labels")
	// restricted is the default and audit/warn always report against it
	for _, mode := range []string{"enforce", "audit", "warn"} {
		assert.Equal(t, PodSecurityRestricted, labels.Get(`pod-security\.kubernetes\.io/`+mode).String(), mode)
	}
	deny := policyByName(t, doc, DefaultDenyPolicy)
	assert.Equal(t, "observability", deny.Get("metadata.namespace").String())
	assert.Contains(t, deny.Get("depends_on").String(), "kubernetes_namespace_v1.", "the policy needs its namespace first")
}

func TestNamespaceBelowRestrictedNeedsAReason(t *testing.T) {
	_, err := NewNamespace(newK8sTestStack(t), "ns", &NamespaceProps{Name: "node-exporter", PodSecurity: PodSecurityPrivileged})
	require.EqualError(t, err, `ns: podSecurity "privileged" needs podSecurityReason naming the workload that cannot run restricted`)

	stack := newK8sTestStack(t)
	_, err = NewNamespace(stack, "ns", &NamespaceProps{Name: "node-exporter", PodSecurity: PodSecurityPrivileged, PodSecurityReason: "hostPID"})
	require.NoError(t, err)
	ns := one(t, synth(t, stack), "kubernetes_namespace_v1")
	assert.Equal(t, "privileged", ns.Get(`metadata.labels.pod-security\.kubernetes\.io/enforce`).String())
	assert.Equal(t, "hostPID", ns.Get(`metadata.annotations.spatial\.properties/pod-security-reason`).String())
}
