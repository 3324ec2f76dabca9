package stacks

import (
	"fmt"
	"sort"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/manifest"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/servicev1"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// NATS security names in namespace edge-sync.
const (
	// NATSServerTLSSecret holds the server certificate, key and the
	// private CA bundle (ca.crt), written by cert-manager.
	NATSServerTLSSecret = "nats-server-tls"
	// NATSAgentsService is the internet-facing NLB Service agents reach.
	NATSAgentsService = "nats-agents"
	// CertManagerAPI is cert-manager's Certificate API version.
	CertManagerAPI = "cert-manager.io/v1"
	// Certificate lifetimes: 30 days, renewed with 10 days left (one third),
	// so rotation needs no human and a failed renewal has 10 days to be seen.
	NATSCertDuration    = "720h"
	NATSCertRenewBefore = "240h"
)

// NATSOCSPCacheDir is on the JetStream volume (the chart mounts it at
// /data): the root filesystem is read-only.
const NATSOCSPCacheDir = "/data/ocsp-cache"

// NATSUserSecret is the Secret cert-manager writes a service user's client
// certificate to.
func NATSUserSecret(user string) string { return "nats-user-" + user }

// natsServerDNSNames: the in-cluster service names and the public agent
// host, so the one certificate serves both.
func natsServerDNSNames(publicHost string) []string {
	svc := NATSRelease + "." + naming.NamespaceEdge
	return []string{NATSRelease, svc, svc + ".svc", svc + ".svc.cluster.local", publicHost}
}

// addNATSSecurity turns on the client TLS listener (the chart mounts
// nats-server-tls and sets cert_file/key_file/ca_file; we merge
// verify_and_map and ocsp_peer from edge.ClientTLS) and merges the
// accounts from edge.Authorization into the chart's config. The same Go
// functions build the config edge/natstest runs a real server with.
func addNATSSecurity(values map[string]any, cfg *envs.Config) error {
	opts := natsSecurityOptions(cfg)
	if opts.Leaf != nil {
		addP2PMounts(values)
	}
	auth, err := edge.Authorization(opts)
	if err != nil {
		return err
	}
	config := values["config"].(map[string]any)
	config["nats"] = map[string]any{"tls": map[string]any{
		"enabled": true, "secretName": NATSServerTLSSecret, "merge": edge.ClientTLS(edge.TLSFiles{}),
	}}
	merge := config["merge"].(map[string]any)
	for k, v := range auth {
		merge[k] = v
	}
	merge["ocsp_cache"] = edge.OCSPCache(NATSOCSPCacheDir)
	values["tlsCA"] = map[string]any{"enabled": true, "secretName": NATSServerTLSSecret, "key": "ca.crt"}
	return nil
}

// certificate is a cert-manager Certificate issued by the private CA
// through the AWSPCAClusterIssuer (stacks/edge_identity.go).
func certificate(name, secret string, spec map[string]any) map[string]any {
	spec["secretName"] = secret
	spec["duration"] = NATSCertDuration
	spec["renewBefore"] = NATSCertRenewBefore
	spec["privateKey"] = map[string]any{"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
	spec["issuerRef"] = map[string]any{
		"name": naming.ClusterIssuerPrivateCA, "kind": "AWSPCAClusterIssuer", "group": "awspca.cert-manager.io",
	}
	return map[string]any{
		"apiVersion": CertManagerAPI, "kind": "Certificate",
		"metadata": map[string]any{"name": name, "namespace": naming.NamespaceEdge},
		"spec":     spec,
	}
}

// newNATSCertificates issues the server certificate and one client
// certificate per service user. Service users authenticate with these
// (URI SAN edge.NATSUserURISANPrefix+user, mapped by verify_and_map), so
// no password or nkey seed exists anywhere: the private keys are made by
// cert-manager in the cluster and never reach Terraform state.
func newNATSCertificates(b *base, after []cdktf.ITerraformDependable) []cdktf.ITerraformDependable {
	obj := func(id string, m map[string]any) manifest.Manifest {
		return manifest.NewManifest(b.stack, jsii.String(id), &manifest.ManifestConfig{Manifest: &m, DependsOn: &after})
	}
	var out []cdktf.ITerraformDependable
	out = append(out, obj("nats-server-certificate", certificate(NATSServerTLSSecret, NATSServerTLSSecret, map[string]any{
		"commonName": NATSRelease + "." + naming.NamespaceEdge + ".svc",
		"dnsNames":   natsServerDNSNames(b.cfg.ServiceHost("edge")),
		"usages":     []string{"server auth", "digital signature", "key encipherment"},
	})))
	for _, u := range edge.ServiceUsers() {
		out = append(out, obj("nats-user-certificate-"+u, certificate(NATSUserSecret(u), NATSUserSecret(u), map[string]any{
			"commonName": u,
			"uris":       []string{edge.ServiceUserName(u)},
			"usages":     []string{"client auth", "digital signature"},
		})))
	}
	p2p := p2pBridgeObjects(b.cfg, b.names)
	ids := make([]string, 0, len(p2p))
	for id := range p2p {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		out = append(out, obj(id, p2p[id]))
	}
	return out
}

// newNATSAgentsEndpoint exposes the TLS client port to agents through an
// internet-facing NLB made by the AWS Load Balancer Controller: TCP
// passthrough (no TLS listener on the NLB), so TLS and the client
// certificate check end at NATS; IP targets, so the pods see the agent's
// address. The DNS record follows the NLB: Terraform waits for the
// Service's load-balancer hostname and writes it as a CNAME, so a
// recreated NLB updates the record on the next apply.
func newNATSAgentsEndpoint(b *base, after cdktf.ITerraformDependable, zone *string) string {
	host := b.cfg.ServiceHost("edge")
	svc := servicev1.NewServiceV1(b.stack, jsii.String("nats-agents"), &servicev1.ServiceV1Config{
		Metadata: &servicev1.ServiceV1Metadata{
			Name: jsii.String(NATSAgentsService), Namespace: jsii.String(naming.NamespaceEdge),
			Annotations: &map[string]*string{
				"service.beta.kubernetes.io/aws-load-balancer-type":             jsii.String("external"),
				"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type":  jsii.String("ip"),
				"service.beta.kubernetes.io/aws-load-balancer-scheme":           jsii.String("internet-facing"),
				"service.beta.kubernetes.io/aws-load-balancer-backend-protocol": jsii.String("tcp"),
			},
		},
		Spec: &servicev1.ServiceV1Spec{
			Type:     jsii.String("LoadBalancer"),
			Selector: &map[string]*string{"app.kubernetes.io/name": jsii.String("nats"), "app.kubernetes.io/instance": jsii.String(NATSRelease)},
			Port: &[]*servicev1.ServiceV1SpecPort{{
				Name: jsii.String("nats-tls"), Port: jsii.Number(NATSClientPort), TargetPort: jsii.String(fmt.Sprint(NATSClientPort)), Protocol: jsii.String("TCP"),
			}},
		},
		WaitForLoadBalancer: jsii.Bool(true),
		DependsOn:           &[]cdktf.ITerraformDependable{after},
	})
	route53record.NewRoute53Record(b.stack, jsii.String("nats-agents-dns"), &route53record.Route53RecordConfig{
		ZoneId: zone, Name: jsii.String(host), Type: jsii.String("CNAME"), Ttl: jsii.Number(60),
		Records: &[]*string{svc.Status().Get(jsii.Number(0)).LoadBalancer().Get(jsii.Number(0)).Ingress().Get(jsii.Number(0)).Hostname()},
	})
	return fmt.Sprintf("tls://%s:%d", host, NATSClientPort)
}
