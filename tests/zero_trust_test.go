package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"gopkg.in/yaml.v3"
)

func TestVpcCniEnforcesNetworkPolicies(t *testing.T) {
	// Without the agent, every NetworkPolicy below is accepted and ignored.
	for _, env := range []string{"dev", "staging", "prod"} {
		for _, a := range resources(stack(t, env+"-cluster").Doc, "aws_eks_addon") {
			if a.Get("addon_name").String() != "vpc-cni" {
				continue
			}
			var cfg map[string]any
			require.NoError(t, json.Unmarshal([]byte(a.Get("configuration_values").String()), &cfg), env)
			assert.Equal(t, "true", cfg["enableNetworkPolicy"], env)
		}
	}
}

// namespacesOf returns every namespace a stack creates, by name.
func namespacesOf(doc gjson.Result) map[string]gjson.Result {
	out := map[string]gjson.Result{}
	for _, ns := range resources(doc, "kubernetes_namespace_v1") {
		out[ns.Get("metadata.name").String()] = ns
	}
	return out
}

// policiesIn returns the network policies of one namespace, by name.
func policiesIn(doc gjson.Result, namespace string) map[string]gjson.Result {
	out := map[string]gjson.Result{}
	for _, p := range resources(doc, "kubernetes_network_policy_v1") {
		if p.Get("metadata.namespace").String() == namespace {
			out[p.Get("metadata.name").String()] = p
		}
	}
	return out
}

func TestEveryNamespaceIsLabelledAndDeniesByDefault(t *testing.T) {
	want := map[string]string{
		"platform":      "aws-lbc cert-manager external-secrets spatial-properties",
		"observability": "node-exporter observability",
		"edge":          "edge-sync edge-nats cdn-presigner device-enrollment",
		"marketplace":   "marketplace provenance-gate",
	}
	for _, env := range []string{"dev", "staging", "prod"} {
		for component, names := range want {
			doc := stack(t, env+"-"+component).Doc
			nss := namespacesOf(doc)
			var got []string
			for name := range nss {
				got = append(got, name)
			}
			assert.ElementsMatch(t, strings.Fields(names), got, "%s-%s", env, component)
			for name, ns := range nss {
				level := ns.Get(`metadata.labels.pod-security\.kubernetes\.io/enforce`).String()
				if name == "node-exporter" {
					assert.Equal(t, "privileged", level, "node-exporter needs host namespaces and hostPath")
					assert.NotEmpty(t, ns.Get(`metadata.annotations.spatial\.properties/pod-security-reason`).String())
				} else {
					assert.Equal(t, "restricted", level, "%s-%s %s", env, component, name)
				}
				deny, ok := policiesIn(doc, name)["default-deny-ingress"]
				require.True(t, ok, "%s-%s: namespace %s has no default deny", env, component, name)
				assert.True(t, deny.Get("spec.pod_selector").IsObject())
				assert.False(t, deny.Get("spec.pod_selector.match_labels").Exists(), "the deny selects every pod")
				assert.False(t, deny.Get("spec.ingress").Exists())
			}
		}
	}
}

// peerNames renders a policy's sources as "<namespace>/<app name>" for
// readable assertions ("" namespace: the policy's own).
func peerNames(p gjson.Result) []string {
	var out []string
	for _, f := range p.Get("spec.ingress.0.from").Array() {
		ns := f.Get(`namespace_selector.match_labels.kubernetes\.io/metadata\.name`).String()
		app := f.Get(`pod_selector.match_labels.app\.kubernetes\.io/name`).String()
		out = append(out, ns+"/"+app)
	}
	return out
}

