package constructs

import (
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontdistribution"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscloudfrontcachepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpolicy"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// CachingDisabledPolicy is the managed cache policy of the CRL
// distribution: every request reaches S3, so a CRL republished after a
// revocation is served at once. Clients cache a CRL until its nextUpdate
// themselves; an edge cache would only add staleness (S3 objects the CA
// writes carry no Cache-Control, so CachingOptimized would keep a CRL for
// a day).
const CachingDisabledPolicy = "Managed-CachingDisabled"

// CRLViewerProtocolPolicy serves the CRL over plain HTTP and HTTPS alike.
// RFC 5280 distribution points are http URIs (ACM PCA writes
// http://<custom_cname>/crl/<ca-id>.crl into every certificate), and
// redirecting them to HTTPS breaks relying parties that do not follow
// redirects (OpenSSL, most embedded TLS stacks) and makes the revocation
// check depend on validating another TLS certificate first. A CRL is
// signed by the CA, so its integrity does not depend on the transport.
const CRLViewerProtocolPolicy = "allow-all"

// CrlDistributionProps configures a distribution that serves one prefix of
// a private bucket (a CA's CRLs) at a custom domain.
type CrlDistributionProps struct {
	// Name prefixes the OAC and the comment, e.g. spatialprops-dev.
	Name string
	// Domain is the CRL host (the CA's custom_cname). Required.
	Domain string
	// CertificateArn must be a validated us-east-1 certificate for Domain.
	CertificateArn *string
	// Bucket is the private origin; its regional domain name is the origin,
	// since the global endpoint gives 403s through OAC outside us-east-1.
	BucketName               *string
	BucketArn                *string
	BucketRegionalDomainName *string
	// ReadPrefix is the only key prefix CloudFront may read, e.g. "crl/".
	// Required, ends with "/": the rest of the bucket stays unreadable.
	ReadPrefix string
	// PriceClass of the distribution. Default: PriceClass_100.
	PriceClass string
	// PolicyAfter are what the bucket policy waits for, e.g. the bucket's
	// public access block in the same stack.
	PolicyAfter []cdktf.ITerraformDependable
	// ExtraBucketStatements are appended to the bucket's single policy
	// (e.g. the CA's permission to publish), so the bucket never gets a
	// second aws_s3_bucket_policy that would overwrite this one.
	ExtraBucketStatements []Statement
}

// CrlDistribution is what DNS records, outputs and dependants need.
type CrlDistribution struct {
	ID           *string
	Arn          *string
	DomainName   *string
	HostedZoneID *string
	// Policy is the bucket's policy resource: a CA that publishes into the
	// bucket must be created after it.
	Policy cdktf.ITerraformDependable
}

// NewCrlDistribution creates the OAC, the distribution and the origin
// bucket's one and only bucket policy: TLS-only, CloudFront reads of
// ReadPrefix for this distribution (AWS:SourceArn), then the extras.
func NewCrlDistribution(scope constructs.Construct, id string, props *CrlDistributionProps) (*CrlDistribution, error) {
	if props == nil || props.Domain == "" || props.Name == "" || props.CertificateArn == nil || props.BucketName == nil ||
		props.BucketArn == nil || props.BucketRegionalDomainName == nil {
		return nil, fmt.Errorf("%s: name, domain, certificateArn and the bucket's name, arn and regional domain name are required", id)
	}
	if props.ReadPrefix == "" || props.ReadPrefix == "/" || !strings.HasSuffix(props.ReadPrefix, "/") {
		return nil, fmt.Errorf("%s: readPrefix %q must be a non-empty key prefix ending in \"/\"; CloudFront must not read the whole bucket", id, props.ReadPrefix)
	}
	priceClass := props.PriceClass
	if priceClass == "" {
		priceClass = "PriceClass_100"
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	oac := newS3OriginAccessControl(node, props.Name+"-crl-oac", "Signed S3 reads of the CRLs at "+props.Domain)
	caching := dataawscloudfrontcachepolicy.NewDataAwsCloudfrontCachePolicy(node, jsii.String("caching-disabled"),
		&dataawscloudfrontcachepolicy.DataAwsCloudfrontCachePolicyConfig{Name: jsii.String(CachingDisabledPolicy)})

	const originID = "pki"
	dist := cloudfrontdistribution.NewCloudfrontDistribution(node, jsii.String("distribution"), &cloudfrontdistribution.CloudfrontDistributionConfig{
		Enabled:       jsii.Bool(true),
		Comment:       jsii.String("Certificate revocation lists at " + props.Domain),
		Aliases:       jsii.Strings(props.Domain),
		IsIpv6Enabled: jsii.Bool(true),
		PriceClass:    jsii.String(priceClass),
		Origin: &[]*cloudfrontdistribution.CloudfrontDistributionOrigin{{
			OriginId:              jsii.String(originID),
			DomainName:            props.BucketRegionalDomainName,
			OriginAccessControlId: oac.Id(),
		}},
		DefaultCacheBehavior: &cloudfrontdistribution.CloudfrontDistributionDefaultCacheBehavior{
			TargetOriginId:       jsii.String(originID),
			ViewerProtocolPolicy: jsii.String(CRLViewerProtocolPolicy),
			AllowedMethods:       jsii.Strings("GET", "HEAD"),
			CachedMethods:        jsii.Strings("GET", "HEAD"),
			CachePolicyId:        caching.Id(),
		},
		// HTTPS, when a client asks for it, is TLS 1.2+ with the ACM cert.
		ViewerCertificate: &cloudfrontdistribution.CloudfrontDistributionViewerCertificate{
			AcmCertificateArn:      props.CertificateArn,
			SslSupportMethod:       jsii.String("sni-only"),
			MinimumProtocolVersion: jsii.String(MinimumTLS),
		},
		Restrictions: &cloudfrontdistribution.CloudfrontDistributionRestrictions{
			GeoRestriction: &cloudfrontdistribution.CloudfrontDistributionRestrictionsGeoRestriction{RestrictionType: jsii.String("none")},
		},
	})

	statements := append([]Statement{
		DenyInsecureTransport(*props.BucketArn),
		{
			Sid:        "AllowCloudFrontToReadCRLsOnly",
			Actions:    []string{"s3:GetObject"},
			Resources:  []string{*props.BucketArn + "/" + props.ReadPrefix + "*"},
			Principals: []Principal{{Type: "Service", Identifiers: []string{"cloudfront.amazonaws.com"}}},
			Conditions: []Condition{{Test: "StringEquals", Variable: "AWS:SourceArn", Values: []string{*dist.Arn()}}},
		}}, props.ExtraBucketStatements...)
	doc := NewPolicyDocument(node, "bucket-policy-document", statements...)
	policyCfg := &s3bucketpolicy.S3BucketPolicyConfig{Bucket: props.BucketName, Policy: doc.Json()}
	if len(props.PolicyAfter) > 0 {
		after := append([]cdktf.ITerraformDependable(nil), props.PolicyAfter...)
		policyCfg.DependsOn = &after
	}
	policy := s3bucketpolicy.NewS3BucketPolicy(node, jsii.String("bucket-policy"), policyCfg)
	return &CrlDistribution{ID: dist.Id(), Arn: dist.Arn(), DomainName: dist.DomainName(), HostedZoneID: dist.HostedZoneId(), Policy: policy}, nil
}
