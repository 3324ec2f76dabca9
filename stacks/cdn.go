package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53zone"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// CertificateRegion is the only region CloudFront takes certificates and
// CLOUDFRONT-scoped web ACLs from.
const CertificateRegion = "us-east-1"

// CDNOutputs describe the distribution.
type CDNOutputs struct {
	Domain         string
	DistributionID *string
	Arn            *string
	DomainName     *string
}

// NewCDNStack serves the packs bucket at the environment's CDN domain
// through CloudFront with OAC, CORS for Range reads, TLS 1.2+, and DNS in
// Route53. It reaches the bucket and key only through storage's outputs.
func NewCDNStack(scope constructs.Construct, cfg *envs.Config, storage *StorageOutputs) (*CDNOutputs, error) {
	b, err := newBase(scope, cfg, CDN)
	if err != nil {
		return nil, err
	}
	east, err := sp.NewAwsProvider(b.stack, "aws-us-east-1", b.providerProps(CDN, CertificateRegion, "us_east_1"))
	if err != nil {
		return nil, err
	}
	d := cfg.CDN

	var zoneID *string
	if d.CreateHostedZone {
		zone := route53zone.NewRoute53Zone(b.stack, jsii.String("zone"), &route53zone.Route53ZoneConfig{
			Name: jsii.String(cfg.Domain), Comment: jsii.String("Public zone for " + cfg.Domain + ", managed by spatialprops-infra"),
		})
		zoneID = zone.ZoneId()
	} else {
		zoneID = b.publicZone()
	}

	certArn, err := sp.NewDnsValidatedCertificate(b.stack, "certificate", &sp.DnsValidatedCertificateProps{
		DomainName: d.Domain, ZoneID: zoneID, Provider: east,
	})
	if err != nil {
		return nil, err
	}

	var webACL *string
	if d.EnableWAF {
		if webACL, err = sp.NewCdnWebACL(b.stack, "waf", &sp.CdnWebACLProps{
			Name: b.names.Prefix() + "-cdn", RateLimitPer5Min: d.RateLimitPer5Min, Provider: east,
			LogRetentionDays: d.WafLogRetentionDays, Protect: cfg.Protect(),
		}); err != nil {
			return nil, err
		}
	}

	packs, logs := storage.Buckets["packs"], storage.Buckets["logs"]
	dist, err := sp.NewCdnDistribution(b.stack, "cdn", &sp.CdnDistributionProps{
		Name:                           b.names.Prefix(),
		OACName:                        b.names.OAC(),
		Domain:                         d.Domain,
		CertificateArn:                 certArn,
		OriginBucketName:               packs.Name,
		OriginBucketArn:                packs.Arn,
		OriginBucketRegionalDomainName: packs.RegionalDomainName,
		LogsBucketDomainName:           logs.DomainName,
		CorsAllowedOrigins:             cfg.Storage.CorsAllowedOrigins,
		CorsExposeHeaders:              CorsExposeHeaders,
		CorsMaxAgeSeconds:              CorsMaxAgeSeconds,
		PriceClass:                     d.PriceClass,
		WebACLArn:                      webACL,
		ExtraBucketStatements:          publishedDeny(b, *packs.Arn),
	})
	if err != nil {
		return nil, err
	}
	for _, recordType := range []string{"A", "AAAA"} {
		route53record.NewRoute53Record(b.stack, jsii.String("alias-"+recordType), &route53record.Route53RecordConfig{
			ZoneId: zoneID,
			Name:   jsii.String(d.Domain),
			Type:   jsii.String(recordType),
			Alias: &route53record.Route53RecordAlias{
				Name: dist.DomainName, ZoneId: dist.HostedZoneID, EvaluateTargetHealth: jsii.Bool(false),
			},
		})
	}
	b.output("cdn_domain", "Custom domain of the distribution", d.Domain, false)
	b.output("distribution_id", "CloudFront distribution id (for invalidations)", dist.ID, false)
	b.output("distribution_domain_name", "CloudFront domain name", dist.DomainName, false)
	return &CDNOutputs{Domain: d.Domain, DistributionID: dist.ID, Arn: dist.Arn, DomainName: dist.DomainName}, nil
}
