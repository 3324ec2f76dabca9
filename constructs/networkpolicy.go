package constructs

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/networkpolicyv1"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// DefaultDenyPolicy is the name of the namespace-wide policy that isolates
// every pod for ingress; each allow is a separate, named policy beside it.
const DefaultDenyPolicy = "default-deny-ingress"

// NamespaceNameLabel is set on every namespace by the API server, so a
// policy can select a namespace by name without labelling it first.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// AnySourceReasonAnnotation records, on a policy that admits any source,
// why no selector can name it; the policy checks refuse such a policy
// without it.
const AnySourceReasonAnnotation = "spatial.properties/any-source-reason"

// AnyNamespace in Peer.Namespace matches pods in every namespace.
const AnyNamespace = "*"

// Peer is one source an allow admits. Set PodLabels, Namespace or both
// (pods with these labels in that namespace), or CIDR alone.
type Peer struct {
	// PodLabels select source pods; with Namespace empty they are looked
	// up in the policy's own namespace.
	PodLabels map[string]string
	// Namespace selects source namespaces by name; AnyNamespace for all.
	Namespace string
	// CIDR admits an address block, e.g. the public subnets that hold
	// internet-facing load balancers. Pod IPs come from the private
	// subnets, so never list those: it would admit every pod.
	CIDR string
}

// IngressAllow is one named exception to the default deny.
type IngressAllow struct {
	// Name becomes the policy name "allow-<name>".
	Name string
	// PodLabels select the pods this allow opens; nil means every pod in
	// the namespace.
	PodLabels map[string]string
	// Ports are the TCP ports opened; at least one.
	Ports []int
	// From lists the admitted sources. Empty admits any source on Ports,
	// which only admission webhooks need: the EKS API server reaches them
	// from ENIs in the same subnets as pods, so no selector can name it.
	// AnySourceReason must then say why.
	From            []Peer
	AnySourceReason string
}

// NetworkPoliciesProps configures the ingress policies of one namespace.
type NetworkPoliciesProps struct {
	Namespace string
	// DefaultDeny adds the namespace-wide deny. Leave it off only in a
	// namespace we do not own (kube-system), where each allow still
	// isolates the pods it selects.
	DefaultDeny bool
	Allows      []IngressAllow
	// DependsOn is usually the namespace resource.
	DependsOn []cdktf.ITerraformDependable
}

// NetworkPolicies are the policies created, by name.
type NetworkPolicies struct {
	Names []string
}

