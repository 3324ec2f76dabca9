package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/spatialprops/spatialprops-infra/internal/tfjson"
)

// bucketParts indexes a stack's bucket-scoped resources by bucket name, so
// tests can ask "what encryption does spatial-packs-... have?".
type bucketParts struct {
	doc gjson.Result
	ref map[string]string // bucket name -> "${aws_s3_bucket.<id>.id}"
}

func newBucketParts(t *testing.T, doc gjson.Result) bucketParts {
	t.Helper()
	p := bucketParts{doc: doc, ref: map[string]string{}}
	doc.Get("resource.aws_s3_bucket").ForEach(func(id, b gjson.Result) bool {
		p.ref[b.Get("bucket").String()] = fmt.Sprintf("${aws_s3_bucket.%s.id}", id.String())
		return true
	})
	return p
}

// of returns the resource of type typ attached to bucket name.
func (p bucketParts) of(t *testing.T, typ, name string) gjson.Result {
	t.Helper()
	ref, ok := p.ref[name]
	require.True(t, ok, "no bucket %s", name)
	for _, r := range resources(p.doc, typ) {
		if r.Get("bucket").String() == ref {
			return r
		}
	}
	t.Fatalf("bucket %s has no %s", name, typ)
	return gjson.Result{}
}

func dataBucket(kind, env string) string {
	return fmt.Sprintf("spatial-%s-spatialprops-%s-ap-southeast-2", kind, env)
}

func TestStorageBuckets(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			doc := stack(t, env+"-storage").Doc
			parts := newBucketParts(t, doc)
			// exact names, as the guide's validation commands expect
			var names []string
			for n := range parts.ref {
				names = append(names, n)
			}
			// and Loki's and Tempo's (telemetry_storage_test.go)
			assert.ElementsMatch(t, []string{dataBucket("packs", env), dataBucket("stac", env), dataBucket("logs", env),
				dataBucket("loki", env), dataBucket("tempo", env)}, names)

			for _, kind := range []string{"packs", "stac", "logs"} {
				name := dataBucket(kind, env)
				pab := parts.of(t, "aws_s3_bucket_public_access_block", name)
				for _, k := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
					assert.True(t, pab.Get(k).Bool(), "%s %s", name, k)
				}
				assert.Equal(t, "Enabled", parts.of(t, "aws_s3_bucket_versioning", name).Get("versioning_configuration.status").String())
				sse := parts.of(t, "aws_s3_bucket_server_side_encryption_configuration", name).Get("rule.0")
				if kind == "logs" {
					// S3 cannot deliver server access logs to SSE-KMS buckets
					assert.Equal(t, "AES256", sse.Get("apply_server_side_encryption_by_default.sse_algorithm").String())
					continue
				}
				assert.Equal(t, "aws:kms", sse.Get("apply_server_side_encryption_by_default.sse_algorithm").String())
				assert.Contains(t, sse.Get("apply_server_side_encryption_by_default.kms_master_key_id").String(), "${aws_kms_key.")
				assert.True(t, sse.Get("bucket_key_enabled").Bool())

				logging := parts.of(t, "aws_s3_bucket_logging", name)
				assert.Equal(t, "spatial-"+kind+"/", logging.Get("target_prefix").String())
				assert.Contains(t, logging.Get("target_bucket").String(), "logs")

				rule := parts.of(t, "aws_s3_bucket_lifecycle_configuration", name).Get("rule.0")
				assert.True(t, rule.Get("filter.0").Exists(), "lifecycle rules need a filter")
				assert.Equal(t, []int64{30, 90}, []int64{rule.Get("noncurrent_version_transition.0.noncurrent_days").Int(), rule.Get("noncurrent_version_transition.1.noncurrent_days").Int()})
				assert.Equal(t, []string{"STANDARD_IA", "GLACIER_IR"}, []string{rule.Get("noncurrent_version_transition.0.storage_class").String(), rule.Get("noncurrent_version_transition.1.storage_class").String()})
				assert.Equal(t, int64(365), rule.Get("noncurrent_version_expiration.0.noncurrent_days").Int())
				assert.Equal(t, int64(7), rule.Get("abort_incomplete_multipart_upload.0.days_after_initiation").Int())

				cors := parts.of(t, "aws_s3_bucket_cors_configuration", name).Get("cors_rule.0")
				assert.Equal(t, []string{"*"}, strs(cors.Get("allowed_origins")))
				assert.Equal(t, []string{"GET", "HEAD"}, strs(cors.Get("allowed_methods")))
				assert.Equal(t, []string{"*"}, strs(cors.Get("allowed_headers")))
				assert.Equal(t, []string{"ETag", "Accept-Ranges", "Content-Range", "Content-Length", "Content-Type"}, strs(cors.Get("expose_headers")))
				assert.Equal(t, int64(3600), cors.Get("max_age_seconds").Int())
			}

			logsRule := parts.of(t, "aws_s3_bucket_lifecycle_configuration", dataBucket("logs", env)).Get("rule.0")
			assert.True(t, logsRule.Get("expiration.0.days").Int() > 0, "access logs expire")

			// nothing is lost by accident outside dev
			for _, b := range resources(doc, "aws_s3_bucket") {
				assert.Equal(t, env != "dev", b.Get("lifecycle.prevent_destroy").Bool(), b.Get("bucket").String())
			}
			assert.Equal(t, env != "dev", resources(doc, "aws_kms_key")[0].Get("lifecycle.prevent_destroy").Bool())
		})
	}
}

