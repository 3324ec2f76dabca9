package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// named returns the resources of typ in doc keyed by their Terraform name.
func named(doc gjson.Result, typ string) map[string]gjson.Result {
	out := map[string]gjson.Result{}
	doc.Get("resource." + typ).ForEach(func(k, v gjson.Result) bool {
		out[k.String()] = v
		return true
	})
	return out
}

func crlHost(env string) string {
	if env == "prod" {
		return "crl.spatial.properties"
	}
	return "crl." + env + ".spatial.properties"
}

// GIVEN every env's identity stack THEN the PKI bucket stays private and
// CloudFront, as this stack's CRL distribution only, may read the crl/
// prefix and nothing else: a relying party gets the CRL, nobody gets the
// rest of the bucket.
func TestPKIBucketGivesCloudFrontOnlyTheCRLs(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			doc := stack(t, env+"-identity").Doc
			bucketName := "spatial-pki-spatialprops-" + env + "-ap-southeast-2"
			var bucketRef string
			for name, b := range named(doc, "aws_s3_bucket") {
				if b.Get("bucket").String() == bucketName {
					bucketRef = "${aws_s3_bucket." + name + ".id}"
				}
			}
			require.NotEmpty(t, bucketRef, "the PKI bucket")

			// private: all four public-access-block switches on, no ACL, no website
			pab := resources(doc, "aws_s3_bucket_public_access_block")
			require.Len(t, pab, 1)
			assert.Equal(t, bucketRef, pab[0].Get("bucket").String())
			for _, k := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
				assert.True(t, pab[0].Get(k).Bool(), "%s must stay on: the CRL is served by CloudFront, not by a public bucket", k)
			}
			assert.Empty(t, resources(doc, "aws_s3_bucket_acl"))
			assert.Empty(t, resources(doc, "aws_s3_bucket_website_configuration"))

			// one bucket policy (a second would overwrite it), with the CA's grant in the same document
			policies := resources(doc, "aws_s3_bucket_policy")
			require.Len(t, policies, 1, "one policy document per bucket")
			var pabName string
			for name := range named(doc, "aws_s3_bucket_public_access_block") {
				pabName = "aws_s3_bucket_public_access_block." + name
			}
			assert.Equal(t, []string{pabName}, strs(policies[0].Get("depends_on")), "the public access block is in place before any policy")
			assert.True(t, strings.HasPrefix(policies[0].Get("bucket").String(), strings.TrimSuffix(bucketRef, ".id}")+"."), "the policy is the PKI bucket's")
			docName := strings.TrimSuffix(strings.TrimPrefix(policies[0].Get("policy").String(), "${data.aws_iam_policy_document."), ".json}")
			statements := doc.Get("data.aws_iam_policy_document." + docName + ".statement").Array()
			sids := map[string]gjson.Result{}
			for _, st := range statements {
				sids[st.Get("sid").String()] = st
				if st.Get("effect").String() == "Deny" {
					continue
				}
				for _, p := range st.Get("principals").Array() {
					assert.NotContains(t, strs(p.Get("identifiers")), "*", "%s: no anonymous principal on the PKI bucket", st.Get("sid"))
					if grants(strs(p.Get("identifiers")), "cloudfront.amazonaws.com") {
						assert.Equal(t, "AllowCloudFrontToReadCRLsOnly", st.Get("sid").String(), "the only CloudFront grant")
					}
				}
			}
			read, ok := sids["AllowCloudFrontToReadCRLsOnly"]
			require.True(t, ok, "CloudFront's read grant")
			assert.Equal(t, []string{"s3:GetObject"}, strs(read.Get("actions")))
			assert.Equal(t, []string{strings.TrimSuffix(bucketRef, ".id}") + ".arn}/crl/*"}, strs(read.Get("resources")), "the crl/ prefix the CA writes, not the CA bundle")
			require.Len(t, read.Get("condition").Array(), 1)
			assert.Equal(t, "StringEquals", read.Get("condition.0.test").String())
			assert.Equal(t, "AWS:SourceArn", read.Get("condition.0.variable").String(), "another account's distribution must not read through its own OAC")
			var distName string
			for name := range named(doc, "aws_cloudfront_distribution") {
				distName = name
			}
			require.NotEmpty(t, distName)
			assert.Equal(t, []string{"${aws_cloudfront_distribution." + distName + ".arn}"}, strs(read.Get("condition.0.values")), "pinned to this distribution")
			assert.Equal(t, "Deny", sids["DenyInsecureTransport"].Get("effect").String())
			assert.Contains(t, sids, "AllowThisPrivateCAToPublishCRLs", "the CA keeps its write grant in the same document")

			// the key lets CloudFront decrypt only for this account's distributions (OAC + SSE-KMS gives 403 otherwise)
			dec := policyStatement(t, doc, "AllowCloudFrontToDecryptCRLs")
			assert.Equal(t, []string{"kms:Decrypt"}, strs(dec.Get("actions")))
			conds := map[string][]string{}
			for _, c := range dec.Get("condition").Array() {
				conds[c.Get("test").String()+" "+c.Get("variable").String()] = strs(c.Get("values"))
			}
			assert.Equal(t, map[string][]string{
				"StringEquals AWS:SourceAccount": {"${data.aws_caller_identity.caller.account_id}"},
				"ArnLike AWS:SourceArn":          {"arn:aws:cloudfront::${data.aws_caller_identity.caller.account_id}:distribution/*"},
			}, conds)
		})
	}
}

