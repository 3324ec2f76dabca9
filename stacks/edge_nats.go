package stacks

import (
	"fmt"
	"sort"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/manifest"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/servicev1"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// NATS security names. The servers, their certificates, the system and
// stream-admin credentials and the auth callout live in edge-nats, which
// only the infra stacks manage; the app users' certificates in edge-sync.
const (
	// NATSServerTLSSecret holds the server certificate (service CA) for the
	// client port and the agents' listener.
	NATSServerTLSSecret = "nats-server-tls"
	// NATSRouteTLSSecret holds the route certificate (service CA, URI SAN
	// edge.RouteURISAN, client and server auth): clustered envs only.
	NATSRouteTLSSecret = "nats-route-tls"
	// NATSAgentsService is the internet-facing NLB Service agents reach.
	NATSAgentsService = "nats-agents"
	// NATSAgentsPort is the agents' (websocket, device CA) listener in the
	// pod; the NLB forwards NATSAgentsPublicPort to it.
	NATSAgentsPort       = 8443
	NATSAgentsPublicPort = 443
	// CertManagerAPI is cert-manager's Certificate API version.
	CertManagerAPI = "cert-manager.io/v1"
	// In-cluster certificates come from the service CA, which runs in
	// short-lived mode (7 days at most): 6 days, renewed with 2 left (one
	// third), so a failed renewal has two days to be seen.
	ServiceCertDuration    = "144h"
	ServiceCertRenewBefore = "48h"
	// NATSCADir is where the chart mounts the trust anchors (tlsCA).
	NATSCADir = "/etc/nats-ca-cert"
	// NATSAuthIssuerEnv carries the auth callout's account public key into
	// the server config (chart raw value "<< $NATS_AUTH_ISSUER >>").
	NATSAuthIssuerEnv = "NATS_AUTH_ISSUER"
)

// NATSOCSPCacheDir is on the JetStream volume (the chart mounts it at
// /data): the root filesystem is read-only.
const NATSOCSPCacheDir = "/data/ocsp-cache"

// NATSUserSecret is the Secret cert-manager writes a service user's client
// certificate to.
func NATSUserSecret(user string) string { return "nats-user-" + user }

// NATSUserNamespace is where a service user's certificate lives: the app
// users' next to their workloads in edge-sync, the privileged ones (system,
// stream-admin, the callout) in edge-nats.
func NATSUserNamespace(user string) string {
	for _, u := range edge.AppUsers {
		if u == user {
			return naming.NamespaceEdge
		}
	}
	return naming.NamespaceNATS
}

// NATSURL is the in-cluster client URL (service CA certificates only).
func NATSURL() string {
	return fmt.Sprintf("tls://%s.%s.svc:%d", NATSRelease, naming.NamespaceNATS, NATSClientPort)
}

// natsServerDNSNames: the in-cluster service names and the public agent
// host, so the one certificate serves both listeners.
func natsServerDNSNames(publicHost string) []string {
	svc := NATSRelease + "." + naming.NamespaceNATS
	return []string{NATSRelease, svc, svc + ".svc", svc + ".svc.cluster.local", publicHost}
}

// natsRouteDNSNames: the chart dials routes at <pod>.nats-headless.
func natsRouteDNSNames() []string {
	headless := NATSRelease + "-headless"
	return []string{"*." + headless, "*." + headless + "." + naming.NamespaceNATS + ".svc.cluster.local"}
}

// addNATSSecurity configures the three listeners and the accounts:
//
//   - client port 4222: TLS, client certificates verified against the
//     service CA only, mapped by URI SAN to the one static user (the auth
//     callout); everyone else goes to the callout;
//   - the agents' websocket listener (NATSAgentsPort, behind the NLB): TLS,
//     client certificates verified against the device CA only, with OCSP;
//   - routes (clustered envs): mutual TLS against the service CA, admitted
//     only for the route identity (edge.RouteAuthorization).
//
// The blocks come from package edge, the same functions edge/natstest
// starts a real server from.
func addNATSSecurity(values map[string]any, cfg *envs.Config, clustered bool) error {
	opts := natsSecurityOptions(cfg)
	if opts.Leaf != nil {
		addP2PMounts(values)
	}
	auth, err := edge.Authorization(opts)
	if err != nil {
		return err
	}
	config := values["config"].(map[string]any)
	serviceCA := edge.TLSFiles{CAFile: NATSCADir + "/" + ServiceCAAnchorKey}
	deviceCA := edge.TLSFiles{CAFile: NATSCADir + "/" + DeviceCAAnchorKey}
	config["nats"] = map[string]any{"tls": map[string]any{
		"enabled": true, "secretName": NATSServerTLSSecret, "merge": edge.ClientTLS(serviceCA),
	}}
	config["websocket"] = map[string]any{
		"enabled": true, "port": NATSAgentsPort,
		"tls":   map[string]any{"enabled": true, "secretName": NATSServerTLSSecret, "merge": edge.AgentsTLS(deviceCA)},
		"merge": map[string]any{"compression": false},
	}
	if clustered {
		cluster := config["cluster"].(map[string]any)
		cluster["tls"] = map[string]any{"enabled": true, "secretName": NATSRouteTLSSecret, "merge": edge.RouteTLS(serviceCA)}
		cluster["merge"] = map[string]any{"authorization": edge.RouteAuthorization()}
	}
	merge := config["merge"].(map[string]any)
	for k, v := range auth {
		merge[k] = v
	}
	merge["ocsp_cache"] = edge.OCSPCache(NATSOCSPCacheDir)
	values["tlsCA"] = map[string]any{"enabled": true, "configMapName": NATSTrustAnchors, "key": ServiceCAAnchorKey, "dir": NATSCADir}
	container := values["container"].(map[string]any)
	container["env"] = map[string]any{NATSAuthIssuerEnv: map[string]any{
		"valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": NATSAuthSecret, "key": NATSAuthPublicKey}},
	}}
	return nil
}