func TestDataKey(t *testing.T) {
	doc := stack(t, "dev-storage").Doc
	keys := named(doc, "aws_kms_key")
	require.Len(t, keys, 5, "one key per owner of data: packs/STAC, the edge's DTN data, device records and entitlements, the alarm topic, logs and traces")
	var key []gjson.Result
	for id, k := range keys {
		assert.True(t, k.Get("enable_key_rotation").Bool(), id)
		assert.Equal(t, int64(30), k.Get("deletion_window_in_days").Int(), id)
		if strings.HasPrefix(id, "data-key") {
			key = append(key, k)
		}
	}
	require.Len(t, key, 1)
	var aliases []string
	for _, a := range resources(doc, "aws_kms_alias") {
		aliases = append(aliases, a.Get("name").String())
	}
	assert.ElementsMatch(t, []string{"alias/spatialprops-dev-data", "alias/spatialprops-dev-edge", "alias/spatialprops-dev-devices", "alias/spatialprops-dev-alarms", "alias/spatialprops-dev-telemetry"}, aliases)

	// CloudFront may decrypt, but only for distributions of this account
	st := policyStatement(t, doc, "AllowCloudFrontDecryptForThisAccount")
	assert.Equal(t, []string{"kms:Decrypt"}, strs(st.Get("actions")))
	assert.Equal(t, []string{"cloudfront.amazonaws.com"}, strs(st.Get("principals.0.identifiers")))
	conds := map[string]gjson.Result{}
	for _, c := range st.Get("condition").Array() {
		conds[c.Get("test").String()+" "+c.Get("variable").String()] = c.Get("values")
	}
	require.Contains(t, conds, "StringEquals AWS:SourceAccount")
	require.Contains(t, conds, "ArnLike AWS:SourceArn")
	account := strs(conds["StringEquals AWS:SourceAccount"])[0]
	assert.Equal(t, "${data.aws_caller_identity.caller.account_id}", account)
	assert.Equal(t, []string{"arn:aws:cloudfront::" + account + ":distribution/*"}, strs(conds["ArnLike AWS:SourceArn"]))
}

func TestLogsBucketAcceptsOnlyItsSources(t *testing.T) {
	doc := stack(t, "prod-storage").Doc
	// One statement per source, each naming exactly its own prefix and its
	// own source bucket: a source can never write under another's prefix.
	for _, kind := range []string{"packs", "stac", "dtn"} {
		st := policyStatement(t, doc, "AllowAccessLogsFrom"+strings.ToUpper(kind[:1])+kind[1:])
		assert.Equal(t, []string{"logging.s3.amazonaws.com"}, strs(st.Get("principals.0.identifiers")))
		assert.Equal(t, []string{"s3:PutObject"}, strs(st.Get("actions")))
		assert.Equal(t, []string{"arn:aws:s3:::" + dataBucket("logs", "prod") + "/spatial-" + kind + "/*"}, strs(st.Get("resources")))
		conds := map[string][]string{}
		for _, c := range st.Get("condition").Array() {
			conds[c.Get("test").String()+" "+c.Get("variable").String()] = strs(c.Get("values"))
		}
		assert.Equal(t, map[string][]string{
			"ArnLike aws:SourceArn":          {"arn:aws:s3:::" + dataBucket(kind, "prod")},
			"StringEquals aws:SourceAccount": {"${data.aws_caller_identity.caller.account_id}"},
		}, conds)
	}
}

