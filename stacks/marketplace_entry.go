package stacks

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/ingressv1"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/servicev1"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
)

// MarketplaceAPIPath is routed to marketplace-api; everything else to the ui.
const MarketplaceAPIPath = "/api"

type marketplaceEntry struct {
	host    string
	certArn *string
	webACL  *string
}

// newMarketplaceEntry is the public entry point: an internet-facing ALB
// Ingress on cfg.ServiceHost("market") with a DNS-validated ACM
// certificate, TLS 1.2+ only, a regional web ACL where WAF is on, and a
// Route53 record to the ALB.
//
// The Ingress and the two Services it routes to live in this stack, not
// in the charts: Terraform waits for the ALB's host name to write the DNS
// record, and the load balancer controller builds the ALB only once its
// backend Services exist. The Services select the charts' pods by label,
// so they route to whatever image the deploy workflows roll out.
func newMarketplaceEntry(b *base, ns *sp.Namespace) (*marketplaceEntry, error) {
	host := b.cfg.ServiceHost("market")
	zone := marketplaceZone(b)
	certArn, err := sp.NewDnsValidatedCertificate(b.stack, "certificate", &sp.DnsValidatedCertificateProps{
		DomainName: host, ZoneID: zone, Provider: b.provider,
	})
	if err != nil {
		return nil, err
	}
	var webACL *string
	if b.cfg.Marketplace.WAFOn() {
		if webACL, err = sp.NewCdnWebACL(b.stack, "waf", &sp.CdnWebACLProps{
			Name: b.names.Prefix() + "-market", RateLimitPer5Min: b.cfg.CDN.RateLimitPer5Min, Provider: b.provider,
			LogRetentionDays: b.cfg.CDN.WafLogRetentionDays, Protect: b.cfg.Protect(),
			Regional: true, Region: b.cfg.Region,
		}); err != nil {
			return nil, err
		}
	}

	backends := map[string]string{MarketplaceAPI: MarketplaceAPI + "-public", MarketplaceUI: MarketplaceUI + "-public"}
	var services []cdktf.ITerraformDependable
	for _, app := range []string{MarketplaceAPI, MarketplaceUI} {
		svc := servicev1.NewServiceV1(b.stack, jsii.String(app+"-public"), &servicev1.ServiceV1Config{
			Metadata: &servicev1.ServiceV1Metadata{Name: jsii.String(backends[app]), Namespace: ns.Name},
			Spec: &servicev1.ServiceV1Spec{
				Type:     jsii.String("ClusterIP"),
				Selector: &map[string]*string{"app.kubernetes.io/name": jsii.String(app), "app.kubernetes.io/instance": jsii.String(app)},
				Port: &[]*servicev1.ServiceV1SpecPort{{
					Name: jsii.String("http"), Port: jsii.Number(80), TargetPort: jsii.String("http"),
				}},
			},
		})
		services = append(services, svc)
	}

	annotations := map[string]*string{
		"alb.ingress.kubernetes.io/scheme":           jsii.String("internet-facing"),
		"alb.ingress.kubernetes.io/target-type":      jsii.String("ip"),
		"alb.ingress.kubernetes.io/listen-ports":     jsii.String(`[{"HTTPS":443}]`),
		"alb.ingress.kubernetes.io/ssl-policy":       jsii.String("ELBSecurityPolicy-TLS13-1-2-2021-06"),
		"alb.ingress.kubernetes.io/certificate-arn":  certArn,
		"alb.ingress.kubernetes.io/healthcheck-path": jsii.String("/readyz"),
		"alb.ingress.kubernetes.io/load-balancer-attributes": jsii.String(
			"routing.http.drop_invalid_header_fields.enabled=true,deletion_protection.enabled=" + boolString(b.cfg.Protect())),
	}
	if webACL != nil {
		annotations["alb.ingress.kubernetes.io/wafv2-acl-arn"] = webACL
	}
	path := func(p, app string) *ingressv1.IngressV1SpecRuleHttpPath {
		return &ingressv1.IngressV1SpecRuleHttpPath{
			Path: jsii.String(p), PathType: jsii.String("Prefix"),
			Backend: &ingressv1.IngressV1SpecRuleHttpPathBackend{Service: &ingressv1.IngressV1SpecRuleHttpPathBackendService{
				Name: jsii.String(backends[app]), Port: &ingressv1.IngressV1SpecRuleHttpPathBackendServicePort{Name: jsii.String("http")},
			}},
		}
	}
	ingress := ingressv1.NewIngressV1(b.stack, jsii.String("ingress"), &ingressv1.IngressV1Config{
		Metadata: &ingressv1.IngressV1Metadata{Name: jsii.String("marketplace"), Namespace: ns.Name, Annotations: &annotations},
		Spec: &ingressv1.IngressV1Spec{
			IngressClassName: jsii.String("alb"),
			Rule: &[]*ingressv1.IngressV1SpecRule{{
				Host: jsii.String(host),
				Http: &ingressv1.IngressV1SpecRuleHttp{Path: &[]*ingressv1.IngressV1SpecRuleHttpPath{
					path(MarketplaceAPIPath, MarketplaceAPI), path("/", MarketplaceUI),
				}},
			}},
		},
		WaitForLoadBalancer: jsii.Bool(true),
		DependsOn:           &services,
	})
	albHost := ingress.Status().Get(jsii.Number(0)).LoadBalancer().Get(jsii.Number(0)).Ingress().Get(jsii.Number(0)).Hostname()
	route53record.NewRoute53Record(b.stack, jsii.String("market-record"), &route53record.Route53RecordConfig{
		ZoneId: zone, Name: jsii.String(host), Type: jsii.String("CNAME"), Ttl: jsii.Number(300),
		Records: &[]*string{albHost},
	})
	return &marketplaceEntry{host: host, certArn: certArn, webACL: webACL}, nil
}

func boolString(v bool) string {
	if v {
		return "true"
	}
	return "false"
}
