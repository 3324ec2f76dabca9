package constructs

import (
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontdistribution"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontoriginaccesscontrol"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontresponseheaderspolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscloudfrontcachepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscloudfrontoriginrequestpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpolicy"
)

// CloudFront managed policies the distribution uses, looked up by name.
const (
	// CachingOptimizedPolicy: long TTLs, gzip/brotli, no cookies or query
	// strings in the cache key — right for immutable tiles and COGs.
	CachingOptimizedPolicy = "Managed-CachingOptimized"
	// CorsS3OriginPolicy forwards Origin and the preflight request headers,
	// so S3 evaluates its CORS rule.
	CorsS3OriginPolicy = "Managed-CORS-S3Origin"
	// MinimumTLS is the viewer TLS floor.
	MinimumTLS = "TLSv1.2_2021"
)

// CdnDistributionProps configures a distribution in front of one S3 bucket.
type CdnDistributionProps struct {
	// Name prefixes the policies, e.g. spatialprops-dev.
	Name    string
	OACName string
	Domain  string
	// CertificateArn must be a validated us-east-1 certificate.
	CertificateArn *string
	// Origin is the bucket served; its regional domain name is the origin,
	// since the global endpoint gives 403s through OAC outside us-east-1.
	OriginBucketName               *string
	OriginBucketArn                *string
	OriginBucketRegionalDomainName *string
	// LogsBucketDomainName receives standard logs under cdn/.
	LogsBucketDomainName *string
	CorsAllowedOrigins   []string
	CorsExposeHeaders    []string
	CorsMaxAgeSeconds    int
	PriceClass           string
	// WebACLArn attaches a WAF web ACL when set.
	WebACLArn *string
	// ExtraBucketStatements are appended to the origin bucket's single
	// policy (e.g. the marketplace's deny on published/), so the bucket
	// never gets a second aws_s3_bucket_policy that would overwrite this one.
	ExtraBucketStatements []Statement
	// ReadPrefix is the only key prefix of the bucket CloudFront may read
	// (e.g. "published/"), and the origin path it serves from ("/published"):
	// nothing outside it is reachable through the distribution, whatever
	// the request path. Empty: the whole bucket.
	ReadPrefix string
	// TrustedKeyGroupID, when set, makes every path a signed-URL path (the
	// default behaviour and SignedPaths) except UnsignedPaths.
	TrustedKeyGroupID *string
	// UnsignedPaths are path patterns served without a signature (e.g.
	// "/open/*"); SignedPaths are named explicitly with the key group (e.g.
	// "/licensed/*"), so the distribution reads like the contract.
	UnsignedPaths, SignedPaths []string
}

// CdnDistribution is what DNS records and outputs need.
type CdnDistribution struct {
	ID           *string
	Arn          *string
	DomainName   *string
	HostedZoneID *string
}

