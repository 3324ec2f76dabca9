package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

// resourceNamed returns the one resource of typ whose metadata.name is name.
func resourceNamed(t *testing.T, doc gjson.Result, typ, name string) gjson.Result {
	t.Helper()
	for _, r := range resources(doc, typ) {
		if r.Get("metadata.name").String() == name {
			return r
		}
	}
	t.Fatalf("no %s %s", typ, name)
	return gjson.Result{}
}

// GIVEN each env's edge stack THEN the beacon admin UI is reachable only
// through an internal ALB that signs people in first: OIDC login with the
// env's identity provider (the client id and secret from a Secret synced
// through a store that reads that one secret), scheme internal, placed in
// the public subnets (no pod lives there), its security group open to the
// VPC alone, HTTPS 443 only with TLS 1.2+ and the DNS-validated certificate
// for beacons_admin_host, and a Route53 CNAME from that host to the ALB
// Terraform waited for.
func TestBeaconsAdminIsOnAnInternalALB(t *testing.T) {
	for _, env := range envs.Order {
		cfg, err := envs.Load(env, envs.Overrides{Env: env})
		require.NoError(t, err)
		if !cfg.Edge.Enabled {
			continue
		}
		doc := stack(t, env+"-edge").Doc
		host := cfg.ServiceHost("beacons-admin")
		assert.Equal(t, host, doc.Get("output.beacons_admin_host.value").String(), "%s: the output names the host the record is for", env)

		ing := resourceNamed(t, doc, "kubernetes_ingress_v1", stacks.BeaconsAdminIngress)
		assert.Contains(t, ing.Get("metadata.namespace").String(), "kubernetes_namespace_v1.namespace", "%s: in edge-sync, after the namespace", env)
		a := func(k string) string {
			return ing.Get("metadata.annotations." + gjson.Escape("alb.ingress.kubernetes.io/"+k)).String()
		}
		assert.Equal(t, "internal", a("scheme"), "%s: never internet-facing", env)
		assert.Equal(t, "oidc", a("auth-type"), "%s: nobody reaches the UI without a login", env)
		assert.Equal(t, "authenticate", a("auth-on-unauthenticated-request"), env)
		var idp map[string]string
		require.NoError(t, json.Unmarshal([]byte(a("auth-idp-oidc")), &idp), env)
		assert.Equal(t, cfg.Edge.AdminOIDC.Issuer, idp["issuer"], env)
		assert.Equal(t, cfg.Edge.AdminOIDC.TokenEndpoint, idp["tokenEndpoint"], env)
		assert.Equal(t, stacks.BeaconsAdminOIDCSecret, idp["secretName"], env)
		var subnets []string
		for _, az := range cfg.FullAZs() {
			subnets = append(subnets, "spatialprops-"+env+"-vpc-public-"+az)
		}
		assert.Equal(t, strings.Join(subnets, ","), a("subnets"), "%s: the ALB sits in the public subnets, where no pod does", env)
		// the OIDC client comes through a store whose role reads that one secret
		var store gjson.Result
		for _, m := range resources(doc, "kubernetes_manifest") {
			if m.Get("manifest.metadata.name").String() == stacks.BeaconsAdminOIDCStore {
				store = m
			}
		}
		require.True(t, store.Exists(), env)
		assert.Equal(t, []string{"edge-sync"}, strs(store.Get("manifest.spec.conditions.0.namespaces")), env)
		assert.Equal(t, stacks.BeaconsAdminOIDCAccount, store.Get("manifest.spec.provider.aws.auth.jwt.serviceAccountRef.name").String(), env)
		read := policyDoc(t, doc, "beacons-admin-oidc-irsa_permissions").Get("statement")
		require.Len(t, read.Array(), 1, env)
		assert.Equal(t, []string{"${aws_secretsmanager_secret.beacons-admin-oidc.arn}"}, strs(read.Get("0.resources")), "%s: that one secret, not <org>/<env>/*", env)
		assert.Equal(t, cfg.Network.VpcCidr, a("inbound-cidrs"), "%s: the ALB's security group admits the VPC only (the controller defaults to 0.0.0.0/0)", env)
		assert.Equal(t, `[{"HTTPS":443}]`, a("listen-ports"), "%s: no plain-HTTP listener", env)
		assert.Equal(t, "ELBSecurityPolicy-TLS13-1-2-2021-06", a("ssl-policy"), env)
		assert.Contains(t, a("certificate-arn"), "aws_acm_certificate_validation.beacons-admin-certificate", "%s: the ALB waits for an issued certificate", env)
		assert.Equal(t, "ip", a("target-type"), "%s: targets are pod IPs, which allow-beacons-admin-alb admits", env)
		assert.Equal(t, stacks.BeaconsAdminHealthPath, a("healthcheck-path"), env)
		assert.Contains(t, a("load-balancer-attributes"), "deletion_protection.enabled="+map[bool]string{true: "true", false: "false"}[cfg.Protect()], env)
		assert.Empty(t, a("group.name"), "%s: its own ALB; an internal ALB cannot join an internet-facing group", env)
		assert.Empty(t, a("wafv2-acl-arn"), env)
		assert.True(t, ing.Get("wait_for_load_balancer").Bool(), "%s: the DNS record needs the ALB's host name", env)
		assert.Equal(t, "alb", ing.Get("spec.ingress_class_name").String(), env)
		rules := ing.Get("spec.rule").Array()
		require.Len(t, rules, 1, env)
		assert.Equal(t, host, rules[0].Get("host").String(), env)
		assert.Contains(t, rules[0].Get("http.path.0.backend.service.name").String(), "kubernetes_service_v1.beacons-admin-backend", env)

		certs := resources(doc, "aws_acm_certificate")
		var domains []string
		for _, c := range certs {
			domains = append(domains, c.Get("domain_name").String())
		}
		assert.Contains(t, domains, host, env)

		var record gjson.Result
		for _, r := range resources(doc, "aws_route53_record") {
			if r.Get("name").String() == host {
				record = r
			}
		}
		require.True(t, record.Exists(), "%s: a DNS record for %s", env, host)
		assert.Equal(t, "CNAME", record.Get("type").String())
		assert.Equal(t, "${kubernetes_ingress_v1.beacons-admin-ingress.status[0].load_balancer[0].ingress[0].hostname}", record.Get("records.0").String(), env)
		assert.Equal(t, "${data.aws_route53_zone.zone.zone_id}", record.Get("zone_id").String(), "%s: the env's public zone, shared with the NATS agents' record", env)
	}
}

