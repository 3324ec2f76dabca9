package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// policyDocFor returns the aws_iam_policy_document a resource's policy
// attribute references ("${data.aws_iam_policy_document.<id>.json}").
func policyDocFor(t *testing.T, doc gjson.Result, ref string) gjson.Result {
	t.Helper()
	id := strings.TrimSuffix(strings.TrimPrefix(ref, "${data.aws_iam_policy_document."), ".json}")
	d := doc.Get("data.aws_iam_policy_document." + gjson.Escape(id))
	require.True(t, d.Exists(), "policy %s not found", ref)
	return d
}

// TestPublishedPrefixDenyIsInTheOnePacksBucketPolicy proves the provenance
// gate: the packs bucket has exactly one bucket policy (in the cdn stack,
// and none anywhere else), and it denies s3:PutObject under published/ to
// every principal whose ARN is not the provenance gate's role.
func TestPublishedPrefixDenyIsInTheOnePacksBucketPolicy(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			var policies []gjson.Result
			var owners []string
			for _, s := range allStacks(t) {
				if !strings.HasPrefix(s.ID, env+"-") {
					continue
				}
				for _, p := range resources(s.Doc, "aws_s3_bucket_policy") {
					if strings.Contains(p.Get("bucket").String(), "packs") {
						policies = append(policies, p)
						owners = append(owners, s.ID)
					}
				}
			}
			require.Len(t, policies, 1, "one packs bucket policy, or the later one silently replaces the other (%v)", owners)
			assert.Equal(t, env+"-cdn", owners[0])
			doc := policyDocFor(t, stack(t, env+"-cdn").Doc, policies[0].Get("policy").String())
			var deny gjson.Result
			doc.Get("statement").ForEach(func(_, st gjson.Result) bool {
				if st.Get("sid").String() == "OnlyTheProvenanceGatePublishes" {
					deny = st
				}
				return true
			})
			require.True(t, deny.Exists(), "the packs bucket policy carries the published/ deny")
			assert.Equal(t, "Deny", deny.Get("effect").String())
			assert.Equal(t, []any{"s3:PutObject"}, deny.Get("actions").Value())
			assert.True(t, strings.HasSuffix(deny.Get("resources.0").String(), "/published/*"))
			assert.Equal(t, "*", deny.Get("principals.0.identifiers.0").String(), "every principal, including admins")
			cond := deny.Get("condition.0")
			assert.Equal(t, "ArnNotEquals", cond.Get("test").String())
			assert.Equal(t, "aws:PrincipalArn", cond.Get("variable").String())
			assert.True(t, strings.HasSuffix(cond.Get("values.0").String(), ":role/workload/spatialprops-"+env+"-irsa-provenance-gate"), "aws:PrincipalArn carries the role's path")
			// The exempted ARN is exactly the role the marketplace stack creates.
			m := stack(t, env+"-marketplace").Doc
			var gateRole bool
			for _, r := range resources(m, "aws_iam_role") {
				if r.Get("name").String() == "spatialprops-"+env+"-irsa-provenance-gate" {
					gateRole = true
				}
			}
			assert.True(t, gateRole, "the marketplace stack creates the exempted role")
		})
	}
}

// rolePolicy returns the inline policy JSON of the role named name.
func rolePolicy(t *testing.T, doc gjson.Result, name string) []map[string]any {
	t.Helper()
	var roleID string
	doc.Get("resource.aws_iam_role").ForEach(func(id, r gjson.Result) bool {
		if r.Get("name").String() == name {
			roleID = id.String()
		}
		return true
	})
	require.NotEmpty(t, roleID, "role %s", name)
	var out []map[string]any
	doc.Get("resource.aws_iam_role_policy").ForEach(func(_, p gjson.Result) bool {
		if strings.Contains(p.Get("role").String(), "aws_iam_role."+roleID+".") {
			pd := policyDocFor(t, doc, p.Get("policy").String())
			pd.Get("statement").ForEach(func(_, st gjson.Result) bool {
				var m map[string]any
				require.NoError(t, json.Unmarshal([]byte(st.Raw), &m))
				out = append(out, m)
				return true
			})
		}
		return true
	})
	require.NotEmpty(t, out, "role %s has an inline policy", name)
	return out
}

func actionsOf(sts []map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, st := range sts {
		for _, a := range st["actions"].([]any) {
			out[a.(string)] = true
		}
	}
	return out
}

