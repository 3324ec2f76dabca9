package constructs

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func crlProps() *CrlDistributionProps {
	return &CrlDistributionProps{
		Name: "spatialprops-dev", Domain: "crl.dev.spatial.properties",
		CertificateArn:           jsii.String("arn:aws:acm:us-east-1:111122223333:certificate/abc"),
		BucketName:               jsii.String("spatial-pki-x"),
		BucketArn:                jsii.String("arn:aws:s3:::spatial-pki-x"),
		BucketRegionalDomainName: jsii.String("spatial-pki-x.s3.ap-southeast-2.amazonaws.com"),
		ReadPrefix:               "crl/",
		ExtraBucketStatements: []Statement{{Sid: "Extra", Actions: []string{"s3:PutObject"}, Resources: []string{"arn:aws:s3:::spatial-pki-x/*"},
			Principals: []Principal{{Type: "Service", Identifiers: []string{"acm-pca.amazonaws.com"}}}}},
	}
}

func TestCrlDistributionServesOnlyTheCRLPrefix(t *testing.T) {
	// GIVEN a CRL distribution on a private bucket
	stack := newTestStack(t)
	d, err := NewCrlDistribution(stack, "crl", crlProps())
	require.NoError(t, err)
	require.NotNil(t, d.Policy)
	doc := synth(t, stack)
	dist := one(t, doc, "aws_cloudfront_distribution")

	// THEN the origin is the regional endpoint, signed through the OAC (else 403 outside us-east-1)
	assert.Equal(t, "spatial-pki-x.s3.ap-southeast-2.amazonaws.com", dist.Get("origin.0.domain_name").String())
	assert.Contains(t, dist.Get("origin.0.origin_access_control_id").String(), "aws_cloudfront_origin_access_control")
	assert.Equal(t, "always", one(t, doc, "aws_cloudfront_origin_access_control").Get("signing_behavior").String())
	// the CRL host is the alias, and HTTP stays allowed: RFC 5280 distribution points are http URIs
	assert.Equal(t, []string{"crl.dev.spatial.properties"}, strs(dist.Get("aliases")))
	assert.Equal(t, "allow-all", dist.Get("default_cache_behavior.viewer_protocol_policy").String())
	// read-only methods: nothing can write through the CDN
	assert.Equal(t, []string{"GET", "HEAD"}, strs(dist.Get("default_cache_behavior.allowed_methods")))
	// HTTPS viewers get the us-east-1 certificate with TLS 1.2+
	assert.Equal(t, "arn:aws:acm:us-east-1:111122223333:certificate/abc", dist.Get("viewer_certificate.acm_certificate_arn").String())
	assert.Equal(t, MinimumTLS, dist.Get("viewer_certificate.minimum_protocol_version").String())

	// AND CloudFront may read the CRL prefix only, and only as this distribution
	read := statementBySid(t, doc, "AllowCloudFrontToReadCRLsOnly")
	assert.Equal(t, []string{"s3:GetObject"}, strs(read.Get("actions")))
	assert.Equal(t, []string{"arn:aws:s3:::spatial-pki-x/crl/*"}, strs(read.Get("resources")), "the CA bundle and anything else stays unreadable")
	assert.Equal(t, "AWS:SourceArn", read.Get("condition.0.variable").String())
	assert.Equal(t, "StringEquals", read.Get("condition.0.test").String())
	assert.Regexp(t, `^\$\{aws_cloudfront_distribution\.[a-z_]+distribution[A-Za-z0-9_]*\.arn\}$`, read.Get("condition.0.values.0").String())
	// the bucket has exactly one policy, which keeps TLS-only and the extras
	assert.Len(t, resources(doc, "aws_s3_bucket_policy"), 1)
	assert.Equal(t, "Deny", statementBySid(t, doc, "DenyInsecureTransport").Get("effect").String())
	assert.Equal(t, "Allow", statementBySid(t, doc, "Extra").Get("effect").String())
}

func TestCrlDistributionRefusesBadProps(t *testing.T) {
	// GIVEN props that would open the whole bucket or lack the certificate THEN the error names the field
	for name, tc := range map[string]struct {
		edit func(*CrlDistributionProps)
		want string
	}{
		"no prefix":        {func(p *CrlDistributionProps) { p.ReadPrefix = "" }, `crl: readPrefix "" must be a non-empty key prefix`},
		"root prefix":      {func(p *CrlDistributionProps) { p.ReadPrefix = "/" }, `crl: readPrefix "/" must be a non-empty key prefix`},
		"no slash":         {func(p *CrlDistributionProps) { p.ReadPrefix = "crl" }, `crl: readPrefix "crl" must be a non-empty key prefix`},
		"no certificate":   {func(p *CrlDistributionProps) { p.CertificateArn = nil }, "crl: name, domain, certificateArn"},
		"no regional name": {func(p *CrlDistributionProps) { p.BucketRegionalDomainName = nil }, "crl: name, domain, certificateArn"},
	} {
		t.Run(name, func(t *testing.T) {
			p := crlProps()
			tc.edit(p)
			_, err := NewCrlDistribution(newTestStack(t), "crl", p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
