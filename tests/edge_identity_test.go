package tests

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

var remoteOutput = regexp.MustCompile(`^\$\{data\.terraform_remote_state\.cross-stack-reference-input-([a-z]+-[a-z]+)\.outputs\.([\w-]+)\}$`)

// fromStack follows a cross-stack reference to the expression the other
// stack's output holds, so a test can say "this is the identity stack's CA"
// rather than "this is some remote value".
func fromStack(t *testing.T, ref string) (stackID, expr string) {
	t.Helper()
	m := remoteOutput.FindStringSubmatch(ref)
	require.NotNil(t, m, "%q is not a cross-stack reference", ref)
	out := stack(t, m[1]).Doc.Get("output." + gjson.Escape(m[2]) + ".value")
	require.True(t, out.Exists(), "stack %s has no output %s", m[1], m[2])
	return m[1], out.String()
}

// GIVEN every env WHEN the edge stack is synthesized THEN each namespace
// that requests certificates has its own issuer on the identity stack's
// service CA (no cluster-wide issuer exists), every Certificate waits for
// its issuer, lives 6 days and renews with 2 left, and each namespace's
// approval policy allows exactly the identities its Certificates name: a
// wrong ARN would leave the issuer unable to sign and NATS would stop
// renewing; a missing policy would leave every request unapproved.
func TestServiceCAIssuersArePerNamespaceAndApprovedByPolicy(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-edge").Doc
		issuers := map[string]string{} // namespace -> construct id
		policies := map[string]gjson.Result{}
		doc.Get("resource.kubernetes_manifest").ForEach(func(id, r gjson.Result) bool {
			m := r.Get("manifest")
			switch m.Get("kind").String() {
			case "AWSPCAClusterIssuer":
				t.Errorf("%s: a cluster-wide issuer %s", env, id)
			case "AWSPCAIssuer":
				issuers[m.Get("metadata.namespace").String()] = id.String()
				assert.Equal(t, "service-ca", m.Get("metadata.name").String())
				from, expr := fromStack(t, m.Get("spec.arn").String())
				assert.Equal(t, env+"-identity", from)
				assert.Equal(t, "${aws_acmpca_certificate_authority.service-ca.arn}", expr, "%s: in-cluster certificates come from the service CA", env)
				assert.False(t, m.Get("spec.secretRef").Exists(), "%s: no static AWS keys; the issuer uses its IRSA role", env)
				assert.Equal(t, "Ready", r.Get("wait.condition.0.type").String(), "%s: certificates wait for a Ready issuer", env)
			case "CertificateRequestPolicy":
				policies[m.Get("spec.selector.namespace.matchNames.0").String()] = m
			}
			return true
		})
		assert.ElementsMatch(t, []string{"edge-nats", "edge-sync"}, mapKeys(issuers), env)
		assert.ElementsMatch(t, []string{"edge-nats", "edge-sync"}, mapKeys(policies), env)

		for _, r := range resources(doc, "kubernetes_manifest") {
			if r.Get("manifest.kind").String() != "Certificate" {
				continue
			}
			ns := r.Get("manifest.metadata.namespace").String()
			assert.Contains(t, strs(r.Get("depends_on")), "kubernetes_manifest."+issuers[ns], "%s: %s", env, r.Get("manifest.metadata.name"))
			spec := r.Get("manifest.spec")
			assert.Equal(t, "144h", spec.Get("duration").String(), "the service CA issues 7 days at most")
			assert.Equal(t, "48h", spec.Get("renewBefore").String(), "renewal starts with a third of the lifetime left")
			// the namespace's policy allows every identity the Certificate names
			allowed := policies[ns].Get("spec.allowed")
			for _, u := range strs(spec.Get("uris")) {
				assert.Contains(t, strs(allowed.Get("uris.values")), u, "%s: %s may request %s", env, ns, u)
			}
			for _, d := range strs(spec.Get("dnsNames")) {
				assert.Contains(t, strs(allowed.Get("dnsNames.values")), d, "%s: %s may request %s", env, ns, d)
			}
		}
		// what a CI-deployed workload's namespace may request: its three users
		assert.ElementsMatch(t, []string{"urn:spatial-properties:nats-user:dtn-gateway", "urn:spatial-properties:nats-user:beacon-rotate",
			"urn:spatial-properties:nats-user:security-detector"}, strs(policies["edge-sync"].Get("spec.allowed.uris.values")), env)
		assert.False(t, policies["edge-sync"].Get("spec.allowed.dnsNames").Exists(), "%s: no server certificate from edge-sync", env)
		assert.Equal(t, "144h", policies["edge-sync"].Get("spec.constraints.maxDuration").String())
	}
}

