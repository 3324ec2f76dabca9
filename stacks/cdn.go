package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontkeygroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudfrontpublickey"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawskmspublickey"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmsalias"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmskey"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53zone"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// CertificateRegion is the only region CloudFront takes certificates and
// CLOUDFRONT-scoped web ACLs from.
const CertificateRegion = "us-east-1"

// Packs layout the CDN serves (contracts: published/open and
// published/licensed, written only by the provenance gate).
const (
	// CDNReadPrefix is the only prefix of the packs bucket CloudFront may
	// read, and its origin path: staging/ (publisher uploads the gate has
	// not attested) is unreachable from the internet.
	CDNReadPrefix = "published/"
	// CDNOpenPath is served without a signature; CDNLicensedPath only with a
	// CloudFront signed URL from the presigner (trusted key group).
	CDNOpenPath     = "/open/*"
	CDNLicensedPath = "/licensed/*"
	// CDNSigningKeySpec is the presigner's signing key: KMS ECC_NIST_P256,
	// which CloudFront accepts as an ECDSA public key; the presigner signs
	// the canned policy with kms:Sign (RAW, ECDSA_SHA_256).
	CDNSigningKeySpec   = "ECC_NIST_P256"
	CDNSigningAlgorithm = "ECDSA_SHA_256"
)

// CDNOutputs describe the distribution.
type CDNOutputs struct {
	Domain         string
	DistributionID *string
	Arn            *string
	DomainName     *string
	// SigningKeyArn is the KMS key licensed URLs are signed with (the
	// presigner's CDN_SIGNING_KEY_ID); KeyPairID the CloudFront public key
	// id built from its public half (CDN_KEY_PAIR_ID, the URLs' Key-Pair-Id).
	SigningKeyArn *string
	KeyPairID     *string
}

// NewCDNStack serves the packs bucket's published/ prefix, and nothing
// else, at the environment's CDN domain through CloudFront with OAC, CORS
// for Range reads, TLS 1.2+, and DNS in Route53: /open/ without a
// signature, /licensed/ (and any other path) only with a signed URL from
// the licensed-packs key group. It reaches the bucket and key only through
// storage's outputs.
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
	signer := newCDNSigner(b)
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
		ReadPrefix:                     CDNReadPrefix,
		TrustedKeyGroupID:              signer.keyGroupID,
		UnsignedPaths:                  []string{CDNOpenPath},
		SignedPaths:                    []string{CDNLicensedPath},
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
	b.output("cdn_signing_key_arn", "KMS key the presigner signs licensed URLs with (CDN_SIGNING_KEY_ID)", signer.keyArn, false)
	b.output("cdn_key_pair_id", "CloudFront public key id of licensed URLs (CDN_KEY_PAIR_ID, Key-Pair-Id)", signer.keyPairID, false)
	return &CDNOutputs{Domain: d.Domain, DistributionID: dist.ID, Arn: dist.Arn, DomainName: dist.DomainName,
		SigningKeyArn: signer.keyArn, KeyPairID: signer.keyPairID}, nil
}

type cdnSigner struct {
	keyArn, keyPairID, keyGroupID *string
}

// newCDNSigner creates the licensed-pack URL signing key: an asymmetric KMS
// key whose private half never leaves KMS (no PEM in Terraform state or in
// a Kubernetes Secret). Its public half, read with aws_kms_public_key,
// becomes the CloudFront public key of key group
// <org>-<env>-licensed-packs. The key policy denies kms:Sign to every
// principal but the presigner's IRSA role (named before the edge stack
// creates it: role ARNs are deterministic), so no other role of the
// account can mint a licensed URL, whatever IAM grants it.
func newCDNSigner(b *base) cdnSigner {
	presigner := b.names.WorkloadRoleArn(*b.accountID(), PresignerRolePurpose)
	policy := sp.NewPolicyDocument(b.stack, "cdn-signer-key-policy",
		sp.Statement{
			Sid: "EnableIamPolicies", Actions: []string{"kms:*"}, Resources: []string{"*"},
			Principals: []sp.Principal{{Type: "AWS", Identifiers: []string{"arn:aws:iam::" + *b.accountID() + ":root"}}},
		},
		sp.Statement{
			Sid: "OnlyThePresignerSigns", Effect: "Deny", Actions: []string{"kms:Sign", "kms:CreateGrant"}, Resources: []string{"*"},
			Principals: []sp.Principal{{Type: "AWS", Identifiers: []string{"*"}}},
			Conditions: []sp.Condition{{Test: "ArnNotEquals", Variable: "aws:PrincipalArn", Values: []string{presigner}}},
		},
	)
	key := kmskey.NewKmsKey(b.stack, jsii.String("cdn-signer-key"), &kmskey.KmsKeyConfig{
		Description:           jsii.String("Signs licensed Spatial Pack URLs of " + b.names.Prefix() + " (CloudFront key group " + b.names.Prefix() + "-licensed-packs)"),
		CustomerMasterKeySpec: jsii.String(CDNSigningKeySpec),
		KeyUsage:              jsii.String("SIGN_VERIFY"),
		DeletionWindowInDays:  jsii.Number(sp.KmsKeyDeletionWindowDays),
		Policy:                policy.Json(),
		Lifecycle:             sp.Lifecycle(b.cfg.Protect()),
	})
	kmsalias.NewKmsAlias(b.stack, jsii.String("cdn-signer-key-alias"), &kmsalias.KmsAliasConfig{
		Name: jsii.String("alias/" + b.names.Prefix() + "-cdn-signer"), TargetKeyId: key.KeyId(),
	})
	public := dataawskmspublickey.NewDataAwsKmsPublicKey(b.stack, jsii.String("cdn-signer-public-key"), &dataawskmspublickey.DataAwsKmsPublicKeyConfig{
		KeyId: key.Arn(),
	})
	pub := cloudfrontpublickey.NewCloudfrontPublicKey(b.stack, jsii.String("cdn-public-key"), &cloudfrontpublickey.CloudfrontPublicKeyConfig{
		Name:       jsii.String(b.names.Prefix() + "-cdn-signer"),
		Comment:    jsii.String("Public half of KMS key alias/" + b.names.Prefix() + "-cdn-signer"),
		EncodedKey: public.PublicKeyPem(),
	})
	group := cloudfrontkeygroup.NewCloudfrontKeyGroup(b.stack, jsii.String("licensed-packs"), &cloudfrontkeygroup.CloudfrontKeyGroupConfig{
		Name:    jsii.String(b.names.Prefix() + "-licensed-packs"),
		Comment: jsii.String("Signers of licensed Spatial Pack URLs"),
		Items:   &[]*string{pub.Id()},
	})
	return cdnSigner{keyArn: key.Arn(), keyPairID: pub.Id(), keyGroupID: group.Id()}
}
