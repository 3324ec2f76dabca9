package stacks

import (
	"github.com/aws/jsii-runtime-go"
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
	zone := b.publicZone()
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

	annotations := map[string]*string{}
	if webACL != nil {
		annotations["alb.ingress.kubernetes.io/wafv2-acl-arn"] = webACL
	}
	newALBEntry(b, albEntry{
		IngressID: "ingress", RecordID: "market-record", Name: "marketplace", Namespace: ns.Name,
		Host: host, ZoneID: zone, CertArn: certArn, HealthPath: "/readyz", RecordTTL: 300,
		Paths: []albPath{
			{Prefix: MarketplaceAPIPath, Service: jsii.String(backends[MarketplaceAPI])},
			{Prefix: "/", Service: jsii.String(backends[MarketplaceUI])},
		},
		Annotations: annotations, DependsOn: services,
	})
	return &marketplaceEntry{host: host, certArn: certArn, webACL: webACL}, nil
}