func TestTelemetryBackendsAcceptOnlyCollectorsAndGrafana(t *testing.T) {
	doc := stack(t, "prod-observability").Doc
	pol := policiesIn(doc, "observability")
	// Write paths: only the collectors.
	assert.ElementsMatch(t, []string{"/alloy", "/opentelemetry-collector"}, peerNames(pol["allow-loki-push"]))
	assert.ElementsMatch(t, []string{"/opentelemetry-collector"}, peerNames(pol["allow-tempo-otlp"]))
	assert.ElementsMatch(t, []string{"/opentelemetry-collector", "/tempo"}, peerNames(pol["allow-prometheus-remote-write"]))
	// Read paths: only Grafana.
	for _, name := range []string{"allow-loki-queries", "allow-tempo-queries", "allow-prometheus-queries"} {
		assert.Equal(t, []string{"/grafana"}, peerNames(pol[name]), name)
	}
	// No policy in observability admits another namespace except the
	// collector's OTLP entry point (services and edge).
	for name, p := range pol {
		for _, peer := range peerNames(p) {
			if !strings.HasPrefix(peer, "/") {
				assert.Equal(t, "allow-collector-otlp", name, "%s admits %s", name, peer)
			}
		}
	}
	assert.ElementsMatch(t, []string{"spatial-properties/", "edge-sync/"}, peerNames(pol["allow-collector-otlp"]))
	// Loki stays single-tenant only behind these policies.
	_, loki := releaseValues(t, doc, "loki")
	assert.Equal(t, false, loki["loki"].(map[string]any)["auth_enabled"])
	assert.Contains(t, pol, "allow-loki-push")
}

func TestWebhooksAreTheOnlyAnySourceAllows(t *testing.T) {
	// An allow without sources is accepted only for admission webhooks
	// and the metrics API, each with its reason on the object, and for the
	// NATS agents' port agents reach through the internet-facing NLB (IP
	// targets keep the agent's address; the device certificate is the gate).
	want := map[string]bool{
		"edge-nats/allow-nats-agents":                                true,
		"cert-manager/allow-approver-policy-webhook-from-api-server": true,
		"aws-lbc/allow-webhook-from-api-server":                      true,
		"external-secrets/allow-webhook-from-api-server":             true,
		"cert-manager/allow-webhook-from-api-server":                 true,
		"kube-system/allow-metrics-server-from-api-server":           true,
		"observability/allow-operator-webhook":                       true,
	}
	got := map[string]bool{}
	for _, c := range []string{"platform", "observability", "edge"} {
		for _, p := range resources(stack(t, "prod-"+c).Doc, "kubernetes_network_policy_v1") {
			if p.Get("spec.ingress").Exists() && !p.Get("spec.ingress.0.from").Exists() {
				got[p.Get("metadata.namespace").String()+"/"+p.Get("metadata.name").String()] = true
				assert.NotEmpty(t, p.Get(`metadata.annotations.spatial\.properties/any-source-reason`).String())
			}
		}
	}
	assert.Equal(t, want, got)
}

func TestServicesAcceptLoadBalancersFromPublicSubnetsOnly(t *testing.T) {
	doc := stack(t, "prod-platform").Doc
	p := policiesIn(doc, "spatial-properties")["allow-load-balancer-targets"]
	var cidrs []string
	for _, f := range p.Get("spec.ingress.0.from").Array() {
		cidrs = append(cidrs, f.Get("ip_block.cidr").String())
	}
	// The private subnets hold every pod: admitting them would admit all.
	assert.Equal(t, []string{"10.2.101.0/24", "10.2.102.0/24", "10.2.103.0/24"}, cidrs)
}

// thirdPartyReleases are every helm_release of the env, by name.
func thirdPartyReleases(t *testing.T, env string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, c := range []string{"platform", "observability", "edge"} {
		doc := stack(t, env+"-"+c).Doc
		for _, r := range resources(doc, "helm_release") {
			var v map[string]any
			require.NoError(t, yaml.Unmarshal([]byte(r.Get("values.0").String()), &v))
			out[r.Get("name").String()] = v
		}
	}
	return out
}

// findAll collects every value under key anywhere in v.
func findAll(v any, key string) []any {
	var out []any
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if k == key {
				out = append(out, c)
			}
			out = append(out, findAll(c, key)...)
		}
	case []any:
		for _, c := range x {
			out = append(out, findAll(c, key)...)
		}
	}
	return out
}