func TestAccessLoggingWaitsForTheLogsBucketPolicy(t *testing.T) {
	// S3 refuses PutBucketLogging (InvalidTargetBucketForLogging) until the
	// logs bucket's policy lets log delivery write; nothing but depends_on
	// orders the two (found by the emulated deploy).
	doc := stack(t, "dev-storage").Doc
	var policy string
	doc.Get("resource.aws_s3_bucket_policy").ForEach(func(id, _ gjson.Result) bool {
		if strings.HasPrefix(id.String(), "logs_") {
			policy = "aws_s3_bucket_policy." + id.String()
		}
		return true
	})
	require.NotEmpty(t, policy, "the logs bucket has a policy")
	loggings := resources(doc, "aws_s3_bucket_logging")
	require.Len(t, loggings, 2, "packs and stac log to the logs bucket")
	for _, l := range loggings {
		assert.Contains(t, strs(l.Get("depends_on")), policy)
	}
}

func TestPacksBucketPolicyHasOneOwner(t *testing.T) {
	// A bucket has exactly one policy: if two stacks wrote one for packs,
	// each apply would silently replace the other's.
	for _, env := range []string{"dev", "staging", "prod"} {
		packs := dataBucket("packs", env)
		var owners []string
		for _, s := range allStacks(t) {
			if s.Env != env {
				continue
			}
			for _, p := range resources(s.Doc, "aws_s3_bucket_policy") {
				ref := p.Get("bucket").String()
				if strings.Contains(ref, "packs") || strings.Contains(ref, packs) {
					owners = append(owners, s.ID)
				}
			}
		}
		assert.Equal(t, []string{env + "-cdn"}, owners, "only the cdn stack may own the packs bucket policy")
	}
}

func TestCDNDistribution(t *testing.T) {
	doc := stack(t, "dev-cdn").Doc
	dist := resources(doc, "aws_cloudfront_distribution")
	require.Len(t, dist, 1)
	d := dist[0]

	// regional endpoint, or OAC-signed requests get 403 outside us-east-1
	origin := d.Get("origin.0")
	assert.Contains(t, origin.Get("domain_name").String(), "bucket_regional_domain_name")
	assert.Contains(t, origin.Get("domain_name").String(), "cross-stack-reference-input-dev-storage", "bucket reached only through storage's outputs")
	assert.Contains(t, origin.Get("origin_access_control_id").String(), "aws_cloudfront_origin_access_control.")
	oac := resources(doc, "aws_cloudfront_origin_access_control")[0]
	assert.Equal(t, "spatialprops-dev-oac", oac.Get("name").String())
	assert.Equal(t, "s3", oac.Get("origin_access_control_origin_type").String())
	assert.Equal(t, "always", oac.Get("signing_behavior").String())
	assert.Equal(t, "sigv4", oac.Get("signing_protocol").String())

	cb := d.Get("default_cache_behavior")
	assert.Equal(t, "redirect-to-https", cb.Get("viewer_protocol_policy").String())
	assert.Equal(t, []string{"GET", "HEAD", "OPTIONS"}, strs(cb.Get("allowed_methods")))
	assert.Equal(t, []string{"GET", "HEAD"}, strs(cb.Get("cached_methods")))
	assert.True(t, cb.Get("compress").Bool())
	assert.Equal(t, "Managed-CachingOptimized", doc.Get("data.aws_cloudfront_cache_policy.@values.0.name").String())
	assert.Equal(t, "Managed-CORS-S3Origin", doc.Get("data.aws_cloudfront_origin_request_policy.@values.0.name").String())

	vc := d.Get("viewer_certificate")
	assert.Equal(t, "sni-only", vc.Get("ssl_support_method").String())
	assert.Equal(t, "TLSv1.2_2021", vc.Get("minimum_protocol_version").String())
	assert.Contains(t, vc.Get("acm_certificate_arn").String(), "aws_acm_certificate_validation.")
	assert.Equal(t, "http2and3", d.Get("http_version").String())
	assert.True(t, d.Get("is_ipv6_enabled").Bool())
	assert.Equal(t, []string{"cdn.dev.spatial.properties"}, strs(d.Get("aliases")))
	assert.Equal(t, "cdn/", d.Get("logging_config.prefix").String())
	assert.False(t, d.Get("web_acl_id").Exists(), "dev runs without WAF")
	assert.True(t, resources(stack(t, "prod-cdn").Doc, "aws_cloudfront_distribution")[0].Get("web_acl_id").Exists(), "prod has WAF")
	assert.Equal(t, []string{"cdn.spatial.properties"}, strs(resources(stack(t, "prod-cdn").Doc, "aws_cloudfront_distribution")[0].Get("aliases")))
}