// GIVEN the ALB's backend Service and allow-beacons-admin-alb THEN they fit
// together: the Service selects the helm/beacons-admin release's pods on
// their named port, and the policy admits exactly the public subnets (where
// the ALB is placed, and where no pod lives: pods use the private subnets)
// plus Prometheus, on stacks.BeaconsPort only. Admitting the private subnets
// would admit every pod of the cluster, around the ALB's login.
func TestBeaconsAdminBackendMatchesItsNetworkPolicy(t *testing.T) {
	cfg, err := envs.Load("dev", envs.Overrides{Env: "dev"})
	require.NoError(t, err)
	doc := stack(t, "dev-edge").Doc
	svc := resourceNamed(t, doc, "kubernetes_service_v1", stacks.BeaconsAdminBackend)
	assert.Equal(t, "beacons-admin", svc.Get(`spec.selector.app\.kubernetes\.io/name`).String())
	assert.Equal(t, "beacons-admin", svc.Get(`spec.selector.app\.kubernetes\.io/instance`).String(), "the release deploy-beacons-admin.yml installs")
	assert.Equal(t, "http", svc.Get("spec.port.0.target_port").String(), "the chart's container port name")
	assert.Equal(t, "ClusterIP", svc.Get("spec.type").String(), "no second load balancer")

	pol := resourceNamed(t, doc, "kubernetes_network_policy_v1", "allow-beacons-admin-alb")
	assert.Equal(t, "beacons-admin", pol.Get(`spec.pod_selector.match_labels.app\.kubernetes\.io/name`).String())
	ports := pol.Get("spec.ingress.0.ports").Array()
	require.Len(t, ports, 1)
	assert.Equal(t, "8080", ports[0].Get("port").String())
	assert.Equal(t, stacks.BeaconsPort, int(ports[0].Get("port").Int()))
	var cidrs []string
	prometheus := false
	for _, f := range pol.Get("spec.ingress.0.from").Array() {
		switch {
		case f.Get("ip_block").Exists():
			cidrs = append(cidrs, f.Get("ip_block.cidr").String())
			assert.False(t, f.Get("ip_block.except").Exists())
		case f.Get(`namespace_selector.match_labels.kubernetes\.io/metadata\.name`).String() == "observability":
			prometheus = f.Get(`pod_selector.match_labels.app\.kubernetes\.io/name`).String() == "prometheus"
			assert.True(t, prometheus, "only Prometheus from observability")
		default:
			t.Errorf("unexpected source %s", f.Raw)
		}
	}
	assert.ElementsMatch(t, cfg.Network.PublicSubnets, cidrs)
	assert.True(t, prometheus)
	for _, c := range cfg.Network.PrivateSubnets {
		assert.NotContains(t, cidrs, c, "the pods' subnets are never admitted")
	}
	for _, c := range cidrs {
		assert.False(t, strings.HasSuffix(c, "/0"))
	}
}
