package stacks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/secretsmanagersecret"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/manifest"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/serviceaccountv1"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/servicev1"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
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

// BeaconsAdminOIDCSecret is the Secret (edge-sync) the ALB controller reads
// the IdP client id and secret from, and the Secrets Manager name under
// <org>/<env>/ an operator stores them in.
const (
	BeaconsAdminOIDCSecret = "beacons-admin-oidc"
	// BeaconsAdminOIDCStore reads that one secret: its IRSA role (service
	// account external-secrets/beacons-admin-oidc) may read nothing else,
	// so an ExternalSecret in edge-sync naming any other key gets nothing.
	BeaconsAdminOIDCStore   = "secrets-manager-beacons-admin-oidc"
	BeaconsAdminOIDCAccount = "beacons-admin-oidc"
)

// newBeaconsAdminEntry puts the beacon registry's admin UI behind an
// internal ALB on cfg.ServiceHost("beacons-admin"): HTTPS only (TLS 1.2+,
// a DNS-validated ACM certificate), a Route53 CNAME to the ALB: an
// albEntry (stacks/alb_entry.go), like the storefront and the presigner.
//
// Two walls stand in front of the UI:
//   - a login: the ALB authenticates every request with the organisation's
//     identity provider (authenticate-oidc, edge.adminOidc) before it
//     forwards anything, and passes the verified identity on in the
//     x-amzn-oidc-* headers;
//   - reachability: the ALB is internal (private addresses only) and its
//     security group admits only the VPC's CIDR on 443. It is placed in
//     the public subnets, which hold load balancers and NAT gateways but
//     never a pod, so the NetworkPolicy allow-beacons-admin-alb admits the
//     public subnets alone: no pod in the cluster can reach the UI around
//     the ALB's login.
func newBeaconsAdminEntry(b *base, ns *sp.Namespace, zone *string, cluster *ClusterOutputs) (*beaconsAdminEntry, error) {
	host := b.cfg.ServiceHost(BeaconsAdminAccount)
	certArn, err := sp.NewDnsValidatedCertificate(b.stack, "beacons-admin-certificate", &sp.DnsValidatedCertificateProps{
		DomainName: host, ZoneID: zone, Provider: b.provider,
	})
	if err != nil {
		return nil, err
	}
	oidcSecret, err := newBeaconsAdminOIDCSecret(b, ns, cluster)
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
		Paths:       []albPath{{Prefix: "/", Service: backend.Metadata().Name()}},
		Annotations: beaconsAdminAnnotations(b.cfg, b.names.Vpc()),
		DependsOn:   []cdktf.ITerraformDependable{backend, oidcSecret},
	})
	return &beaconsAdminEntry{host: host, certArn: certArn}, nil
}

// beaconsAdminAnnotations: the login, the subnets and the inbound CIDR.
func beaconsAdminAnnotations(cfg *envs.Config, vpcName string) map[string]*string {
	o := cfg.Edge.AdminOIDC
	idp, _ := json.Marshal(map[string]string{
		"issuer": o.Issuer, "authorizationEndpoint": o.AuthorizationEndpoint, "tokenEndpoint": o.TokenEndpoint,
		"userInfoEndpoint": o.UserInfoEndpoint, "secretName": BeaconsAdminOIDCSecret,
	})
	var subnets []string
	for _, az := range cfg.FullAZs() {
		subnets = append(subnets, fmt.Sprintf("%s-public-%s", vpcName, az))
	}
	return map[string]*string{
		"alb.ingress.kubernetes.io/auth-type":                       jsii.String("oidc"),
		"alb.ingress.kubernetes.io/auth-idp-oidc":                   jsii.String(string(idp)),
		"alb.ingress.kubernetes.io/auth-on-unauthenticated-request": jsii.String("authenticate"),
		"alb.ingress.kubernetes.io/auth-scope":                      jsii.String("openid email"),
		"alb.ingress.kubernetes.io/auth-session-timeout":            jsii.String("28800"),
		"alb.ingress.kubernetes.io/subnets":                         jsii.String(strings.Join(subnets, ",")),
		// the controller's default for an internal ALB is 0.0.0.0/0
		"alb.ingress.kubernetes.io/inbound-cidrs": jsii.String(cfg.Network.VpcCidr),
	}
}

