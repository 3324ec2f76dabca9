package stacks

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/ingressv1"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// albPath routes one path prefix of an ALB entry to a Service's "http" port.
type albPath struct {
	Prefix  string
	Service *string
}

// albEntry describes one HTTPS entry point the load balancer controller
// builds as an ALB (the marketplace storefront, the beacon admin UI, the
// CDN presigner). What they share is what makes an entry safe, so it lives
// here once: HTTPS 443 only with a TLS 1.2+ policy, IP targets, invalid
// header fields dropped, deletion protection wherever the env protects
// data, and a Route53 CNAME that Terraform writes only after it has waited
// for the ALB's host name.
type albEntry struct {
	// IngressID and RecordID are the construct ids (kept stable: renaming
	// one replaces the Ingress, and with it the ALB).
	IngressID, RecordID string
	Name                string
	Namespace           *string
	Host                string
	ZoneID              *string
	CertArn             *string
	// Internal builds an internal ALB; otherwise it is internet-facing.
	Internal    bool
	HealthPath  string
	Paths       []albPath
	RecordTTL   int
	Annotations map[string]*string // entry-specific additions (mTLS, WAF, inbound CIDRs)
	DependsOn   []cdktf.ITerraformDependable
}

// newALBEntry creates the Ingress and its DNS record.
func newALBEntry(b *base, e albEntry) ingressv1.IngressV1 {
	scheme := "internet-facing"
	if e.Internal {
		scheme = "internal"
	}
	annotations := map[string]*string{
		"alb.ingress.kubernetes.io/scheme":           jsii.String(scheme),
		"alb.ingress.kubernetes.io/target-type":      jsii.String("ip"),
		"alb.ingress.kubernetes.io/listen-ports":     jsii.String(`[{"HTTPS":443}]`),
		"alb.ingress.kubernetes.io/ssl-policy":       jsii.String("ELBSecurityPolicy-TLS13-1-2-2021-06"),
		"alb.ingress.kubernetes.io/certificate-arn":  e.CertArn,
		"alb.ingress.kubernetes.io/healthcheck-path": jsii.String(e.HealthPath),
		"alb.ingress.kubernetes.io/load-balancer-attributes": jsii.String(
			"routing.http.drop_invalid_header_fields.enabled=true,deletion_protection.enabled=" + boolString(b.cfg.Protect())),
	}
	for k, v := range e.Annotations {
		annotations[k] = v
	}
	var paths []*ingressv1.IngressV1SpecRuleHttpPath
	for _, p := range e.Paths {
		paths = append(paths, &ingressv1.IngressV1SpecRuleHttpPath{
			Path: jsii.String(p.Prefix), PathType: jsii.String("Prefix"),
			Backend: &ingressv1.IngressV1SpecRuleHttpPathBackend{Service: &ingressv1.IngressV1SpecRuleHttpPathBackendService{
				Name: p.Service, Port: &ingressv1.IngressV1SpecRuleHttpPathBackendServicePort{Name: jsii.String("http")},
			}},
		})
	}
	ingress := ingressv1.NewIngressV1(b.stack, jsii.String(e.IngressID), &ingressv1.IngressV1Config{
		Metadata: &ingressv1.IngressV1Metadata{Name: jsii.String(e.Name), Namespace: e.Namespace, Annotations: &annotations},
		Spec: &ingressv1.IngressV1Spec{
			IngressClassName: jsii.String("alb"),
			Rule: &[]*ingressv1.IngressV1SpecRule{{
				Host: jsii.String(e.Host),
				Http: &ingressv1.IngressV1SpecRuleHttp{Path: &paths},
			}},
		},
		WaitForLoadBalancer: jsii.Bool(true),
		DependsOn:           &e.DependsOn,
	})
	albHost := ingress.Status().Get(jsii.Number(0)).LoadBalancer().Get(jsii.Number(0)).Ingress().Get(jsii.Number(0)).Hostname()
	route53record.NewRoute53Record(b.stack, jsii.String(e.RecordID), &route53record.Route53RecordConfig{
		ZoneId: e.ZoneID, Name: jsii.String(e.Host), Type: jsii.String("CNAME"), Ttl: jsii.Number(e.RecordTTL),
		Records: &[]*string{albHost},
	})
	return ingress
}

func boolString(v bool) string {
	if v {
		return "true"
	}
	return "false"
}