// GIVEN the issuer chart's service account and the identity stack's role
// WHEN both are synthesized THEN the role trusts exactly the account the
// chart creates and the chart is annotated with exactly that role: either
// mismatch leaves the issuer without AWS credentials (AccessDenied on
// IssueCertificate) while everything looks deployed.
func TestPCAIssuerTrustMatchesTheChartsServiceAccount(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		platform := stack(t, env+"-platform").Doc
		r, v := releaseValues(t, platform, "aws-privateca-issuer")
		ns := r.Get("namespace").String()
		sa := v["serviceAccount"].(map[string]any)
		assert.Equal(t, true, sa["create"])
		subject := "system:serviceaccount:" + ns + ":" + sa["name"].(string)

		identity := stack(t, env+"-identity").Doc
		var trusted []string
		for id, pair := range irsaTrusts(identity) {
			if strings.HasPrefix(id, "pca-issuer-irsa_trust") {
				trusted = pair[0]
				assert.Equal(t, []string{"sts.amazonaws.com"}, pair[1])
			} else {
				assert.NotContains(t, pair[0], subject, "%s: only the issuer's role trusts the issuer (%s)", env, id)
			}
		}
		assert.Equal(t, []string{subject}, trusted, env)
		assert.Equal(t, "system:serviceaccount:cert-manager:aws-privateca-issuer", subject, env)

		var roleName string
		identity.Get("resource.aws_iam_role").ForEach(func(id, role gjson.Result) bool {
			if strings.HasPrefix(id.String(), "pca-issuer-irsa_role") {
				roleName = role.Get("name").String()
			}
			return true
		})
		require.NotEmpty(t, roleName, env)
		arn := sa["annotations"].(map[string]any)["eks.amazonaws.com/role-arn"].(string)
		assert.Equal(t, "arn:aws:iam::${data.aws_caller_identity.caller.account_id}:role/workload/"+roleName, arn, env)

		// approval is approver-policy's alone: cert-manager approves nothing
		// by itself and gets no right to approve awspca requests, and the
		// issuer signs only approved requests.
		_, cm := releaseValues(t, platform, "cert-manager")
		assert.Equal(t, true, cm["disableAutoApproval"], env)
		assert.Equal(t, map[string]any{"enabled": false}, v["approverRole"], env)
		assert.Equal(t, false, v["disableApprovedCheck"], "%s: the issuer signs only approved requests", env)
		_, ap := releaseValues(t, platform, "cert-manager-approver-policy")
		assert.Equal(t, []any{"awspcaissuers.awspca.cert-manager.io/*"}, ap["app"].(map[string]any)["approveSignerNames"], env)
	}
}

