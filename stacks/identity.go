package stacks

import (
	"fmt"
	"strconv"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmpcacertificate"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmpcacertificateauthority"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmpcacertificateauthoritycertificate"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lbtruststore"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3object"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// Service accounts the identity roles trust.
const (
	// PCAIssuerAccount is the aws-privateca-issuer controller's service
	// account in cert-manager.
	PCAIssuerAccount = "aws-privateca-issuer"
	// EnrollmentAccount is Edge Sync's device-enrollment service account in
	// edge-sync: it turns a device's CSR into a certificate.
	EnrollmentAccount = "edge-enrollment"
	// CRLSyncAccount is the crl-sync CronJob's service account in
	// cdn-presigner (helm/crl-sync): it copies the CA's CRL into the
	// presigner's ALB trust store.
	CRLSyncAccount = "crl-sync"
	// CRLSyncRolePurpose names its IRSA role "<org>-<env>-irsa-crl-sync".
	CRLSyncRolePurpose = "irsa-crl-sync"
	// PCAIssuerRolePurpose names the issuer's IRSA role
	// "<org>-<env>-irsa-pca-issuer". The platform stack, deployed before
	// this one, annotates the issuer's service account with the role's ARN
	// built from this name (IAM role ARNs are deterministic), so the two
	// stacks cannot drift.
	PCAIssuerRolePurpose = "irsa-pca-issuer"
)

// EndEntityClientAuthTemplate is the only ACM PCA template the enrollment
// role may issue with: a leaf certificate usable for TLS client auth only,
// so a stolen enrollment credential can never mint a CA or a server cert.
const EndEntityClientAuthTemplate = "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1"

// TrustBundleKey is the PKI-bucket object holding the CA bundle the
// presigner's ALB trust store is built from.
const TrustBundleKey = "trust/ca-bundle.pem"

// TrustStoreCRLPrefix is where crl-sync writes the CA's CRL as PEM
// (trust/crl/<crlNumber>.pem, and its record trust/crl/current.json): the
// ALB takes only PEM, ACM PCA publishes DER.
const TrustStoreCRLPrefix = "trust/crl/"

// RootCATemplate self-signs the root CA certificate.
const RootCATemplate = "arn:aws:acm-pca:::template/RootCACertificate/V1"

// PKIBucketKind names the PKI bucket: spatial-pki-<org>-<env>-<region>.
const PKIBucketKind = naming.PKIBucketKind

// CRLPrefix is the key prefix ACM PCA writes CRLs under in the PKI bucket
// (crl/<ca-id>.crl) and the path they are served at on the CRL host; the
// CRL distribution may read nothing else of the bucket.
const CRLPrefix = "crl/"

// CRLHostService names the CRL host: crl.<env>.<domain> (crl.<domain> in
// prod), the CA's custom_cname and the CloudFront alias.
const CRLHostService = "crl"

// CRLValidityDays is how long a published CRL stays valid; ACM PCA
// republishes it well before (and within about 30 minutes of a revocation).
const CRLValidityDays = 7

// DeviceCertDaysTag is the CA tag that carries identity.deviceCertDays to
// the enrollment service (acm-pca:ListTags) and to the Rego check that it
// never exceeds 30. A tag rather than an SSM parameter: the repo's secrets
// policy keeps every parameter value out of Terraform state.
const DeviceCertDaysTag = "DeviceCertDays"

// IdentityOutputs are what the platform and edge stacks consume.
type IdentityOutputs struct {
	CAArn             *string
	PCAIssuerRoleArn  *string
	EnrollmentRoleArn *string
	// CRLSyncRoleArn is the crl-sync CronJob's IRSA role.
	CRLSyncRoleArn *string
	PKIBucket      *string
	PKIKeyArn      *string
	TrustStoreArn  *string
	DeviceCertDays int
	// CRLHost serves the CA's CRLs (http and https) through CloudFront.
	CRLHost string
	// CRLDistributionID is the CloudFront distribution in front of the
	// PKI bucket's crl/ prefix.
	CRLDistributionID *string
}

// NewIdentityStack creates the environment's private CA, the bucket its CRL
// is published to and the roles that issue and revoke certificates.
//
// It is its own stack because a CA outlives the workloads that use it:
// destroying edge or platform must never take the CA (and every device's
// trust anchor) with it.
//
// Root only, no subordinate: a subordinate protects an offline root, but an
// ACM PCA root's key never leaves AWS's HSMs either way, and a second CA
// doubles the fixed cost (USD 400/month per general-purpose CA) for one
// fleet. Device certificates live 30 days, so replacing the root (cut a new
// CA, publish both in the trust bundle, let devices renew) takes a month.
func NewIdentityStack(scope constructs.Construct, cfg *envs.Config, cluster *ClusterOutputs) (*IdentityOutputs, error) {
	b, err := newBase(scope, cfg, naming.ComponentIdentity)
	if err != nil {
		return nil, err
	}
	id := cfg.Identity
	protect := cfg.Protect()
	account := *b.accountID()
	caArnPattern := fmt.Sprintf("arn:aws:acm-pca:%s:%s:certificate-authority/*", cfg.Region, account)

	key, err := sp.NewKmsKey(b.stack, "pki-key", &sp.KmsKeyProps{
		Alias:       "alias/" + b.names.Prefix() + "-pki",
		Description: "Encrypts the CRLs and CA bundle of " + b.names.Prefix(),
		Protect:     protect,
		AccountID:   b.accountID(),
		ExtraStatements: []sp.Statement{{
			// ACM PCA writes the CRL into an SSE-KMS bucket only if it may
			// generate data keys with the bucket's key.
			Sid:        "AllowPrivateCAToWriteCRLs",
			Actions:    []string{"kms:GenerateDataKey", "kms:Decrypt"},
			Resources:  []string{"*"},
			Principals: []sp.Principal{{Type: "Service", Identifiers: []string{"acm-pca.amazonaws.com"}}},
			Conditions: []sp.Condition{
				{Test: "StringEquals", Variable: "aws:SourceAccount", Values: []string{account}},
				{Test: "ArnLike", Variable: "aws:SourceArn", Values: []string{caArnPattern}},
			},
		},
			// the bucket policy pins the exact distribution and the crl/ prefix
			cloudFrontMayDecrypt("AllowCloudFrontToDecryptCRLs", account),
		},
	})
	if err != nil {
		return nil, err
	}

	bucketName := b.names.DataBucket(PKIBucketKind)
	bucketArn := "arn:aws:s3:::" + bucketName
	// The bucket's one policy is written by the CRL distribution below
	// (TLS only, CloudFront reads of crl/ pinned to that distribution) with
	// the CA's publishing grant appended, so nothing overwrites it.
	bucket, err := sp.NewSecureBucket(b.stack, PKIBucketKind, &sp.SecureBucketProps{
		Name:           bucketName,
		KmsKeyArn:      key.KeyArn,
		Protect:        protect,
		ExternalPolicy: true,
		Lifecycle: []sp.LifecycleRule{{
			ID: "expire-old-crls", NoncurrentExpireDays: 30, AbortMultipartDays: cfg.Storage.AbortMultipartDays,
		}},
	})
	if err != nil {
		return nil, err
	}
	crlHost := cfg.ServiceHost(CRLHostService)
	crl, err := newCRLDistribution(b, bucket, crlHost, []sp.Statement{{
		// SourceArn: the CA's ARN is random and the CA can only be created
		// once this policy lets it write (ACM PCA checks the bucket at
		// creation), so naming the exact ARN would be a dependency cycle.
		// The condition pins the CA to this account and region's certificate
		// authorities; this stack creates the only one.
		Sid:        "AllowThisPrivateCAToPublishCRLs",
		Actions:    []string{"s3:PutObject", "s3:PutObjectAcl", "s3:GetBucketAcl", "s3:GetBucketLocation"},
		Resources:  []string{bucketArn, bucketArn + "/*"},
		Principals: []sp.Principal{{Type: "Service", Identifiers: []string{"acm-pca.amazonaws.com"}}},
		Conditions: []sp.Condition{
			{Test: "StringEquals", Variable: "aws:SourceAccount", Values: []string{account}},
			{Test: "ArnLike", Variable: "aws:SourceArn", Values: []string{caArnPattern}},
		},
	}})
	if err != nil {
		return nil, err
	}

	signing := "SHA256WITHECDSA"
	if id.KeyAlgorithm == "RSA_2048" {
		signing = "SHA256WITHRSA"
	}
	deletionDays := 7.0
	if protect {
		deletionDays = 30 // the longest window ACM PCA allows
	}
	subject := &acmpcacertificateauthority.AcmpcaCertificateAuthorityCertificateAuthorityConfigurationSubject{
		CommonName:   jsii.String(cfg.CACommonName()),
		Organization: jsii.String(id.Subject.Organization),
		Country:      jsii.String(id.Subject.Country),
	}
	if id.Subject.OrganizationalUnit != "" {
		subject.OrganizationalUnit = jsii.String(id.Subject.OrganizationalUnit)
	}
	ca := acmpcacertificateauthority.NewAcmpcaCertificateAuthority(b.stack, jsii.String("ca"), &acmpcacertificateauthority.AcmpcaCertificateAuthorityConfig{
		Type:      jsii.String("ROOT"),
		UsageMode: jsii.String("GENERAL_PURPOSE"),
		CertificateAuthorityConfiguration: &acmpcacertificateauthority.AcmpcaCertificateAuthorityCertificateAuthorityConfiguration{
			KeyAlgorithm: jsii.String(id.KeyAlgorithm), SigningAlgorithm: jsii.String(signing), Subject: subject,
		},
		RevocationConfiguration: &acmpcacertificateauthority.AcmpcaCertificateAuthorityRevocationConfiguration{
			CrlConfiguration: &acmpcacertificateauthority.AcmpcaCertificateAuthorityRevocationConfigurationCrlConfiguration{
				Enabled:          true,
				ExpirationInDays: jsii.Number(CRLValidityDays),
				S3BucketName:     jsii.String(bucketName),
				S3ObjectAcl:      jsii.String("BUCKET_OWNER_FULL_CONTROL"),
				// The CDP in every certificate is http://<crlHost>/crl/<ca-id>.crl,
				// which the CRL distribution serves from this bucket.
				CustomCname: jsii.String(crlHost),
			},
			// NATS reads no CRL; it asks OCSP (ocsp_peer).
			OcspConfiguration: &acmpcacertificateauthority.AcmpcaCertificateAuthorityRevocationConfigurationOcspConfiguration{
				Enabled: true,
			},
		},
		PermanentDeletionTimeInDays: jsii.Number(deletionDays),
		Tags:                        &map[string]*string{DeviceCertDaysTag: jsii.String(strconv.Itoa(id.DeviceCertDays))},
		Lifecycle:                   sp.Lifecycle(protect),
		DependsOn:                   &[]cdktf.ITerraformDependable{crl.Policy},
	})
	rootCert := acmpcacertificate.NewAcmpcaCertificate(b.stack, jsii.String("root-cert"), &acmpcacertificate.AcmpcaCertificateConfig{
		CertificateAuthorityArn:   ca.Arn(),
		CertificateSigningRequest: ca.CertificateSigningRequest(),
		SigningAlgorithm:          jsii.String(signing),
		TemplateArn:               jsii.String(RootCATemplate),
		Validity: &acmpcacertificate.AcmpcaCertificateValidity{
			Type: jsii.String("YEARS"), Value: jsii.String(strconv.Itoa(id.CAValidityYears)),
		},
	})
	acmpcacertificateauthoritycertificate.NewAcmpcaCertificateAuthorityCertificate(b.stack, jsii.String("root-cert-install"),
		&acmpcacertificateauthoritycertificate.AcmpcaCertificateAuthorityCertificateConfig{
			CertificateAuthorityArn: ca.Arn(), Certificate: rootCert.Certificate(),
		})

	// The presigner's ALB verifies device certificates against this trust
	// store. The bundle is the root certificate, a public document.
	bundle := s3object.NewS3Object(b.stack, jsii.String("ca-bundle"), &s3object.S3ObjectConfig{
		Bucket: bucket.Name, Key: jsii.String(TrustBundleKey), Content: rootCert.Certificate(),
		ContentType: jsii.String("application/x-pem-file"), ServerSideEncryption: jsii.String("aws:kms"), KmsKeyId: key.KeyArn,
	})
	trustStore := lbtruststore.NewLbTrustStore(b.stack, jsii.String("device-trust-store"), &lbtruststore.LbTrustStoreConfig{
		Name:                                jsii.String(b.names.Prefix() + "-devices"),
		CaCertificatesBundleS3Bucket:        bucket.Name,
		CaCertificatesBundleS3Key:           bundle.Key(),
		CaCertificatesBundleS3ObjectVersion: bundle.VersionId(),
	})
	// No aws_lb_trust_store_revocation: the ALB reads a revocation list once,
	// when it is added, and Terraform would attach one object once. The
	// crl-sync CronJob (services/crl-sync, role below) owns the trust
	// store's revocations and follows every CRL the CA publishes.

	caArn := *ca.Arn()
	issuer, err := sp.NewIrsaRole(b.stack, "pca-issuer-irsa", &sp.IrsaRoleProps{
		RoleName: b.names.Role(PCAIssuerRolePurpose), OidcProviderArn: cluster.OidcProviderArn, OidcIssuerURL: cluster.OidcIssuerURL,
		PermissionsBoundary: b.boundaryArn(),
		Namespace:           naming.NamespaceCertManager, ServiceAccount: PCAIssuerAccount,
		Statements: []sp.Statement{{
			Sid:       "IssueFromThisCAOnly",
			Actions:   []string{"acm-pca:DescribeCertificateAuthority", "acm-pca:GetCertificate", "acm-pca:IssueCertificate"},
			Resources: []string{caArn},
		}},
	})
	if err != nil {
		return nil, err
	}
	ledgerArn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", cfg.Region, account, b.names.DeviceLedgerTable())
	devicesArn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", cfg.Region, account, b.names.DevicesTable())
	enroll, err := sp.NewIrsaRole(b.stack, "device-enrollment-irsa", &sp.IrsaRoleProps{
		RoleName: b.names.Role("irsa-device-enrollment"), OidcProviderArn: cluster.OidcProviderArn, OidcIssuerURL: cluster.OidcIssuerURL,
		PermissionsBoundary: b.boundaryArn(),
		Namespace:           naming.NamespaceEdge, ServiceAccount: EnrollmentAccount,
		Statements: []sp.Statement{
			{Sid: "IssueClientAuthCertificatesOnly", Actions: []string{"acm-pca:IssueCertificate"}, Resources: []string{caArn},
				Conditions: []sp.Condition{{Test: "StringEquals", Variable: "acm-pca:TemplateArn", Values: []string{EndEntityClientAuthTemplate}}}},
			{Sid: "FetchIssuedCertificates", Actions: []string{"acm-pca:GetCertificate"}, Resources: []string{caArn}},
			{Sid: "RecordIssuedSerials", Actions: []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"},
				Resources: []string{ledgerArn}},
			{Sid: "ReadDeviceCertDaysTag", Actions: []string{"acm-pca:ListTags"}, Resources: []string{caArn}},
			// services/device-enrollment: check a device's one-time token
			// and consume it, in one conditional update, with the serial.
			{Sid: "CheckAndConsumeEnrollmentTokens", Actions: []string{"dynamodb:GetItem", "dynamodb:UpdateItem"},
				Resources: []string{devicesArn}},
		},
	})
	if err != nil {
		return nil, err
	}

	// crl-sync reads the CA's DER CRL and the CA certificate, writes the
	// PEM copy under trust/crl/ and swaps the trust store's revocation list.
	// AddTrustStoreRevocations makes the ALB read that object with the
	// caller's credentials (CloudFormation's handler for the same call needs
	// s3:GetObject and s3:GetObjectVersion), so the role reads trust/crl/*
	// too, by version. DescribeTrustStoreRevocations has no resource type in
	// the Service Authorization Reference (like every ELBv2 Describe*), so
	// it alone takes "*"; Add and Remove are pinned to this trust store.
	crlSync, err := sp.NewIrsaRole(b.stack, "crl-sync-irsa", &sp.IrsaRoleProps{
		RoleName: b.names.Role(CRLSyncRolePurpose), OidcProviderArn: cluster.OidcProviderArn, OidcIssuerURL: cluster.OidcIssuerURL,
		PermissionsBoundary: b.boundaryArn(),
		Namespace:           naming.NamespacePresigner, ServiceAccount: CRLSyncAccount,
		Statements: []sp.Statement{
			{Sid: "ReadTheCRLAndTheCA", Actions: []string{"s3:GetObject"},
				Resources: []string{bucketArn + "/" + CRLPrefix + "*", bucketArn + "/" + TrustBundleKey}},
			{Sid: "WriteAndReadPEMCRLs", Actions: []string{"s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"},
				Resources: []string{bucketArn + "/" + TrustStoreCRLPrefix + "*"}},
			// Without it S3 answers a missing key (no trust/crl/current.json
			// before the first run) with 403 instead of 404. The bucket's
			// keys are not secret: CRLs, the CA bundle, their PEM copies.
			{Sid: "TellMissingFromForbidden", Actions: []string{"s3:ListBucket"}, Resources: []string{bucketArn}},
			{Sid: "UseThePKIKey", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resources: []string{*key.KeyArn}},
			{Sid: "SwapThisTrustStoresRevocations", Actions: []string{
				"elasticloadbalancing:AddTrustStoreRevocations", "elasticloadbalancing:RemoveTrustStoreRevocations",
			}, Resources: []string{*trustStore.Arn()}},
			{Sid: "DescribeRevocations", Actions: []string{"elasticloadbalancing:DescribeTrustStoreRevocations"}, Resources: []string{"*"}},
		},
	})
	if err != nil {
		return nil, err
	}

	out := &IdentityOutputs{
		CAArn: ca.Arn(), PCAIssuerRoleArn: issuer.RoleArn, EnrollmentRoleArn: enroll.RoleArn,
		CRLSyncRoleArn: crlSync.RoleArn,
		PKIBucket:      bucket.Name, PKIKeyArn: key.KeyArn, TrustStoreArn: trustStore.Arn(), DeviceCertDays: id.DeviceCertDays,
		CRLHost: crlHost, CRLDistributionID: crl.ID,
	}
	b.output("ca_arn", "ARN of the private CA", ca.Arn(), false)
	b.output("pca_issuer_role_arn", "IRSA role of aws-privateca-issuer", issuer.RoleArn, false)
	b.output("device_enrollment_role_arn", "IRSA role of the device enrollment service", enroll.RoleArn, false)
	b.output("device_trust_store_arn", "ALB trust store of device certificates", trustStore.Arn(), false)
	b.output("crl_sync_role_arn", "IRSA role of the crl-sync CronJob (service account cdn-presigner/crl-sync)", crlSync.RoleArn, false)
	b.output("pki_bucket", "Bucket holding the CRL and CA bundle", bucket.Name, false)
	caID := cdktf.Fn_Element(cdktf.Fn_Split(jsii.String("/"), ca.Arn()), jsii.Number(1))
	b.output("crl_url", "CRL distribution point written into every certificate (http, as RFC 5280 expects)",
		cdktf.Fn_Join(jsii.String(""), &[]*string{jsii.String("http://" + crlHost + "/" + CRLPrefix), cdktf.Token_AsString(caID, nil), jsii.String(".crl")}), false)
	b.output("crl_distribution_id", "CloudFront distribution serving the CRL host", crl.ID, false)
	return out, nil
}

// newCRLDistribution serves the PKI bucket's crl/ prefix at host through
// CloudFront (OAC, us-east-1 certificate validated in Route53, alias
// records), so the CA's custom_cname resolves. The zone is looked up like
// the cdn stack's: the identity stack deploys before cdn, so an env with
// cdn.createHostedZone must create the zone before its first deploy.
func newCRLDistribution(b *base, bucket *sp.SecureBucket, host string, extra []sp.Statement) (*sp.CrlDistribution, error) {
	east, err := sp.NewAwsProvider(b.stack, "aws-us-east-1", b.providerProps(naming.ComponentIdentity, CertificateRegion, "us_east_1"))
	if err != nil {
		return nil, err
	}
	zoneID := b.publicZone()
	certArn, err := sp.NewDnsValidatedCertificate(b.stack, "crl-certificate", &sp.DnsValidatedCertificateProps{
		DomainName: host, ZoneID: zoneID, Provider: east,
	})
	if err != nil {
		return nil, err
	}
	dist, err := sp.NewCrlDistribution(b.stack, "crl", &sp.CrlDistributionProps{
		Name: b.names.Prefix(), Domain: host, CertificateArn: certArn,
		BucketName: bucket.Name, BucketArn: bucket.Arn, BucketRegionalDomainName: bucket.RegionalDomainName,
		ReadPrefix: CRLPrefix, PriceClass: b.cfg.CDN.PriceClass, ExtraBucketStatements: extra,
		// As the bucket's built-in policy would: the public access block first.
		PolicyAfter: []cdktf.ITerraformDependable{bucket.PublicAccessBlock},
	})
	if err != nil {
		return nil, err
	}
	for _, recordType := range []string{"A", "AAAA"} {
		route53record.NewRoute53Record(b.stack, jsii.String("crl-alias-"+recordType), &route53record.Route53RecordConfig{
			ZoneId: zoneID, Name: jsii.String(host), Type: jsii.String(recordType),
			Alias: &route53record.Route53RecordAlias{Name: dist.DomainName, ZoneId: dist.HostedZoneID, EvaluateTargetHealth: jsii.Bool(false)},
		})
	}
	return dist, nil
}