func TestThirdPartyReleasesSetResourcesAndNonRoot(t *testing.T) {
	releases := thirdPartyReleases(t, "prod")
	assert.Len(t, releases, 13)
	// Charts whose defaults leave the pod free to run as root; the others
	// (kube-prometheus-stack, loki, metrics-server, cert-manager) default to
	// non-root users at their pinned versions, which the values keep.
	mustSetNonRoot := []string{"aws-load-balancer-controller", "cluster-autoscaler", "external-secrets", "alloy", "tempo", "opentelemetry-collector", "nats", "aws-privateca-issuer"}
	for name, v := range releases {
		compute := 0
		for _, r := range findAll(v, "resources") {
			m, _ := r.(map[string]any)
			req, _ := m["requests"].(map[string]any)
			if _, storage := req["storage"]; storage {
				continue // a volume claim's size, not a container's budget
			}
			compute++
			assert.Contains(t, m, "requests", name)
			assert.Contains(t, m, "limits", name)
		}
		assert.NotZero(t, compute, "%s sets no container resources", name)
	}
	for _, name := range mustSetNonRoot {
		nonRoot := findAll(releases[name], "runAsNonRoot")
		assert.NotEmpty(t, nonRoot, "%s must set runAsNonRoot", name)
		for _, b := range nonRoot {
			assert.Equal(t, true, b, name)
		}
	}
	kps := releases["kube-prometheus-stack"]
	assert.Equal(t, "node-exporter", kps["prometheus-node-exporter"].(map[string]any)["namespaceOverride"],
		"node-exporter runs apart so observability can enforce restricted")
}

func TestExternalSecretsReadsOnlyThisEnvironmentsSecrets(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		doc := stack(t, env+"-platform").Doc
		s := policyStatement(t, doc, "ReadThisEnvironmentsSecrets")
		assert.ElementsMatch(t, []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, strs(s.Get("actions")))
		res := strs(s.Get("resources"))
		require.Len(t, res, 1)
		assert.Regexp(t, `^arn:aws:secretsmanager:ap-southeast-2:\$\{data\.aws_caller_identity\.caller\.account_id\}:secret:spatialprops/`+env+`/\*$`, res[0])

		_, v := releaseValues(t, doc, "external-secrets")
		assert.Equal(t, false, v["processSecretStore"], "a namespaced store would borrow the controller's role")
		assert.Equal(t, false, v["processPushSecret"], "nothing writes back to Secrets Manager")
	}
}

func TestAlertmanagerReceiversComeFromAnEmptySecret(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		doc := stack(t, env+"-observability").Doc
		sm := resources(doc, "aws_secretsmanager_secret")
		require.Len(t, sm, 1)
		assert.Equal(t, "spatialprops/"+env+"/alertmanager-receivers", sm[0].Get("name").String())
		assert.Empty(t, resources(doc, "aws_secretsmanager_secret_version"), "the value is set by an operator, never by Terraform")
		assert.Equal(t, env == "prod", sm[0].Get("lifecycle.prevent_destroy").Bool())

		es := manifestByKindName(t, doc, "ExternalSecret", "alertmanager-receivers")
		assert.Equal(t, "alertmanager-receivers", es.Get("manifest.spec.target.name").String())
		var keys []string
		for _, d := range es.Get("manifest.spec.data").Array() {
			keys = append(keys, d.Get("secretKey").String())
			assert.Equal(t, sm[0].Get("name").String(), d.Get("remoteRef.key").String())
		}
		assert.Equal(t, []string{"slack-webhook-url", "pagerduty-routing-key"}, keys)
		store := manifestByKindName(t, doc, "ClusterSecretStore", es.Get("manifest.spec.secretStoreRef.name").String())
		assert.Equal(t, []string{"observability"}, strs(store.Get("manifest.spec.conditions.0.namespaces")),
			"the store serves observability only")
	}
}
