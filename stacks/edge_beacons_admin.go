package stacks

import (
	"github.com/aws/jsii-runtime-go"
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
// a DNS-validated ACM certificate), a Route53 CNAME to the ALB: an
// albEntry (stacks/alb_entry.go), like the storefront and the presigner.
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
	newALBEntry(b, albEntry{
		IngressID: "beacons-admin-ingress", RecordID: "beacons-admin-dns", Name: BeaconsAdminIngress, Namespace: ns.Name,
		Host: host, ZoneID: zone, CertArn: certArn, Internal: true, HealthPath: BeaconsAdminHealthPath, RecordTTL: 300,
		Paths: []albPath{{Prefix: "/", Service: backend.Metadata().Name()}},
		// the controller's default for an internal ALB is 0.0.0.0/0
		Annotations: map[string]*string{"alb.ingress.kubernetes.io/inbound-cidrs": jsii.String(b.cfg.Network.VpcCidr)},
		DependsOn:   []cdktf.ITerraformDependable{backend},
	})
	return &beaconsAdminEntry{host: host, certArn: certArn}, nil
}