// GIVEN every env's identity stack THEN the host in the CA's certificates
// (custom_cname) is the distribution's alias, with a us-east-1 certificate
// and alias records, and the distribution serves the bucket the CA writes
// to: a CDP that does not resolve makes every CRL check fail.
func TestCRLHostServesWhatTheCAPublishes(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			doc := stack(t, env+"-identity").Doc
			host := crlHost(env)
			cas := named(doc, "aws_acmpca_certificate_authority")
			require.Len(t, cas, 2, "the device and service subordinates; the root is the KMS key")
			ca := []gjson.Result{cas["device-ca"]}
			assert.False(t, cas["service-ca"].Get("revocation_configuration").Exists(), "the service CA publishes no CRL")
			crl := ca[0].Get("revocation_configuration.crl_configuration")
			assert.Equal(t, host, crl.Get("custom_cname").String())
			assert.Equal(t, "spatial-pki-spatialprops-"+env+"-ap-southeast-2", crl.Get("s3_bucket_name").String())
			var policy string
			for name := range named(doc, "aws_s3_bucket_policy") {
				policy = "aws_s3_bucket_policy." + name
			}
			assert.Contains(t, strs(ca[0].Get("depends_on")), policy, "ACM PCA checks its write access when the CA is created")

			dist := resources(doc, "aws_cloudfront_distribution")
			require.Len(t, dist, 1)
			d := dist[0]
			assert.Equal(t, []string{host}, strs(d.Get("aliases")))
			assert.Regexp(t, `^\$\{aws_s3_bucket\.[\w-]+\.bucket_regional_domain_name\}$`, d.Get("origin.0.domain_name").String(),
				"the regional endpoint, or OAC gives 403 outside us-east-1")
			assert.Equal(t, "", d.Get("origin.0.origin_path").String(), "the CDP path /crl/<ca-id>.crl is the object key")
			assert.Equal(t, "allow-all", d.Get("default_cache_behavior.viewer_protocol_policy").String(), "RFC 5280 CDPs are http URIs")
			assert.Equal(t, []string{"GET", "HEAD"}, strs(d.Get("default_cache_behavior.allowed_methods")))

			cert := resources(doc, "aws_acm_certificate")
			require.Len(t, cert, 1)
			assert.Equal(t, "aws.us_east_1", cert[0].Get("provider").String(), "CloudFront only takes us-east-1 certificates")
			assert.Equal(t, host, cert[0].Get("domain_name").String())
			assert.Equal(t, "DNS", cert[0].Get("validation_method").String())
			var types []string
			for _, r := range resources(doc, "aws_route53_record") {
				if r.Get("alias").Exists() {
					types = append(types, r.Get("type").String())
					assert.Equal(t, host, r.Get("name").String())
				}
			}
			assert.ElementsMatch(t, []string{"A", "AAAA"}, types)
			assert.Contains(t, doc.Get("output.crl_url.value").String(), "http://"+host+"/crl/")
			assert.Empty(t, resources(doc, "aws_cloudfront_response_headers_policy"))
		})
	}
}

