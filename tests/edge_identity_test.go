package tests

import (
	"os"
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

// GIVEN every env WHEN the edge stack is synthesized THEN the ClusterIssuer
// every certificate names is the identity stack's CA: a wrong ARN would
// have the issuer sign with no CA (Ready=False) and every NATS
// certificate would stop renewing.
func TestPrivateCAClusterIssuerIsTheIdentityCA(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-edge").Doc
		var issuers []gjson.Result
		var issuerID string
		doc.Get("resource.kubernetes_manifest").ForEach(func(id, r gjson.Result) bool {
			if r.Get("manifest.kind").String() == "AWSPCAClusterIssuer" {
				issuers = append(issuers, r)
				issuerID = id.String()
			}
			return true
		})
		require.Len(t, issuers, 1, env)
		m := issuers[0].Get("manifest")
		assert.Equal(t, "awspca.cert-manager.io/v1beta1", m.Get("apiVersion").String())
		assert.Equal(t, "private-ca", m.Get("metadata.name").String(), "%s: the name every Certificate's issuerRef uses", env)
		assert.Equal(t, "ap-southeast-2", m.Get("spec.region").String(), env)
		from, expr := fromStack(t, m.Get("spec.arn").String())
		assert.Equal(t, env+"-identity", from)
		assert.Equal(t, "${aws_acmpca_certificate_authority.ca.arn}", expr, "%s: the issuer signs with the identity stack's root CA", env)
		assert.False(t, m.Get("spec.secretRef").Exists(), "%s: no static AWS keys; the issuer uses its IRSA role", env)
		assert.Equal(t, "Ready", issuers[0].Get("wait.condition.0.type").String(), "%s: certificates wait for a Ready issuer", env)

		// Every Certificate is requested after the issuer exists.
		for _, r := range resources(doc, "kubernetes_manifest") {
			if r.Get("manifest.kind").String() != "Certificate" {
				continue
			}
			assert.Contains(t, strs(r.Get("depends_on")), "kubernetes_manifest."+issuerID, "%s: %s", env, r.Get("manifest.metadata.name"))
			spec := r.Get("manifest.spec")
			assert.Equal(t, "720h", spec.Get("duration").String(), "certificates live 30 days at most")
			assert.Equal(t, "240h", spec.Get("renewBefore").String(), "renewal starts with a third of the lifetime left")
		}
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

		// cert-manager's controller is the account the issuer chart lets
		// approve awspca requests; otherwise every request stays unapproved.
		_, cm := releaseValues(t, platform, "cert-manager")
		approver := v["approverRole"].(map[string]any)
		assert.Equal(t, true, approver["enabled"])
		assert.Equal(t, cm["serviceAccount"].(map[string]any)["name"], approver["serviceAccountName"], env)
		assert.Equal(t, "cert-manager", approver["namespace"], env)
		assert.Equal(t, false, v["disableApprovedCheck"], "%s: the issuer signs only approved requests", env)
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
// device certificate against the identity stack's trust store, under its
// own DNS name: a listener without mTLS, or in passthrough mode, would
// let any client on the internet reach the presigner.
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
		// so expired device certificates are refused), and the trust store.
		mtls := regexp.MustCompile(`^\$\{jsonencode\(\[\{"mode" = "verify", "port" = 443, "trustStore" = (data\.terraform_remote_state\.[^ }]+)\}\]\)\}$`).
			FindStringSubmatch(ann("mutual-authentication"))
		require.NotNil(t, mtls, "%s: %s", env, ann("mutual-authentication"))
		from, expr := fromStack(t, "${"+mtls[1]+"}")
		assert.Equal(t, env+"-identity", from)
		assert.Equal(t, "${aws_lb_trust_store.device-trust-store.arn}", expr, "%s: the device trust store built from the private CA", env)

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

// The presigner runs the same pinned placeholder as the other edge
// services until its image exists: one digest to re-check, not two.
func TestPresignerRunsThePinnedPlaceholder(t *testing.T) {
	dockerfile, err := os.ReadFile("../services/edge-placeholder/Dockerfile")
	require.NoError(t, err)
	from := regexp.MustCompile(`(?m)^FROM (\S+)`).FindStringSubmatch(string(dockerfile))
	require.NotNil(t, from)
	doc := stack(t, "prod-edge").Doc
	deps := resources(doc, "kubernetes_deployment_v1")
	require.Len(t, deps, 1)
	c := deps[0].Get("spec.template.spec.container.0")
	assert.Equal(t, from[1], c.Get("image").String())
	assert.Contains(t, c.Get("image").String(), "@sha256:", "pinned by digest")
	assert.Equal(t, "false", c.Get("security_context.allow_privilege_escalation").String())
	assert.Equal(t, "true", deps[0].Get("spec.template.spec.security_context.run_as_non_root").String())
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