func TestCDNCorsResponseHeaders(t *testing.T) {
	p := resources(stack(t, "dev-cdn").Doc, "aws_cloudfront_response_headers_policy")
	require.Len(t, p, 1)
	cors := p[0].Get("cors_config")
	assert.Equal(t, []string{"*"}, strs(cors.Get("access_control_allow_origins.items")))
	assert.Equal(t, []string{"ETag", "Accept-Ranges", "Content-Range", "Content-Length", "Content-Type"}, strs(cors.Get("access_control_expose_headers.items")))
	assert.Equal(t, []string{"GET", "HEAD", "OPTIONS"}, strs(cors.Get("access_control_allow_methods.items")))
	assert.True(t, cors.Get("origin_override").Bool(), "CloudFront's headers win over whatever was cached")
}

func TestCDNCertificateAndDNS(t *testing.T) {
	doc := stack(t, "dev-cdn").Doc
	var east string
	for _, p := range doc.Get("provider.aws").Array() {
		if p.Get("alias").String() == "us_east_1" {
			east = p.Get("region").String()
		}
	}
	assert.Equal(t, "us-east-1", east, "CloudFront only accepts us-east-1 certificates")
	cert := resources(doc, "aws_acm_certificate")
	require.Len(t, cert, 1)
	assert.Equal(t, "aws.us_east_1", cert[0].Get("provider").String())
	assert.Equal(t, "cdn.dev.spatial.properties", cert[0].Get("domain_name").String())
	assert.Equal(t, "DNS", cert[0].Get("validation_method").String())
	assert.Equal(t, "aws.us_east_1", resources(doc, "aws_acm_certificate_validation")[0].Get("provider").String())
	assert.Equal(t, "spatial.properties", doc.Get("data.aws_route53_zone.@values.0.name").String())

	var types []string
	for _, r := range resources(doc, "aws_route53_record") {
		if r.Get("alias").Exists() {
			types = append(types, r.Get("type").String())
			assert.Equal(t, "cdn.dev.spatial.properties", r.Get("name").String())
			assert.Contains(t, r.Get("alias.name").String(), "aws_cloudfront_distribution.")
		}
	}
	assert.ElementsMatch(t, []string{"A", "AAAA"}, types)
}

func TestPacksBucketPolicyPinsTheDistribution(t *testing.T) {
	doc := stack(t, "dev-cdn").Doc
	allow := policyStatement(t, doc, "AllowCloudFrontServicePrincipal")
	assert.Equal(t, []string{"s3:GetObject"}, strs(allow.Get("actions")))
	assert.Equal(t, []string{"cloudfront.amazonaws.com"}, strs(allow.Get("principals.0.identifiers")))
	c := allow.Get("condition.0")
	assert.Equal(t, "StringEquals", c.Get("test").String())
	assert.Equal(t, "AWS:SourceArn", c.Get("variable").String())
	assert.Regexp(t, `^\$\{aws_cloudfront_distribution\.[\w-]+\.arn\}$`, strs(c.Get("values"))[0])
	// and the same document refuses plain HTTP
	deny := policyStatement(t, doc, "DenyInsecureTransport")
	assert.Equal(t, "Deny", deny.Get("effect").String())
}

func TestCDNWebACL(t *testing.T) {
	acls := resources(stack(t, "prod-cdn").Doc, "aws_wafv2_web_acl")
	require.Len(t, acls, 1)
	assert.Equal(t, "CLOUDFRONT", acls[0].Get("scope").String())
	assert.Equal(t, "aws.us_east_1", acls[0].Get("provider").String())
	rules := gjson.Parse(acls[0].Get("rule_json").String())
	assert.Equal(t, "AWSManagedRulesCommonRuleSet", rules.Get("0.Statement.ManagedRuleGroupStatement.Name").String())
	assert.Equal(t, int64(2000), rules.Get(`#(Name=="RateLimitPerIP").Statement.RateBasedStatement.Limit`).Int())
	assert.Empty(t, resources(stack(t, "dev-cdn").Doc, "aws_wafv2_web_acl"))
}

// policyStatement finds a statement by Sid in any policy document of doc.
var policyStatement = tfjson.MustStatement

func strs(r gjson.Result) []string { return tfjson.Strings(r) }

// policyDoc returns the policy document whose id starts with prefix.
var policyDoc = tfjson.MustPolicyDocument
