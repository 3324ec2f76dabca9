package constructs

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/namespacev1"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// Pod Security Admission levels.
const (
	PodSecurityRestricted = "restricted"
	PodSecurityBaseline   = "baseline"
	PodSecurityPrivileged = "privileged"
)

// NamespaceProps configures a namespace we own.
type NamespaceProps struct {
	Name string
	// PodSecurity is the enforced Pod Security level. Default: restricted.
	PodSecurity string
	// PodSecurityReason must say which workload needs a level below
	// restricted, and why; it is written to the namespace as an annotation.
	PodSecurityReason string
	// Policies, when set, are the namespace's network policies; a
	// default deny is always added.
	Policies []IngressAllow
}

// Namespace is the created namespace.
type Namespace struct {
	Resource namespacev1.NamespaceV1
	Name     *string
}

// PodSecurityReasonAnnotation carries the reason a namespace is below
// restricted, so `kubectl get ns -o yaml` answers the question.
const PodSecurityReasonAnnotation = "spatial.properties/pod-security-reason"

// NewNamespace creates the namespace with Pod Security Admission labels:
// the enforced level, and audit + warn at restricted everywhere, so even a
// baseline namespace reports what keeps it from restricted. It also
// creates the default-deny ingress policy and the named allows.
func NewNamespace(scope constructs.Construct, id string, props *NamespaceProps) (*Namespace, error) {
	if props == nil || !k8sName.MatchString(props.Name) {
		return nil, fmt.Errorf("%s: name must be a Kubernetes name", id)
	}
	level := props.PodSecurity
	if level == "" {
		level = PodSecurityRestricted
	}
	switch level {
	case PodSecurityRestricted:
	case PodSecurityBaseline, PodSecurityPrivileged:
		if props.PodSecurityReason == "" {
			return nil, fmt.Errorf("%s: podSecurity %q needs podSecurityReason naming the workload that cannot run restricted", id, level)
		}
	default:
		return nil, fmt.Errorf("%s: podSecurity %q must be restricted, baseline or privileged", id, level)
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	meta := &namespacev1.NamespaceV1Metadata{
		Name: jsii.String(props.Name),
		Labels: StringMap(map[string]string{
			"app.kubernetes.io/managed-by":               "terraform",
			"pod-security.kubernetes.io/enforce":         level,
			"pod-security.kubernetes.io/enforce-version": "latest",
			"pod-security.kubernetes.io/audit":           PodSecurityRestricted,
			"pod-security.kubernetes.io/warn":            PodSecurityRestricted,
		}),
	}
	if props.PodSecurityReason != "" {
		meta.Annotations = StringMap(map[string]string{PodSecurityReasonAnnotation: props.PodSecurityReason})
	}
	ns := namespacev1.NewNamespaceV1(node, jsii.String("namespace"), &namespacev1.NamespaceV1Config{Metadata: meta})
	if _, err := NewNetworkPolicies(node, "network-policies", &NetworkPoliciesProps{
		Namespace: props.Name, DefaultDeny: true, Allows: props.Policies,
		DependsOn: []cdktf.ITerraformDependable{ns},
	}); err != nil {
		return nil, err
	}
	return &Namespace{Resource: ns, Name: ns.Metadata().Name()}, nil
}