// GIVEN the platform stack THEN cert-manager and the issuer come from their
// upstream repositories at the versions whose values.yaml the stack was
// written against, with the CRDs installed by cert-manager's chart through
// the current key (the chart fails if the deprecated installCRDs is set too).
func TestCertManagerAndIssuerArePinned(t *testing.T) {
	doc := stack(t, "prod-platform").Doc
	r, cm := releaseValues(t, doc, "cert-manager")
	assert.Equal(t, "https://charts.jetstack.io", r.Get("repository").String())
	assert.Equal(t, "cert-manager", r.Get("chart").String())
	assert.Equal(t, "v1.21.1", r.Get("version").String())
	assert.Equal(t, stacks.CertManagerChart.Version, r.Get("version").String())
	assert.Equal(t, map[string]any{"enabled": true, "keep": true}, cm["crds"], "CRDs installed and kept on uninstall")
	assert.NotContains(t, cm, "installCRDs", "deprecated; together with crds.enabled the chart refuses to render")
	assert.Equal(t, 10250, cm["webhook"].(map[string]any)["securePort"], "the port the webhook NetworkPolicy opens")

	r, _ = releaseValues(t, doc, "aws-privateca-issuer")
	assert.Equal(t, "https://cert-manager.github.io/aws-privateca-issuer", r.Get("repository").String())
	assert.Equal(t, "aws-privateca-issuer", r.Get("chart").String())
	assert.Equal(t, "v1.9.0", r.Get("version").String())
	assert.Contains(t, strs(r.Get("depends_on")), "helm_release.cert-manager", "the issuer registers after cert-manager's CRDs exist")

	// The webhook is reachable by the API server; the controller only by
	// Prometheus.
	pol := policiesIn(doc, "cert-manager")
	assert.Equal(t, "10250", pol["allow-webhook-from-api-server"].Get("spec.ingress.0.ports.0.port").String())
	assert.Equal(t, []string{"observability/prometheus"}, peerNames(pol["allow-prometheus"]))
}

// GIVEN every env WHEN the edge stack is synthesized THEN the presigner is
// reachable only over HTTPS on 443, where the ALB verifies the client's
// device certificate against the device trust store (the device CA alone),
// under its own DNS name: a listener without mTLS, or in passthrough mode,
// would let any client on the internet reach the presigner.
func TestPresignerIsMutualTLSOnly(t *testing.T) {
	hosts := map[string]string{"dev": "presign.dev.spatial.properties", "staging": "presign.staging.spatial.properties", "prod": "presign.spatial.properties"}
	for env, host := range hosts {
		doc := stack(t, env+"-edge").Doc
		// the edge stack's internet-facing Ingresses: the presigner's only
		// (the beacon admin UI's is internal)
		var ings []gjson.Result
		for _, i := range resources(doc, "kubernetes_ingress_v1") {
			if i.Get(`metadata.annotations.alb\.ingress\.kubernetes\.io/scheme`).String() != "internal" {
				ings = append(ings, i)
			}
		}
		require.Len(t, ings, 1, "%s: the presigner's is the edge stack's only internet-facing Ingress", env)
		ing := ings[0]
		a := ing.Get("metadata.annotations")
		ann := func(k string) string { return a.Get(gjson.Escape("alb.ingress.kubernetes.io/" + k)).String() }
		assert.Equal(t, "cdn-presigner", ing.Get("metadata.name").String())
		assert.Equal(t, host, ing.Get("spec.rule.0.host").String())
		assert.Equal(t, "internet-facing", ann("scheme"))
		assert.JSONEq(t, `[{"HTTPS":443}]`, ann("listen-ports"), "%s: HTTPS only, no plain HTTP listener", env)
		assert.Empty(t, ann("ssl-redirect"), "no HTTP listener to redirect from")
		assert.Contains(t, ann("certificate-arn"), "aws_acm_certificate_validation.presigner-certificate", "%s: a validated certificate", env)

		// One listener entry of exactly three keys: HTTPS 443, verify mode
		// (passthrough would admit any client; no ignoreClientCertificateExpiry,
		// so expired device certificates are refused), and the device trust store.
		assert.Equal(t, `${jsonencode([{"mode" = "verify", "port" = 443, "trustStore" = aws_lb_trust_store.device-trust-store.arn}])}`,
			ann("mutual-authentication"), env)
		ts := doc.Get("resource.aws_lb_trust_store.device-trust-store")
		assert.Equal(t, "spatialprops-"+env+"-devices", ts.Get("name").String())
		assert.Equal(t, "${aws_s3_object.device-ca-bundle.key}", ts.Get("ca_certificates_bundle_s3_key").String())
		assert.Equal(t, "${data.aws_acmpca_certificate_authority.device-ca.certificate}", doc.Get("resource.aws_s3_object.device-ca-bundle.content").String(),
			"%s: the bundle is the device CA's certificate alone, not the root (which would admit service certificates)", env)

		rec := doc.Get("resource.aws_route53_record.presigner-dns")
		require.True(t, rec.Exists(), env)
		assert.Equal(t, host, rec.Get("name").String())
		assert.Equal(t, "CNAME", rec.Get("type").String())
		assert.Contains(t, rec.Get("records.0").String(), "kubernetes_ingress_v1.presigner-ingress", "%s: the record follows the ALB", env)
		assert.True(t, ing.Get("wait_for_load_balancer").Bool())

		// Only the ALB's subnets reach the pods, on the pod port only.
		pol := policiesIn(doc, "cdn-presigner")
		assert.Contains(t, pol, "default-deny-ingress")
		allow := pol["allow-alb-to-presigner"]
		assert.Equal(t, "8080", allow.Get("spec.ingress.0.ports.0.port").String())
		var cidrs []string
		for _, f := range allow.Get("spec.ingress.0.from").Array() {
			cidrs = append(cidrs, f.Get("ip_block.cidr").String())
		}
		cfg, err := envs.Load(env, envs.Overrides{})
		require.NoError(t, err)
		assert.Equal(t, cfg.Network.PublicSubnets, cidrs, "%s: the private subnets hold every pod", env)
	}
}