// GIVEN the CI roles THEN the deploy role can build <env>-identity (its CAs
// by tag, the CA bundle, the PKI key, the trust store and the CRL host's
// records) but issues no certificate and installs no CA certificate (the
// PKI ceremony does, with the offline root key), and the plan role can
// refresh it while staying read-only: it can neither issue nor revoke.
func TestCIRolesCoverTheIdentityStack(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			doc := stack(t, env+"-cicd").Doc
			pki := "arn:aws:s3:::spatial-pki-spatialprops-" + env + "-ap-southeast-2"
			identity := policyDoc(t, doc, "gha-infra-deploy-identity-document")
			bySid := map[string]gjson.Result{}
			for _, st := range identity.Get("statement").Array() {
				bySid[st.Get("sid").String()] = st
			}
			create := bySid["CreateCATaggedForThisEnv"]
			assert.Equal(t, []string{"acm-pca:CreateCertificateAuthority", "acm-pca:TagCertificateAuthority"}, strs(create.Get("actions")))
			test, vals := condition(create, "aws:RequestTag/Environment")
			assert.Equal(t, "StringEquals", test, "a CA is created tagged with this env or not at all")
			assert.Equal(t, []string{env}, vals)

			change := bySid["ChangeThisEnvsCA"]
			assert.Equal(t, []string{"arn:aws:acm-pca:ap-southeast-2:${data.aws_caller_identity.caller.account_id}:certificate-authority/*"}, strs(change.Get("resources")))
			_, vals = condition(change, "aws:ResourceTag/Environment")
			assert.Equal(t, []string{env}, vals, "another env's CA is out of reach")
			for _, a := range strs(change.Get("actions")) {
				assert.NotContains(t, []string{"acm-pca:IssueCertificate", "acm-pca:RevokeCertificate", "acm-pca:ImportCertificateAuthorityCertificate"}, a)
			}
			for sid, st := range bySid {
				assert.False(t, grants(strs(st.Get("actions")), "acm-pca:IssueCertificate"), "%s: CI issues no certificate", sid)
			}

			assert.Equal(t, []string{pki + "/trust/*"}, strs(bySid["TheCABundle"].Get("resources")), "objects under trust/ only, never the CRLs")
			_, vals = condition(bySid["UseThePKIKey"], "kms:ResourceAliases")
			assert.Equal(t, []string{"alias/spatialprops-" + env + "-pki"}, vals)
			assert.Equal(t, []string{"arn:aws:elasticloadbalancing:ap-southeast-2:${data.aws_caller_identity.caller.account_id}:truststore/spatialprops-" + env + "-devices/*"},
				strs(bySid["ThisEnvsTrustStore"].Get("resources")))

			// the guardrails hold whatever the allows grow into
			guard := map[string]gjson.Result{}
			for _, st := range policyDoc(t, doc, "gha-infra-deploy-guardrails-document").Get("statement").Array() {
				guard[st.Get("sid").String()] = st
			}
			assert.Equal(t, "Deny", guard["NoRevocations"].Get("effect").String())
			assert.Equal(t, []string{"acm-pca:RevokeCertificate"}, strs(guard["NoRevocations"].Get("actions")))
			assert.Equal(t, "Deny", guard["NoCertificates"].Get("effect").String())
			assert.ElementsMatch(t, []string{"acm-pca:IssueCertificate", "acm-pca:ImportCertificateAuthorityCertificate"}, strs(guard["NoCertificates"].Get("actions")))
			assert.False(t, guard["NoCertificates"].Get("condition").Exists(), "no template is an exception")

			// grants: the PKI bucket by name (inline), the CRL host's records (the
			// CDN managed policy)
			inline := map[string]gjson.Result{}
			for _, st := range policyDoc(t, doc, "gha-infra-deploy_permissions").Get("statement").Array() {
				inline[st.Get("sid").String()] = st
			}
			assert.Contains(t, strs(inline["ThisEnvsBuckets"].Get("resources")), pki)
			var records gjson.Result
			for _, st := range policyDoc(t, doc, "gha-infra-deploy-cdn-document").Get("statement").Array() {
				if st.Get("sid").String() == "ThisEnvsRecords" {
					records = st
				}
			}
			_, names := condition(records, "route53:ChangeResourceRecordSetsNormalizedRecordNames")
			assert.Subset(t, names, []string{crlHost(env), "*." + crlHost(env)}, "alias and certificate validation records")

			// the plan role refreshes the CA and trust store, and changes nothing
			var planAllows []string
			for _, st := range policyDoc(t, doc, "gha-infra-plan_permissions").Get("statement").Array() {
				if st.Get("effect").String() != "Deny" {
					planAllows = append(planAllows, strs(st.Get("actions"))...)
				}
			}
			for _, need := range []string{"acm-pca:DescribeCertificateAuthority", "acm-pca:GetCertificateAuthorityCertificate",
				"acm-pca:GetCertificateAuthorityCsr", "acm-pca:GetCertificate", "acm-pca:ListTags",
				"elasticloadbalancing:DescribeTrustStores", "elasticloadbalancing:DescribeTags", "cloudfront:ListCachePolicies"} {
				assert.True(t, grants(planAllows, need), "plan refreshes with %s", need)
			}
			for _, never := range []string{"acm-pca:IssueCertificate", "acm-pca:RevokeCertificate", "acm-pca:CreateCertificateAuthority",
				"acm-pca:UpdateCertificateAuthority", "acm-pca:ImportCertificateAuthorityCertificate", "elasticloadbalancing:CreateTrustStore",
				"s3:PutObject", "kms:GenerateDataKey"} {
				assert.False(t, grants(planAllows, never), "the plan role must not %s", never)
			}
		})
	}
}

func grants(patterns []string, action string) bool {
	for _, p := range patterns {
		if iamMatches(p, action) {
			return true
		}
	}
	return false
}
