package stacks

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/ingressv1"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/servicev1"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
)

// Names of the admin UI's entry point in edge-sync.
const (
	// BeaconsAdminIngress is the Ingress the load balancer controller turns
	// into the internal ALB.
	BeaconsAdminIngress = "beacons-admin"
	// BeaconsAdminBackend is the Service the Ingress routes to. It selects
	// the helm/beacons-admin release's pods by label, so it exists (and the
	// ALB can be built) before the chart is first installed.
	BeaconsAdminBackend = "beacons-admin-alb"
	// BeaconsAdminHealthPath is the ALB health check: the UI's readiness
	// path (helm/beacons-admin probes.readinessPath).
	BeaconsAdminHealthPath = "/readyz"
)

// beaconsAdminEntry is where the admin UI is reached.
type beaconsAdminEntry struct {
	host    string
	certArn *string
}

// newBeaconsAdminEntry puts the beacon registry's admin UI behind an
// internal ALB on cfg.ServiceHost("beacons-admin"): HTTPS only (TLS 1.2+,
// a DNS-validated ACM certificate), a Route53 CNAME to the ALB, built like
// the marketplace's entry (stacks/marketplace_entry.go) so Terraform can
// wait for the ALB's host name.
//
// The UI has no login of its own: its authentication is network
// reachability. The ALB is internal (private subnets, private addresses
// only, so the public DNS name resolves to nothing the internet can
// route to) and its security group admits only the VPC's CIDR on 443
// (inbound-cidrs; the controller's default for an internal ALB is
// 0.0.0.0/0, which would also admit any network later routed into the
// VPC). The pods behind it read the table through a read-only role, and
// the table holds no PII. allow-beacons-admin-alb admits the private
// subnets, where this ALB's nodes are, on the UI's port only.
func newBeaconsAdminEntry(b *base, ns *sp.Namespace, zone *string) (*beaconsAdminEntry, error) {
	host := b.cfg.ServiceHost(BeaconsAdminAccount)
	certArn, err := sp.NewDnsValidatedCertificate(b.stack, "beacons-admin-certificate", &sp.DnsValidatedCertificateProps{
		DomainName: host, ZoneID: zone, Provider: b.provider,
	})
	if err != nil {
		return nil, err
	}
	backend := servicev1.NewServiceV1(b.stack, jsii.String("beacons-admin-backend"), &servicev1.ServiceV1Config{
		Metadata: &servicev1.ServiceV1Metadata{Name: jsii.String(BeaconsAdminBackend), Namespace: ns.Name},
		Spec: &servicev1.ServiceV1Spec{
			Type: jsii.String("ClusterIP"),
			// The chart's selector labels; its release is named after the chart.
			Selector: &map[string]*string{
				"app.kubernetes.io/name": jsii.String(BeaconsAdminAccount), "app.kubernetes.io/instance": jsii.String(BeaconsAdminAccount),
			},
			Port: &[]*servicev1.ServiceV1SpecPort{{
				Name: jsii.String("http"), Port: jsii.Number(80), TargetPort: jsii.String("http"),
			}},
		},
	})
	annotations := map[string]*string{
		"alb.ingress.kubernetes.io/scheme":           jsii.String("internal"),
		"alb.ingress.kubernetes.io/target-type":      jsii.String("ip"),
		"alb.ingress.kubernetes.io/inbound-cidrs":    jsii.String(b.cfg.Network.VpcCidr),
		"alb.ingress.kubernetes.io/listen-ports":     jsii.String(`[{"HTTPS":443}]`),
		"alb.ingress.kubernetes.io/ssl-policy":       jsii.String("ELBSecurityPolicy-TLS13-1-2-2021-06"),
		"alb.ingress.kubernetes.io/certificate-arn":  certArn,
		"alb.ingress.kubernetes.io/healthcheck-path": jsii.String(BeaconsAdminHealthPath),
		"alb.ingress.kubernetes.io/load-balancer-attributes": jsii.String(
			"routing.http.drop_invalid_header_fields.enabled=true,deletion_protection.enabled=" + boolString(b.cfg.Protect())),
	}
	ingress := ingressv1.NewIngressV1(b.stack, jsii.String("beacons-admin-ingress"), &ingressv1.IngressV1Config{
		Metadata: &ingressv1.IngressV1Metadata{Name: jsii.String(BeaconsAdminIngress), Namespace: ns.Name, Annotations: &annotations},
		Spec: &ingressv1.IngressV1Spec{
			IngressClassName: jsii.String("alb"),
			Rule: &[]*ingressv1.IngressV1SpecRule{{
				Host: jsii.String(host),
				Http: &ingressv1.IngressV1SpecRuleHttp{Path: &[]*ingressv1.IngressV1SpecRuleHttpPath{{
					Path: jsii.String("/"), PathType: jsii.String("Prefix"),
					Backend: &ingressv1.IngressV1SpecRuleHttpPathBackend{Service: &ingressv1.IngressV1SpecRuleHttpPathBackendService{
						Name: backend.Metadata().Name(), Port: &ingressv1.IngressV1SpecRuleHttpPathBackendServicePort{Name: jsii.String("http")},
					}},
				}}},
			}},
		},
		WaitForLoadBalancer: jsii.Bool(true),
		DependsOn:           &[]cdktf.ITerraformDependable{backend},
	})
	albHost := ingress.Status().Get(jsii.Number(0)).LoadBalancer().Get(jsii.Number(0)).Ingress().Get(jsii.Number(0)).Hostname()
	route53record.NewRoute53Record(b.stack, jsii.String("beacons-admin-dns"), &route53record.Route53RecordConfig{
		ZoneId: zone, Name: jsii.String(host), Type: jsii.String("CNAME"), Ttl: jsii.Number(300),
		Records: &[]*string{albHost},
	})
	return &beaconsAdminEntry{host: host, certArn: certArn}, nil
}