// certificate is a cert-manager Certificate from the namespace's service-CA
// issuer (stacks/edge_trust.go), with exactly the usages that select an
// end-entity template.
func certificate(name, namespace string, spec map[string]any) map[string]any {
	spec["secretName"] = name
	spec["duration"] = ServiceCertDuration
	spec["renewBefore"] = ServiceCertRenewBefore
	spec["privateKey"] = map[string]any{"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
	spec["issuerRef"] = ServiceIssuerRef()
	return map[string]any{
		"apiVersion": CertManagerAPI, "kind": "Certificate",
		"metadata": map[string]any{"name": name, "namespace": namespace},
		"spec":     spec,
	}
}

// userCertificate is a service user's client certificate.
func userCertificate(user string) map[string]any {
	return certificate(NATSUserSecret(user), NATSUserNamespace(user), map[string]any{
		"commonName": user, "uris": []string{edge.ServiceUserName(user)}, "usages": []string{"client auth"},
	})
}

// natsCertificates are every NATS Certificate of the env, by construct id.
func natsCertificates(cfg *envs.Config, clustered bool) map[string]map[string]any {
	out := map[string]map[string]any{
		"nats-server-certificate": certificate(NATSServerTLSSecret, naming.NamespaceNATS, map[string]any{
			"commonName": NATSRelease + "." + naming.NamespaceNATS + ".svc",
			"dnsNames":   natsServerDNSNames(cfg.ServiceHost("edge")),
			"usages":     []string{"server auth"},
		}),
	}
	if clustered {
		out["nats-route-certificate"] = certificate(NATSRouteTLSSecret, naming.NamespaceNATS, map[string]any{
			"commonName": "nats-route", "uris": []string{edge.RouteURISAN}, "dnsNames": natsRouteDNSNames(),
			"usages": []string{"server auth", "client auth"},
		})
	}
	for _, u := range edge.ServiceUsers() {
		out["nats-user-certificate-"+u] = userCertificate(u)
	}
	for id, obj := range p2pBridgeObjects(cfg, naming.New(cfg.Org, cfg.Env, cfg.Region)) {
		out[id] = obj
	}
	return out
}

// natsCertRequests is what each namespace may request from the service CA:
// exactly the identities of natsCertificates there (approverPolicy).
func natsCertRequests(certs map[string]map[string]any) map[string]certRequest {
	out := map[string]certRequest{}
	ids := make([]string, 0, len(certs))
	for id := range certs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	add := func(list []string, v ...string) []string {
		for _, x := range v {
			if !contains(list, x) {
				list = append(list, x)
			}
		}
		return list
	}
	for _, id := range ids {
		m := certs[id]
		if m["kind"] != "Certificate" {
			continue
		}
		ns := m["metadata"].(map[string]any)["namespace"].(string)
		spec := m["spec"].(map[string]any)
		r := out[ns]
		if cn, ok := spec["commonName"].(string); ok {
			r.CommonNames = add(r.CommonNames, cn)
		}
		if v, ok := spec["uris"].([]string); ok {
			r.URIs = add(r.URIs, v...)
		}
		if v, ok := spec["dnsNames"].([]string); ok {
			r.DNSNames = add(r.DNSNames, v...)
		}
		r.Usages = add(r.Usages, spec["usages"].([]string)...)
		out[ns] = r
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// newNATSCertificates creates the Certificates once their namespaces'
// issuers and approver policies exist. No password or nkey seed exists
// anywhere for them: the private keys are made by cert-manager in the
// cluster and never reach Terraform state.
func newNATSCertificates(b *base, certs map[string]map[string]any, after []cdktf.ITerraformDependable) []cdktf.ITerraformDependable {
	ids := make([]string, 0, len(certs))
	for id := range certs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []cdktf.ITerraformDependable
	for _, id := range ids {
		m := certs[id]
		out = append(out, manifest.NewManifest(b.stack, jsii.String(id), &manifest.ManifestConfig{Manifest: &m, DependsOn: &after}))
	}
	return out
}

// newNATSAgentsEndpoint exposes the agents' listener through an
// internet-facing NLB made by the AWS Load Balancer Controller: TCP
// passthrough on 443 (no TLS listener on the NLB), so TLS and the device
// certificate check end at NATS; IP targets, so the pods see the agent's
// address. Agents connect to wss://<edge host> with a device certificate.
// The DNS record follows the NLB: Terraform waits for the Service's
// load-balancer hostname and writes it as a CNAME, so a recreated NLB
// updates the record on the next apply.
func newNATSAgentsEndpoint(b *base, after cdktf.ITerraformDependable, zone *string) string {
	host := b.cfg.ServiceHost("edge")
	svc := servicev1.NewServiceV1(b.stack, jsii.String("nats-agents"), &servicev1.ServiceV1Config{
		Metadata: &servicev1.ServiceV1Metadata{
			Name: jsii.String(NATSAgentsService), Namespace: jsii.String(naming.NamespaceNATS),
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
				Name: jsii.String("agents-wss"), Port: jsii.Number(NATSAgentsPublicPort), TargetPort: jsii.String(fmt.Sprint(NATSAgentsPort)), Protocol: jsii.String("TCP"),
			}},
		},
		WaitForLoadBalancer: jsii.Bool(true),
		DependsOn:           &[]cdktf.ITerraformDependable{after},
	})
	route53record.NewRoute53Record(b.stack, jsii.String("nats-agents-dns"), &route53record.Route53RecordConfig{
		ZoneId: zone, Name: jsii.String(host), Type: jsii.String("CNAME"), Ttl: jsii.Number(60),
		Records: &[]*string{svc.Status().Get(jsii.Number(0)).LoadBalancer().Get(jsii.Number(0)).Ingress().Get(jsii.Number(0)).Hostname()},
	})
	return "wss://" + host
}

// natsPolicies: the agents' listener takes any source, because agents come
// through the internet-facing NLB with IP targets, which keeps the agent's
// own address; the device certificate check at NATS is the gate. The
// client port admits only edge-sync (the app users) and edge-nats (the
// callout, stream setup); routes only NATS peers; everything else stays
// default-deny.
func natsPolicies() []sp.IngressAllow {
	nats := map[string]string{"app.kubernetes.io/name": "nats"}
	return []sp.IngressAllow{
		{Name: "nats-agents", PodLabels: nats, Ports: []int{NATSAgentsPort},
			AnySourceReason: "agents reach NATS through the internet-facing NLB (IP targets preserve the client address); every client must present a device-CA certificate, checked against OCSP and mapped by the auth callout"},
		{Name: "nats-clients", PodLabels: nats, Ports: []int{NATSClientPort},
			From: []sp.Peer{{Namespace: naming.NamespaceEdge}, {Namespace: naming.NamespaceNATS}}},
		{Name: "nats-routes", PodLabels: nats, Ports: []int{NATSClusterPort}, From: []sp.Peer{{PodLabels: nats}}},
		natsMetricsIngress(),
	}
}