// NewCdnDistribution creates the OAC, the CORS response headers policy, the
// distribution and the origin bucket's one and only bucket policy.
func NewCdnDistribution(scope constructs.Construct, id string, props *CdnDistributionProps) (*CdnDistribution, error) {
	if props == nil || props.Domain == "" || props.CertificateArn == nil || props.OriginBucketArn == nil ||
		props.OriginBucketRegionalDomainName == nil || props.LogsBucketDomainName == nil || props.OACName == "" {
		return nil, fmt.Errorf("%s: domain, certificateArn, origin bucket, logs bucket and oacName are required", id)
	}
	if (len(props.UnsignedPaths) > 0 || len(props.SignedPaths) > 0) && props.TrustedKeyGroupID == nil {
		return nil, fmt.Errorf("%s: unsignedPaths and signedPaths need trustedKeyGroupId; without a key group every path is unsigned", id)
	}
	if len(props.CorsAllowedOrigins) == 0 {
		return nil, fmt.Errorf("%s: corsAllowedOrigins is empty; browsers could not read Range responses", id)
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	oac := newS3OriginAccessControl(node, props.OACName, "Signed S3 reads for "+props.Domain)
	caching := dataawscloudfrontcachepolicy.NewDataAwsCloudfrontCachePolicy(node, jsii.String("caching-optimized"),
		&dataawscloudfrontcachepolicy.DataAwsCloudfrontCachePolicyConfig{Name: jsii.String(CachingOptimizedPolicy)})
	originReq := dataawscloudfrontoriginrequestpolicy.NewDataAwsCloudfrontOriginRequestPolicy(node, jsii.String("cors-s3-origin"),
		&dataawscloudfrontoriginrequestpolicy.DataAwsCloudfrontOriginRequestPolicyConfig{Name: jsii.String(CorsS3OriginPolicy)})
	// CloudFront adds these headers on every response to a CORS request,
	// whether it came from cache or S3, so a cached object never loses
	// Access-Control-* headers the way cached S3 CORS responses can.
	headers := cloudfrontresponseheaderspolicy.NewCloudfrontResponseHeadersPolicy(node, jsii.String("cors-headers"), &cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicyConfig{
		Name:    jsii.String(props.Name + "-cdn-cors"),
		Comment: jsii.String("CORS for Range reads of Spatial Packs"),
		CorsConfig: &cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicyCorsConfig{
			AccessControlAllowCredentials: jsii.Bool(false),
			AccessControlAllowOrigins:     &cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicyCorsConfigAccessControlAllowOrigins{Items: jsii.Strings(props.CorsAllowedOrigins...)},
			AccessControlAllowMethods:     &cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicyCorsConfigAccessControlAllowMethods{Items: jsii.Strings("GET", "HEAD", "OPTIONS")},
			AccessControlAllowHeaders:     &cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicyCorsConfigAccessControlAllowHeaders{Items: jsii.Strings("*")},
			AccessControlExposeHeaders:    &cloudfrontresponseheaderspolicy.CloudfrontResponseHeadersPolicyCorsConfigAccessControlExposeHeaders{Items: jsii.Strings(props.CorsExposeHeaders...)},
			AccessControlMaxAgeSec:        jsii.Number(float64(props.CorsMaxAgeSeconds)),
			OriginOverride:                jsii.Bool(true),
		},
	})

	const originID = "spatial-packs"
	var originPath *string
	if props.ReadPrefix != "" {
		originPath = jsii.String("/" + strings.TrimSuffix(props.ReadPrefix, "/"))
	}
	var keyGroups *[]*string
	if props.TrustedKeyGroupID != nil {
		keyGroups = &[]*string{props.TrustedKeyGroupID}
	}
	behaviour := func(pattern string, signed bool) *cloudfrontdistribution.CloudfrontDistributionOrderedCacheBehavior {
		b := &cloudfrontdistribution.CloudfrontDistributionOrderedCacheBehavior{
			PathPattern: jsii.String(pattern), TargetOriginId: jsii.String(originID), ViewerProtocolPolicy: jsii.String("redirect-to-https"),
			AllowedMethods: jsii.Strings("GET", "HEAD", "OPTIONS"), CachedMethods: jsii.Strings("GET", "HEAD"), Compress: jsii.Bool(true),
			CachePolicyId: caching.Id(), OriginRequestPolicyId: originReq.Id(), ResponseHeadersPolicyId: headers.Id(),
		}
		if signed {
			b.TrustedKeyGroups = keyGroups
		}
		return b
	}
	var ordered []*cloudfrontdistribution.CloudfrontDistributionOrderedCacheBehavior
	for _, p := range props.UnsignedPaths {
		ordered = append(ordered, behaviour(p, false))
	}
	for _, p := range props.SignedPaths {
		ordered = append(ordered, behaviour(p, true))
	}
	cfg := &cloudfrontdistribution.CloudfrontDistributionConfig{
		Enabled:       jsii.Bool(true),
		Comment:       jsii.String("Spatial Packs at " + props.Domain),
		Aliases:       jsii.Strings(props.Domain),
		HttpVersion:   jsii.String("http2and3"),
		IsIpv6Enabled: jsii.Bool(true),
		PriceClass:    jsii.String(props.PriceClass),
		Origin: &[]*cloudfrontdistribution.CloudfrontDistributionOrigin{{
			OriginId:              jsii.String(originID),
			DomainName:            props.OriginBucketRegionalDomainName,
			OriginAccessControlId: oac.Id(),
			OriginPath:            originPath,
		}},
		DefaultCacheBehavior: &cloudfrontdistribution.CloudfrontDistributionDefaultCacheBehavior{
			TargetOriginId:       jsii.String(originID),
			ViewerProtocolPolicy: jsii.String("redirect-to-https"),
			// OPTIONS lets browsers preflight cross-origin Range requests.
			// It is still read-only: no PUT, POST, PATCH or DELETE reaches
			// the bucket, which is what the guide's GET/HEAD rule protects.
			AllowedMethods:          jsii.Strings("GET", "HEAD", "OPTIONS"),
			CachedMethods:           jsii.Strings("GET", "HEAD"),
			Compress:                jsii.Bool(true),
			CachePolicyId:           caching.Id(),
			OriginRequestPolicyId:   originReq.Id(),
			ResponseHeadersPolicyId: headers.Id(),
			// with a key group, a path no behaviour below names needs a
			// signature too: nothing is unsigned by accident
			TrustedKeyGroups: keyGroups,
		},
		ViewerCertificate: &cloudfrontdistribution.CloudfrontDistributionViewerCertificate{
			AcmCertificateArn:      props.CertificateArn,
			SslSupportMethod:       jsii.String("sni-only"),
			MinimumProtocolVersion: jsii.String(MinimumTLS),
		},
		Restrictions: &cloudfrontdistribution.CloudfrontDistributionRestrictions{
			GeoRestriction: &cloudfrontdistribution.CloudfrontDistributionRestrictionsGeoRestriction{RestrictionType: jsii.String("none")},
		},
		LoggingConfig: &cloudfrontdistribution.CloudfrontDistributionLoggingConfig{
			Bucket: props.LogsBucketDomainName, Prefix: jsii.String("cdn/"), IncludeCookies: jsii.Bool(false),
		},
	}
	if props.WebACLArn != nil {
		cfg.WebAclId = props.WebACLArn
	}
	if len(ordered) > 0 {
		cfg.OrderedCacheBehavior = &ordered
	}
	dist := cloudfrontdistribution.NewCloudfrontDistribution(node, jsii.String("distribution"), cfg)

	// The bucket's single policy document: TLS only, and reads of ReadPrefix
	// only by this distribution (AWS:SourceArn), signed through the OAC.
	statements := append([]Statement{
		DenyInsecureTransport(*props.OriginBucketArn),
		{
			Sid:        "AllowCloudFrontServicePrincipal",
			Actions:    []string{"s3:GetObject"},
			Resources:  []string{*props.OriginBucketArn + "/" + props.ReadPrefix + "*"},
			Principals: []Principal{{Type: "Service", Identifiers: []string{"cloudfront.amazonaws.com"}}},
			Conditions: []Condition{{Test: "StringEquals", Variable: "AWS:SourceArn", Values: []string{*dist.Arn()}}},
		}}, props.ExtraBucketStatements...)
	doc := NewPolicyDocument(node, "origin-bucket-policy-document", statements...)
	s3bucketpolicy.NewS3BucketPolicy(node, jsii.String("origin-bucket-policy"), &s3bucketpolicy.S3BucketPolicyConfig{
		Bucket: props.OriginBucketName,
		Policy: doc.Json(),
	})
	return &CdnDistribution{ID: dist.Id(), Arn: dist.Arn(), DomainName: dist.DomainName(), HostedZoneID: dist.HostedZoneId()}, nil
}

// newS3OriginAccessControl is the origin access control every distribution
// here reads its private bucket through: S3, every request signed with
// SigV4, so the bucket policy can admit CloudFront by distribution ARN and
// nothing else.
func newS3OriginAccessControl(scope constructs.Construct, name, description string) cloudfrontoriginaccesscontrol.CloudfrontOriginAccessControl {
	return cloudfrontoriginaccesscontrol.NewCloudfrontOriginAccessControl(scope, jsii.String("oac"), &cloudfrontoriginaccesscontrol.CloudfrontOriginAccessControlConfig{
		Name:                          jsii.String(name),
		Description:                   jsii.String(description),
		OriginAccessControlOriginType: jsii.String("s3"),
		SigningBehavior:               jsii.String("always"),
		SigningProtocol:               jsii.String("sigv4"),
	})
}