// TestMarketplaceLeastPrivilege: only the gate signs; the api only sends
// to the billing queue, verifies, and writes staging/; the consumer only
// receives and deletes.
func TestMarketplaceLeastPrivilege(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		doc := stack(t, env+"-marketplace").Doc
		p := "spatialprops-" + env + "-irsa-"
		api := rolePolicy(t, doc, p+"marketplace-api")
		gate := rolePolicy(t, doc, p+"provenance-gate")
		consumer := "billing-stub"
		if env != "dev" {
			consumer = "billing-connector"
		}
		cons := rolePolicy(t, doc, p+consumer)

		assert.True(t, actionsOf(gate)["kms:Sign"], "the gate signs")
		for name, sts := range map[string][]map[string]any{"api": api, "consumer": cons} {
			assert.False(t, actionsOf(sts)["kms:Sign"], "%s %s must not sign attestations", env, name)
		}
		a := actionsOf(api)
		assert.True(t, a["sqs:SendMessage"] && a["kms:Verify"] && a["kms:GetPublicKey"])
		for _, forbidden := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:PurgeQueue", "s3:DeleteObject"} {
			assert.False(t, a[forbidden], "%s api may not %s", env, forbidden)
		}
		for _, st := range api {
			if st["sid"] == "UploadCandidatePacks" {
				assert.Regexp(t, `/staging/\*$`, st["resources"].([]any)[0], "the api writes only to staging/")
			}
		}
		c := actionsOf(cons)
		assert.True(t, c["sqs:ReceiveMessage"] && c["sqs:DeleteMessage"])
		assert.False(t, c["sqs:SendMessage"], "the consumer cannot forge billing events")
	}
}

// TestMarketplaceResources checks the synthesized pieces per environment.
func TestMarketplaceResources(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-marketplace").Doc
		// queues under the billing CMK
		names := map[string]string{}
		for _, q := range resources(doc, "aws_sqs_queue") {
			names[q.Get("name").String()] = q.Get("kms_master_key_id").String()
		}
		assert.Contains(t, names, "spatialprops-"+env+"-billing-events")
		assert.Contains(t, names, "spatialprops-"+env+"-billing-events-dlq")
		for n, key := range names {
			assert.Contains(t, key, "aws_kms_key.billing-key", "%s is encrypted with the billing CMK", n)
		}
		var aliases []string
		for _, a := range resources(doc, "aws_kms_alias") {
			aliases = append(aliases, a.Get("name").String())
		}
		assert.Contains(t, aliases, "alias/spatialprops-"+env+"-billing")
		assert.Contains(t, aliases, "alias/spatialprops-"+env+"-provenance")
		key := doc.Get("resource.aws_kms_key.provenance-key")
		assert.Equal(t, "ECC_NIST_P256", key.Get("customer_master_key_spec").String())
		assert.Equal(t, "SIGN_VERIFY", key.Get("key_usage").String())
		assert.Equal(t, env != "dev", key.Get("lifecycle.prevent_destroy").Bool(), "signing key protected outside dev")

		ing := resources(doc, "kubernetes_ingress_v1")
		require.Len(t, ing, 1)
		host := "market." + env + ".spatial.properties"
		if env == "prod" {
			host = "market.spatial.properties"
		}
		assert.Equal(t, host, ing[0].Get("spec.rule.0.host").String())
		ann := ing[0].Get("metadata.annotations")
		assert.Equal(t, "internet-facing", ann.Get(gjson.Escape("alb.ingress.kubernetes.io/scheme")).String())
		assert.NotEmpty(t, ann.Get(gjson.Escape("alb.ingress.kubernetes.io/certificate-arn")).String())
		waf := ann.Get(gjson.Escape("alb.ingress.kubernetes.io/wafv2-acl-arn"))
		acls := resources(doc, "aws_wafv2_web_acl")
		if env == "dev" {
			assert.False(t, waf.Exists(), "dev follows cdn.enableWaf=false")
			assert.Empty(t, acls)
		} else {
			assert.True(t, waf.Exists())
			require.Len(t, acls, 1)
			assert.Equal(t, "REGIONAL", acls[0].Get("scope").String())
		}
		var record bool
		for _, r := range resources(doc, "aws_route53_record") {
			if r.Get("name").String() == host {
				record = true
			}
		}
		assert.True(t, record, "DNS for %s", host)

		// billing consumer: stub in dev, ExternalSecret for the connector elsewhere
		manifests := resources(doc, "kubernetes_manifest")
		if env == "dev" {
			assert.Empty(t, manifests, "dev has no connector secret")
		} else {
			var es gjson.Result
			for _, m := range manifests {
				if m.Get("manifest.kind").String() == "ExternalSecret" {
					es = m
				}
			}
			require.True(t, es.Exists())
			assert.Equal(t, "spatialprops/"+env+"/billing-connector", es.Get("manifest.spec.dataFrom.0.extract.key").String())
		}
	}
}
