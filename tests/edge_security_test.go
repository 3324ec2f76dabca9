package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// The synthesized edge stack carries what docs/edge-sync-security.md
// claims: a verified, mapped TLS client listener, the accounts, private-CA
// certificates, the internet-facing NLB and its DNS record.
func TestEdgeSyncIsMutualTLSWithAccounts(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-edge").Doc
		_, v := releaseValues(t, doc, "nats")
		cfg := v["config"].(map[string]any)
		tls := cfg["nats"].(map[string]any)["tls"].(map[string]any)
		assert.Equal(t, true, tls["enabled"], env)
		m := tls["merge"].(map[string]any)
		assert.Equal(t, true, m["verify_and_map"], env)
		ocsp := m["ocsp_peer"].(map[string]any)
		assert.Equal(t, true, ocsp["verify"], env)
		assert.Equal(t, false, ocsp["allow_when_ca_unreachable"], "%s: OCSP fails closed", env)
		assert.Equal(t, true, v["tlsCA"].(map[string]any)["enabled"], env)
		merge := cfg["merge"].(map[string]any)
		assert.Equal(t, "SYS", merge["system_account"], env)
		accounts := merge["accounts"].(map[string]any)
		assert.Contains(t, accounts, "EDGE")
		assert.NotContains(t, accounts, "P2P", "%s: the P2P bridge is off by default", env)
		assert.NotContains(t, doc.Raw, "password", "%s: no password anywhere in the edge stack", env)

		var certs []string
		for _, r := range resources(doc, "kubernetes_manifest") {
			if r.Get("manifest.kind").String() == "Certificate" {
				certs = append(certs, r.Get("manifest.metadata.name").String())
				assert.Equal(t, "private-ca", r.Get("manifest.spec.issuerRef.name").String())
			}
		}
		assert.ElementsMatch(t, []string{"nats-server-tls", "nats-user-dtn-gateway", "nats-user-beacon-rotate",
			"nats-user-security-detector", "nats-user-stream-admin", "nats-user-system"}, certs, env)

		var nlbs []gjson.Result
		for _, s := range resources(doc, "kubernetes_service_v1") {
			if s.Get("spec.type").String() == "LoadBalancer" {
				nlbs = append(nlbs, s)
			}
		}
		require.Len(t, nlbs, 1, "%s: NATS is the only Service with its own load balancer", env)
		a := nlbs[0].Get("metadata.annotations")
		assert.Equal(t, "nats-agents", nlbs[0].Get("metadata.name").String())
		assert.Equal(t, "internet-facing", a.Get(`service\.beta\.kubernetes\.io/aws-load-balancer-scheme`).String())
		assert.Equal(t, "ip", a.Get(`service\.beta\.kubernetes\.io/aws-load-balancer-nlb-target-type`).String())
		rec := doc.Get("resource.aws_route53_record.nats-agents-dns")
		require.True(t, rec.Exists(), env)
		assert.Contains(t, rec.Get("records.0").String(), "kubernetes_service_v1.nats-agents", "%s: the record follows the NLB", env)

		jobs := resources(doc, "kubernetes_job_v1")
		require.Len(t, jobs, 1)
		assert.Contains(t, jobs[0].Raw, "nats-user-stream-admin", "%s: stream-setup authenticates as stream-admin", env)
		assert.Contains(t, jobs[0].Raw, "tls://nats.edge-sync.svc:4222", env)
	}
}