// newBeaconsAdminOIDCSecret copies the IdP client credentials into edge-sync
// through a store that can read exactly one Secrets Manager secret: the
// store authenticates as its own service account (in external-secrets,
// which only the infra stacks manage) whose IRSA role reads
// <org>/<env>/beacons-admin-oidc and nothing else. The secret is created
// empty; an operator sets its value, never Terraform.
func newBeaconsAdminOIDCSecret(b *base, ns *sp.Namespace, cluster *ClusterOutputs) (cdktf.ITerraformDependable, error) {
	smName := b.names.Secret(BeaconsAdminOIDCSecret)
	recovery := 0
	if b.cfg.Protect() {
		recovery = SecretRecoveryDays
	}
	secret := secretsmanagersecret.NewSecretsmanagerSecret(b.stack, jsii.String("beacons-admin-oidc"), &secretsmanagersecret.SecretsmanagerSecretConfig{
		Name:                 jsii.String(smName),
		Description:          jsii.String(`IdP client of the beacon admin UI's ALB login as JSON {"clientID": "...", "clientSecret": "..."}; set by an operator, never by Terraform`),
		RecoveryWindowInDays: jsii.Number(float64(recovery)),
		Lifecycle:            sp.Lifecycle(b.cfg.Protect()),
	})
	role, err := sp.NewIrsaRole(b.stack, "beacons-admin-oidc-irsa", &sp.IrsaRoleProps{
		RoleName: b.names.Role("irsa-beacons-admin-oidc"), OidcProviderArn: cluster.OidcProviderArn, OidcIssuerURL: cluster.OidcIssuerURL,
		PermissionsBoundary: b.boundaryArn(), Namespace: naming.NamespaceExternalSecrets, ServiceAccount: BeaconsAdminOIDCAccount,
		Statements: []sp.Statement{{Sid: "ReadTheAdminUIClientOnly", Actions: ExternalSecretsActions, Resources: []string{*secret.Arn()}}},
	})
	if err != nil {
		return nil, err
	}
	sa := serviceaccountv1.NewServiceAccountV1(b.stack, jsii.String("beacons-admin-oidc-sa"), &serviceaccountv1.ServiceAccountV1Config{
		Metadata: &serviceaccountv1.ServiceAccountV1Metadata{
			Name: jsii.String(BeaconsAdminOIDCAccount), Namespace: jsii.String(naming.NamespaceExternalSecrets),
			Annotations: &role.Annotation,
		},
		AutomountServiceAccountToken: jsii.Bool(false),
	})
	store := secretStore(BeaconsAdminOIDCStore, b.cfg.Region, naming.NamespaceEdge, map[string]any{"jwt": map[string]any{
		"serviceAccountRef": map[string]any{"name": BeaconsAdminOIDCAccount, "namespace": naming.NamespaceExternalSecrets},
	}})
	after := []cdktf.ITerraformDependable{ns.Resource, sa}
	storeObj := manifest.NewManifest(b.stack, jsii.String("beacons-admin-oidc-store"), &manifest.ManifestConfig{Manifest: &store, DependsOn: &after})
	es := externalSecret(BeaconsAdminOIDCSecret, naming.NamespaceEdge, BeaconsAdminOIDCStore, map[string]any{"data": []any{
		map[string]any{"secretKey": "clientID", "remoteRef": map[string]any{"key": smName, "property": "clientID"}},
		map[string]any{"secretKey": "clientSecret", "remoteRef": map[string]any{"key": smName, "property": "clientSecret"}},
	}})
	deps := append(after, storeObj)
	b.output("beacons_admin_oidc_secret", "Secrets Manager secret to fill with the admin UI's IdP client (JSON clientID, clientSecret)", secret.Name(), false)
	return manifest.NewManifest(b.stack, jsii.String("beacons-admin-oidc-sync"), &manifest.ManifestConfig{Manifest: &es, DependsOn: &deps}), nil
}
