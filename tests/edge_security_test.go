package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

// The synthesized edge stack carries what docs/edge-sync-security.md
// claims: NATS in edge-nats; an in-cluster listener that trusts the service
// CA only, an agents' listener that trusts the device CA only, routes with
// TLS and route authorization; one static user (the auth callout); the
// certificates split between edge-nats (privileged identities) and
// edge-sync (app users); the internet-facing NLB and its DNS record.
func TestEdgeSyncIsMutualTLSWithAccounts(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-edge").Doc
		r, v := releaseValues(t, doc, "nats")
		assert.Equal(t, naming.NamespaceNATS, r.Get("namespace").String(), "%s: NATS runs where no deploy role reaches", env)
		cfg := v["config"].(map[string]any)
		tls := cfg["nats"].(map[string]any)["tls"].(map[string]any)
		assert.Equal(t, true, tls["enabled"], env)
		m := tls["merge"].(map[string]any)
		assert.Equal(t, true, m["verify_and_map"], env)
		assert.Equal(t, stacks.NATSCADir+"/"+stacks.ServiceCAAnchorKey, m["ca_file"], "%s: the client port trusts the service CA only", env)
		ws := cfg["websocket"].(map[string]any)
		assert.Equal(t, stacks.NATSAgentsPort, ws["port"], env)
		wm := ws["tls"].(map[string]any)["merge"].(map[string]any)
		assert.Equal(t, stacks.NATSCADir+"/"+stacks.DeviceCAAnchorKey, wm["ca_file"], "%s: the agents' listener trusts the device CA only", env)
		assert.Equal(t, true, wm["verify"], env)
		for _, mm := range []map[string]any{m, wm} {
			ocsp := mm["ocsp_peer"].(map[string]any)
			assert.Equal(t, true, ocsp["verify"], env)
			assert.Equal(t, false, ocsp["allow_when_ca_unreachable"], "%s: OCSP fails closed", env)
		}
		ca := v["tlsCA"].(map[string]any)
		assert.Equal(t, stacks.NATSTrustAnchors, ca["configMapName"], "%s: anchors from the ConfigMap, never cert-manager's ca.crt (the root, which would trust both CAs)", env)
		cluster := cfg["cluster"].(map[string]any)
		if env != "dev" {
			assert.Equal(t, stacks.NATSRouteTLSSecret, cluster["tls"].(map[string]any)["secretName"], "%s routes are TLS", env)
			assert.Equal(t, edge.RouteURISAN, cluster["merge"].(map[string]any)["authorization"].(map[string]any)["user"], "%s routes are authorized", env)
		} else {
			assert.Equal(t, false, cluster["enabled"], "%s: one server, no routes", env)
		}
		merge := cfg["merge"].(map[string]any)
		assert.Equal(t, "SYS", merge["system_account"], env)
		accounts := merge["accounts"].(map[string]any)
		assert.Contains(t, accounts, "EDGE")
		assert.NotContains(t, accounts, "P2P", "%s: the P2P bridge is off by default", env)
		callout := merge["authorization"].(map[string]any)["auth_callout"].(map[string]any)
		assert.Equal(t, stacks.NATSAuthIssuerToken, callout["issuer"], "%s: the issuer comes from the Secret at start", env)
		assert.NotContains(t, doc.Raw, "password", "%s: no password anywhere in the edge stack", env)
		assert.NotRegexp(t, `"S[AU][A-Z2-7]{56}"`, doc.Raw, "%s: no nkey seed in the synthesized JSON", env)

		certs := map[string]string{}
		for _, r := range resources(doc, "kubernetes_manifest") {
			if r.Get("manifest.kind").String() == "Certificate" {
				certs[r.Get("manifest.metadata.name").String()] = r.Get("manifest.metadata.namespace").String()
				assert.Equal(t, "service-ca", r.Get("manifest.spec.issuerRef.name").String())
				assert.Equal(t, "AWSPCAIssuer", r.Get("manifest.spec.issuerRef.kind").String())
			}
		}
		want := map[string]string{
			"nats-server-tls": "edge-nats", "nats-user-stream-admin": "edge-nats", "nats-user-system": "edge-nats", "nats-user-auth-callout": "edge-nats",
			"nats-user-dtn-gateway": "edge-sync", "nats-user-beacon-rotate": "edge-sync", "nats-user-security-detector": "edge-sync",
		}
		if env != "dev" {
			want["nats-route-tls"] = "edge-nats"
		}
		assert.Equal(t, want, certs, env)

		// The NATS agents' NLB is the edge stack's only LoadBalancer Service
		// (the ALB backends are ClusterIP Services).
		var svcs []gjson.Result
		for _, s := range resources(doc, "kubernetes_service_v1") {
			if s.Get("spec.type").String() == "LoadBalancer" {
				svcs = append(svcs, s)
			}
		}
		require.Len(t, svcs, 1, env)
		assert.Equal(t, "nats-agents", svcs[0].Get("metadata.name").String(), env)
		assert.Equal(t, naming.NamespaceNATS, svcs[0].Get("metadata.namespace").String(), env)
		assert.Equal(t, "8443", svcs[0].Get("spec.port.0.target_port").String(), "%s: the NLB reaches the agents' listener only", env)
		a := svcs[0].Get("metadata.annotations")
		assert.Equal(t, "internet-facing", a.Get(`service\.beta\.kubernetes\.io/aws-load-balancer-scheme`).String())
		assert.Equal(t, "ip", a.Get(`service\.beta\.kubernetes\.io/aws-load-balancer-nlb-target-type`).String())
		var agentsRecord gjson.Result
		for _, r := range resources(doc, "aws_route53_record") {
			if strings.HasPrefix(r.Get("name").String(), "edge.") {
				agentsRecord = r
			}
		}
		require.True(t, agentsRecord.Exists(), "%s: the agents' DNS record", env)
		assert.Contains(t, agentsRecord.Get("records.0").String(), "kubernetes_service_v1.nats-agents", "%s: the record follows the NLB", env)
	}
}