// GIVEN the presigner's image is pinned THEN the edge stack installs its
// chart into cdn-presigner by that digest, under the presigner's role, with
// the signing key, key pair id and the tables it checks; unpinned, no pod.
func TestPresignerIsDeployedByTheInfraStackByDigest(t *testing.T) {
	assert.False(t, stack(t, "prod-edge").Doc.Get("resource.helm_release.cdn-presigner-release").Exists(), "no digest pinned, no release")
	doc := pinnedStack(t, "prod", "edge")
	r, v := releaseValues(t, doc, "cdn-presigner")
	assert.Equal(t, "cdn-presigner", r.Get("namespace").String())
	assert.Equal(t, "${path.root}/../../../helm/cdn-presigner", r.Get("chart").String(), "the repository's own chart")
	img := v["image"].(map[string]any)
	assert.Equal(t, pinnedDigest, img["digest"])
	assert.Contains(t, img["repository"], "/spatialprops/cdn-presigner")
	sa := v["serviceAccount"].(map[string]any)
	assert.Regexp(t, `^\$\{aws_iam_role\.presigner-irsa_role_\w+\.arn\}$`, sa["roleArn"])
	env := v["env"].(map[string]any)
	for _, k := range []string{"CDN_BASE_URL", "CDN_SIGNING_KEY_ID", "CDN_KEY_PAIR_ID", "LEDGER_TABLE", "DEVICES_TABLE", "ENTITLEMENTS_TABLE", "DEVICE_CA_SUBJECT"} {
		assert.NotEmpty(t, env[k], k)
	}
	assert.Equal(t, "CN=spatialprops prod device CA,OU=Edge,O=Spatial Properties,C=AU", env["DEVICE_CA_SUBJECT"], "what the ALB writes in X-Amzn-Mtls-Clientcert-Issuer")
}

// PresignerMutualAuth renders the annotation the controller parses: a
// list of one {port, mode, trustStore}, the keys of its docs (v3.5.0).
func TestPresignerMutualAuthAnnotationFormat(t *testing.T) {
	stack := cdktf.NewTerraformStack(cdktf.Testing_App(nil), jsii.String("s"))
	cdktf.NewTerraformOutput(stack, jsii.String("v"), &cdktf.TerraformOutputConfig{
		Value: stacks.PresignerMutualAuth("arn:aws:elasticloadbalancing:ap-southeast-2:111111111111:truststore/x/abc")})
	got := gjson.Get(*cdktf.Testing_Synth(stack, jsii.Bool(false)), "output.v.value").String()
	assert.Equal(t, `${jsonencode([{"mode" = "verify", "port" = 443, "trustStore" = "arn:aws:elasticloadbalancing:ap-southeast-2:111111111111:truststore/x/abc"}])}`, got)
}