// NewNetworkPolicies creates a default-deny ingress policy for the
// namespace plus one policy per named allow. Policies only add: a pod
// selected by any policy accepts exactly the union of its allows.
func NewNetworkPolicies(scope constructs.Construct, id string, props *NetworkPoliciesProps) (*NetworkPolicies, error) {
	if err := props.validate(id); err != nil {
		return nil, err
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	out := &NetworkPolicies{}
	var deps *[]cdktf.ITerraformDependable
	if len(props.DependsOn) > 0 {
		d := append([]cdktf.ITerraformDependable(nil), props.DependsOn...)
		deps = &d
	}
	newPolicy := func(name, anySourceReason string, spec *networkpolicyv1.NetworkPolicyV1Spec) {
		meta := &networkpolicyv1.NetworkPolicyV1Metadata{
			Name: jsii.String(name), Namespace: jsii.String(props.Namespace),
			Labels: &map[string]*string{"app.kubernetes.io/managed-by": jsii.String("terraform")},
		}
		if anySourceReason != "" {
			meta.Annotations = &map[string]*string{AnySourceReasonAnnotation: jsii.String(anySourceReason)}
		}
		networkpolicyv1.NewNetworkPolicyV1(node, jsii.String(name), &networkpolicyv1.NetworkPolicyV1Config{
			Metadata:  meta,
			Spec:      spec,
			DependsOn: deps,
		})
		out.Names = append(out.Names, name)
	}
	if props.DefaultDeny {
		newPolicy(DefaultDenyPolicy, "", &networkpolicyv1.NetworkPolicyV1Spec{
			PodSelector: &networkpolicyv1.NetworkPolicyV1SpecPodSelector{},
			PolicyTypes: jsii.Strings("Ingress"),
		})
	}
	for _, a := range props.Allows {
		ports := make([]*networkpolicyv1.NetworkPolicyV1SpecIngressPorts, 0, len(a.Ports))
		for _, p := range a.Ports {
			ports = append(ports, &networkpolicyv1.NetworkPolicyV1SpecIngressPorts{
				Port: jsii.String(fmt.Sprint(p)), Protocol: jsii.String("TCP"),
			})
		}
		rule := &networkpolicyv1.NetworkPolicyV1SpecIngress{Ports: &ports}
		reason := a.AnySourceReason
		if len(a.From) > 0 {
			reason = ""
			from := make([]*networkpolicyv1.NetworkPolicyV1SpecIngressFrom, 0, len(a.From))
			for _, p := range a.From {
				from = append(from, p.render())
			}
			rule.From = &from
		}
		newPolicy("allow-"+a.Name, reason, &networkpolicyv1.NetworkPolicyV1Spec{
			PodSelector: &networkpolicyv1.NetworkPolicyV1SpecPodSelector{MatchLabels: StringMap(a.PodLabels)},
			PolicyTypes: jsii.Strings("Ingress"),
			Ingress:     &[]*networkpolicyv1.NetworkPolicyV1SpecIngress{rule},
		})
	}
	return out, nil
}

func (p Peer) render() *networkpolicyv1.NetworkPolicyV1SpecIngressFrom {
	if p.CIDR != "" {
		return &networkpolicyv1.NetworkPolicyV1SpecIngressFrom{
			IpBlock: &networkpolicyv1.NetworkPolicyV1SpecIngressFromIpBlock{Cidr: jsii.String(p.CIDR)},
		}
	}
	from := &networkpolicyv1.NetworkPolicyV1SpecIngressFrom{}
	if len(p.PodLabels) > 0 {
		from.PodSelector = &networkpolicyv1.NetworkPolicyV1SpecIngressFromPodSelector{MatchLabels: StringMap(p.PodLabels)}
	}
	switch p.Namespace {
	case "":
	case AnyNamespace:
		from.NamespaceSelector = &networkpolicyv1.NetworkPolicyV1SpecIngressFromNamespaceSelector{}
	default:
		from.NamespaceSelector = &networkpolicyv1.NetworkPolicyV1SpecIngressFromNamespaceSelector{
			MatchLabels: &map[string]*string{NamespaceNameLabel: jsii.String(p.Namespace)},
		}
	}
	return from
}

func (p *NetworkPoliciesProps) validate(id string) error {
	if p == nil || !k8sName.MatchString(p.Namespace) {
		return fmt.Errorf("%s: namespace must be a Kubernetes name", id)
	}
	if !p.DefaultDeny && len(p.Allows) == 0 {
		return fmt.Errorf("%s: neither defaultDeny nor allows: the namespace would stay open", id)
	}
	seen := map[string]bool{}
	for i, a := range p.Allows {
		field := fmt.Sprintf("%s: allows[%d] (%s)", id, i, a.Name)
		if !k8sName.MatchString(a.Name) || len(a.Name) > 57 {
			return fmt.Errorf("%s: name must be a Kubernetes name of at most 57 characters", field)
		}
		if seen[a.Name] {
			return fmt.Errorf("%s: name is used twice", field)
		}
		seen[a.Name] = true
		if len(a.Ports) == 0 {
			return fmt.Errorf("%s: list the ports it opens; an allow without ports opens every port", field)
		}
		for _, port := range a.Ports {
			if port < 1 || port > 65535 {
				return fmt.Errorf("%s: port %d is outside 1-65535", field, port)
			}
		}
		if len(a.From) == 0 && a.AnySourceReason == "" {
			return fmt.Errorf("%s: from is empty, which admits any source; name the sources or give anySourceReason", field)
		}
		for j, peer := range a.From {
			if err := peer.validate(); err != nil {
				return fmt.Errorf("%s: from[%d]: %w", field, j, err)
			}
		}
	}
	return nil
}

func (p Peer) validate() error {
	if p.CIDR != "" {
		if len(p.PodLabels) > 0 || p.Namespace != "" {
			return fmt.Errorf("cidr cannot be combined with pod or namespace selectors")
		}
		pre, err := netip.ParsePrefix(p.CIDR)
		if err != nil || pre != pre.Masked() {
			return fmt.Errorf("cidr %q is not a CIDR block", p.CIDR)
		}
		if pre.Bits() == 0 {
			return fmt.Errorf("cidr %s admits every address; name the sources instead", p.CIDR)
		}
		return nil
	}
	if len(p.PodLabels) == 0 && p.Namespace == "" {
		return fmt.Errorf("empty peer; set podLabels, namespace or cidr")
	}
	if p.Namespace == AnyNamespace && len(p.PodLabels) == 0 {
		return fmt.Errorf("namespace %q without podLabels admits every pod; name the pods", AnyNamespace)
	}
	if p.Namespace != "" && p.Namespace != AnyNamespace && !k8sName.MatchString(p.Namespace) {
		return fmt.Errorf("namespace %q is not a Kubernetes name", p.Namespace)
	}
	keys := make([]string, 0, len(p.PodLabels))
	for k := range p.PodLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if p.PodLabels[k] == "" {
			return fmt.Errorf("podLabels[%s] is empty", k)
		}
	}
	return nil
}