// GIVEN an env with the callout's image pinned THEN the edge stack runs the
// callout in edge-nats with no Kubernetes or AWS credentials, only the seed
// key of its Secret, and applies the streams as stream-admin on its own inbox.
func TestNATSAuthCalloutAndStreamSetupWhenPinned(t *testing.T) {
	doc := pinnedStack(t, "dev", "edge")
	d := resourceNamed(t, doc, "kubernetes_deployment_v1", stacks.NATSAuthApp)
	assert.Equal(t, naming.NamespaceNATS, d.Get("metadata.namespace").String())
	pod := d.Get("spec.template.spec")
	assert.False(t, pod.Get("automount_service_account_token").Bool(), "no Kubernetes API token")
	c := pod.Get("container.0")
	assert.Contains(t, c.Get("image").String(), "/spatialprops/nats-auth@"+pinnedDigest, "the pinned digest")
	assert.Contains(t, c.Get("image").String(), ".dkr.ecr.ap-southeast-2.amazonaws.com/")
	items := pod.Get(`volume.#(name=="issuer").secret.items`).Array()
	require.Len(t, items, 1)
	assert.Equal(t, stacks.NATSAuthSeedKey, items[0].Get("key").String(), "only the seed is mounted")
	assert.Equal(t, stacks.NATSUserSecret(edge.UserAuthCallout), pod.Get(`volume.#(name=="client-cert").secret.secret_name`).String())

	jobs := resources(doc, "kubernetes_job_v1")
	require.Len(t, jobs, 1)
	assert.Contains(t, jobs[0].Get("metadata.namespace").String(), "kubernetes_namespace_v1.nats-namespace", "in edge-nats, after the namespace")
	assert.Contains(t, jobs[0].Raw, "nats-user-stream-admin", "stream-setup authenticates as stream-admin")
	assert.Contains(t, jobs[0].Raw, "tls://nats.edge-nats.svc:4222")
	assert.Contains(t, jobs[0].Raw, edge.ServiceInboxPrefix(edge.UserStreamAdmin), "replies on stream-admin's own inbox")
	assert.Contains(t, jobs[0].Get("depends_on").String(), "kubernetes_deployment_v1.nats-auth", "streams are applied once the callout answers")
	assert.Regexp(t, `@sha256:[0-9a-f]{64}$`, jobs[0].Get("spec.template.spec.container.0.image").String(), "the image holding the stream-admin key is pinned by digest")

	// without a pinned callout nothing can authenticate: no Job waits on it
	assert.Empty(t, resources(stack(t, "dev-edge").Doc, "kubernetes_job_v1"))
	assert.Contains(t, stack(t, "dev-edge").Doc.Get("output.unpinned_workloads.value").String(), "nats-auth")
}