// The load balancer controller must be allowed to look up the trust store
// it attaches, or the listener is never created.
func TestLoadBalancerControllerMayReadTrustStores(t *testing.T) {
	doc := stack(t, "prod-platform").Doc
	var actions []string
	doc.Get("data.aws_iam_policy_document").ForEach(func(id, d gjson.Result) bool {
		if strings.HasPrefix(id.String(), "aws-lbc-irsa_permissions") {
			for _, s := range d.Get("statement").Array() {
				actions = append(actions, strs(s.Get("actions"))...)
			}
		}
		return true
	})
	require.NotEmpty(t, actions)
	assert.Contains(t, actions, "elasticloadbalancing:DescribeTrustStores")
}

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// GIVEN the privileged workloads' namespaces THEN each denies ingress by
// default and admits Prometheus to the workload's metrics port (9090, the
// service kit's operations port) and nothing else beyond what the entry
// point needs (the presigner's ALB, marketplace-api calling the gate).
func TestPrivilegedNamespacesAdmitOnlyPrometheusToMetrics(t *testing.T) {
	for ns, stackName := range map[string]string{"cdn-presigner": "prod-edge", "device-enrollment": "prod-edge", "provenance-gate": "prod-marketplace"} {
		pol := policiesIn(stack(t, stackName).Doc, ns)
		require.Contains(t, pol, "default-deny-ingress", ns)
		name := ns
		allow := pol["allow-prometheus-to-"+name]
		require.True(t, allow.Exists(), "%s: %v", ns, pol)
		assert.Equal(t, "9090", allow.Get("spec.ingress.0.ports.0.port").String(), ns)
		assert.Equal(t, []string{"observability/prometheus"}, peerNames(allow), ns)
		assert.Equal(t, name, allow.Get(`spec.pod_selector.match_labels.app\.kubernetes\.io/name`).String(), ns)
		want := 2
		switch ns {
		case "cdn-presigner":
			want = 3 // and the ALB to the presigner's port
		case "provenance-gate":
			want = 3 // and marketplace-api to the gate's API
			api := pol["allow-marketplace-api-to-gate"]
			assert.Equal(t, "8080", api.Get("spec.ingress.0.ports.0.port").String())
			assert.Equal(t, []string{"marketplace/marketplace-api"}, peerNames(api))
		}
		assert.Len(t, pol, want, "%s: %v", ns, pol)
	}
}

// GIVEN the provenance gate's image is pinned THEN the marketplace stack
// installs its chart into provenance-gate by that digest, under the gate's
// role, with the packs bucket and the provenance key; unpinned, no pod.
func TestProvenanceGateIsDeployedByTheInfraStackByDigest(t *testing.T) {
	assert.False(t, stack(t, "prod-marketplace").Doc.Get("resource.helm_release.provenance-gate-release").Exists(), "no digest pinned, no release")
	doc := pinnedStack(t, "prod", "marketplace")
	r, v := releaseValues(t, doc, "provenance-gate")
	assert.Equal(t, "provenance-gate", r.Get("namespace").String())
	assert.Equal(t, "${path.root}/../../../helm/provenance-gate", r.Get("chart").String())
	assert.Equal(t, pinnedDigest, v["image"].(map[string]any)["digest"])
	assert.Regexp(t, `^\$\{aws_iam_role\.provenance-gate-irsa_role_\w+\.arn\}$`, v["serviceAccount"].(map[string]any)["roleArn"])
	env := v["env"].(map[string]any)
	assert.Equal(t, "spatial-packs-spatialprops-prod-ap-southeast-2", env["PACKS_BUCKET"])
	assert.Equal(t, "${aws_kms_key.provenance-key.arn}", env["PROVENANCE_KEY_ID"], "the key the gate's role may sign with")
}
