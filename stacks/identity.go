package stacks

import (
	"fmt"
	"strconv"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/acmpcacertificateauthority"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/route53record"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/secretsmanagersecret"
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
	// EnrollmentAccount is the device-enrollment service's account in
	// namespace device-enrollment: it turns a device's CSR into a
	// certificate from the device CA.
	EnrollmentAccount = "device-enrollment"
	// CRLSyncAccount is the crl-sync CronJob's service account in
	// cdn-presigner: it copies the device CA's CRL into the presigner's ALB
	// trust store.
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

// ACM PCA templates. Every role that may call acm-pca:IssueCertificate is
// held to end-entity templates by an acm-pca:TemplateArn condition: none of
// them can mint a CA certificate (the Subordinate* templates) or pass a CSR
// through unchanged (the Blank* and *APIPassthrough templates).
const (
	// EndEntityClientAuthTemplate is the only template the enrollment role
	// may issue device certificates with: a leaf usable for TLS client auth.
	EndEntityClientAuthTemplate = "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1"
	// EndEntityServerAuthTemplate is a leaf for TLS server auth.
	EndEntityServerAuthTemplate = "arn:aws:acm-pca:::template/EndEntityServerAuthCertificate/V1"
	// EndEntityTemplate is a leaf for both (NATS routes, which dial and accept).
	EndEntityTemplate = "arn:aws:acm-pca:::template/EndEntityCertificate/V1"
)

// ServiceCertTemplates are the templates cert-manager's issuer may use on
// the service CA: aws-privateca-issuer picks one from a Certificate's
// usages ("client auth", "server auth", or both), so every in-cluster
// Certificate must list exactly those usages (tests/policy/certificates.rego).
var ServiceCertTemplates = []string{EndEntityClientAuthTemplate, EndEntityServerAuthTemplate, EndEntityTemplate}

// TrustBundleKey is the PKI-bucket object holding the device CA's
// certificate, the only trust anchor of the presigner's ALB trust store. The
// edge stack writes it from the installed CA certificate.
const TrustBundleKey = "trust/device-ca.pem"

// TrustStoreCRLPrefix is where crl-sync writes the device CA's CRL as PEM
// (trust/crl/<crlNumber>.pem, and its record trust/crl/current.json): the
// ALB takes only PEM, ACM PCA publishes DER.
const TrustStoreCRLPrefix = "trust/crl/"

// PKIBucketKind names the PKI bucket: spatial-pki-<org>-<env>-<region>.
const PKIBucketKind = naming.PKIBucketKind

// CRLPrefix is the key prefix ACM PCA writes CRLs under in the PKI bucket
// (crl/<ca-id>.crl) and the path they are served at on the CRL host; the
// CRL distribution may read nothing else of the bucket.
const CRLPrefix = "crl/"

// CRLHostService names the CRL host: crl.<env>.<domain> (crl.<domain> in
// prod), the device CA's custom_cname and the CloudFront alias.
const CRLHostService = "crl"

// CRLValidityDays is how long a published CRL stays valid; ACM PCA
// republishes it well before (and within about 30 minutes of a revocation).
const CRLValidityDays = 7

// DeviceCertDaysTag is the device CA tag that carries identity.deviceCertDays
// to the enrollment service (acm-pca:ListTags) and to the Rego check that it
// fits the CA's usage mode. A tag rather than an SSM parameter: the repo's
// secrets policy keeps every parameter value out of Terraform state.
const DeviceCertDaysTag = "DeviceCertDays"

// CAPurposeTag marks each subordinate CA "device" or "service", so the PKI
// ceremony (spctl pki ceremony) and spctl verify find them by tag.
const CAPurposeTag = naming.CAPurposeTag

// Subordinate CA purposes (CAPurposeTag values and the CAs' common names).
const (
	DeviceCAPurpose  = naming.DeviceCAPurpose
	ServiceCAPurpose = naming.ServiceCAPurpose
)

// IdentityOutputs are what the platform and edge stacks consume.
type IdentityOutputs struct {
	// DeviceCAArn is the device subordinate CA: device certificates, the
	// CRL, OCSP. The ALB trust store and the agents' NATS listener trust it
	// and nothing else.
	DeviceCAArn *string
	// ServiceCAArn is the service subordinate CA (short-lived mode): every
	// in-cluster certificate. In-cluster mTLS trusts it and nothing else.
	ServiceCAArn      *string
	PCAIssuerRoleArn  *string
	EnrollmentRoleArn *string
	// CRLSyncRoleArn is the crl-sync CronJob's IRSA role.
	CRLSyncRoleArn *string
	PKIBucket      *string
	PKIKeyArn      *string
	DeviceCertDays int
	// CRLHost serves the device CA's CRLs (http and https) through CloudFront.
	CRLHost string
	// CRLDistributionID is the CloudFront distribution in front of the
	// PKI bucket's crl/ prefix.
	CRLDistributionID *string
}

// NewIdentityStack creates the environment's subordinate CAs, the bucket
// the device CA's CRL is published to and the roles that issue
// certificates:
//
//   - a device subordinate CA (usage mode identity.deviceCAMode) with CRL and
//     OCSP, for agents;
//   - a service subordinate CA in short-lived mode for in-cluster
//     certificates (cert-manager renews them every few days).
//
// Their root is the offline KMS key of the cicd stack (newPKIRoot, deployed
// by a human, out of CI's reach): the CAs stay PENDING_CERTIFICATE until
// `spctl pki ceremony` signs their CSRs with it, so CI creates CAs but can
// never make one trusted. Why not an ACM PCA root: a general-purpose ACM
// PCA CA costs USD 400 a month and a short-lived one cannot sign a CA, so a
// root plus two subordinates would cost at least 850 per env; the KMS root
// costs 1.
//
// It is its own stack because a CA outlives the workloads that use it:
// destroying edge or platform must never take the CAs (and every device's
// trust anchor) with them.
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
		// authorities; this stack creates the only ones.
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

	device := newSubordinateCA(b, DeviceCAPurpose, id.DeviceCAMode, &acmpcacertificateauthority.AcmpcaCertificateAuthorityRevocationConfiguration{
		CrlConfiguration: &acmpcacertificateauthority.AcmpcaCertificateAuthorityRevocationConfigurationCrlConfiguration{
			Enabled:          true,
			ExpirationInDays: jsii.Number(CRLValidityDays),
			S3BucketName:     jsii.String(bucketName),
			S3ObjectAcl:      jsii.String("BUCKET_OWNER_FULL_CONTROL"),
			// The CDP in every device certificate is
			// http://<crlHost>/crl/<ca-id>.crl, which the CRL
			// distribution serves from this bucket.
			CustomCname: jsii.String(crlHost),
		},
		// NATS reads no CRL; it asks OCSP (ocsp_peer).
		OcspConfiguration: &acmpcacertificateauthority.AcmpcaCertificateAuthorityRevocationConfigurationOcspConfiguration{
			Enabled: true,
		},
	}, map[string]string{DeviceCertDaysTag: strconv.Itoa(id.DeviceCertDays)}, crl.Policy)
	// The service CA keeps no CRL and no OCSP responder: its certificates
	// live 6 days (NATSCertDuration) and are renewed by cert-manager, so a
	// revocation would arrive about as late as the expiry. A compromised
	// in-cluster key is handled by deleting its Secret (cert-manager issues
	// a new key) and, if need be, replacing the CA.
	service := newSubordinateCA(b, ServiceCAPurpose, envs.CAModeShortLived, nil, nil, crl.Policy)
	deviceArn, serviceArn := *device.Arn(), *service.Arn()

	// The NATS auth callout's account key is the other identity root: the
	// ceremony writes it straight into this secret (created empty here), so
	// it never passes through Terraform.
	recovery := 0
	if protect {
		recovery = SecretRecoveryDays
	}
	natsKey := secretsmanagersecret.NewSecretsmanagerSecret(b.stack, jsii.String("nats-auth-callout"), &secretsmanagersecret.SecretsmanagerSecretConfig{
		Name: jsii.String(b.names.Secret(NATSAuthSecretName)),
		Description: jsii.String(`Account nkey of the NATS auth callout of ` + b.names.Prefix() + ` as JSON {"seed": "SA...", "public": "A..."}; ` +
			"written by spctl pki ceremony, never by Terraform"),
		RecoveryWindowInDays: jsii.Number(float64(recovery)),
		Lifecycle:            sp.Lifecycle(protect),
	})

	issuer, err := sp.NewIrsaRole(b.stack, "pca-issuer-irsa", &sp.IrsaRoleProps{
		RoleName: b.names.Role(PCAIssuerRolePurpose), OidcProviderArn: cluster.OidcProviderArn, OidcIssuerURL: cluster.OidcIssuerURL,
		PermissionsBoundary: b.boundaryArn(),
		Namespace:           naming.NamespaceCertManager, ServiceAccount: PCAIssuerAccount,
		Statements: []sp.Statement{
			{Sid: "IssueEndEntityFromTheServiceCAOnly", Actions: []string{"acm-pca:IssueCertificate"}, Resources: []string{serviceArn},
				Conditions: []sp.Condition{{Test: "StringEquals", Variable: "acm-pca:TemplateArn", Values: ServiceCertTemplates}}},
			{Sid: "ReadTheServiceCA", Actions: []string{"acm-pca:DescribeCertificateAuthority", "acm-pca:GetCertificate"},
				Resources: []string{serviceArn}},
		},
	})
	if err != nil {
		return nil, err
	}
	ledgerArn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", cfg.Region, account, b.names.DeviceLedgerTable())
	enroll, err := sp.NewIrsaRole(b.stack, "device-enrollment-irsa", &sp.IrsaRoleProps{
		RoleName: b.names.Role("irsa-device-enrollment"), OidcProviderArn: cluster.OidcProviderArn, OidcIssuerURL: cluster.OidcIssuerURL,
		PermissionsBoundary: b.boundaryArn(),
		Namespace:           naming.NamespaceEnrollment, ServiceAccount: EnrollmentAccount,
		Statements: []sp.Statement{
			{Sid: "IssueClientAuthCertificatesOnly", Actions: []string{"acm-pca:IssueCertificate"}, Resources: []string{deviceArn},
				Conditions: []sp.Condition{{Test: "StringEquals", Variable: "acm-pca:TemplateArn", Values: []string{EndEntityClientAuthTemplate}}}},
			{Sid: "FetchIssuedCertificates", Actions: []string{"acm-pca:GetCertificate"}, Resources: []string{deviceArn}},
			{Sid: "RecordIssuedSerials", Actions: []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"},
				Resources: []string{ledgerArn}},
			// device records and one-time enrollment tokens (tokenHash is
			// removed when used: an UpdateItem)
			{Sid: "CheckAndUpdateDeviceRecords", Actions: []string{"dynamodb:GetItem", "dynamodb:UpdateItem"},
				Resources: []string{b.devicesTableArn()}},
			{Sid: "ReadDeviceCertDaysTag", Actions: []string{"acm-pca:ListTags"}, Resources: []string{deviceArn}},
			b.deviceKeyThroughDynamoDB("UseTheDevicesKeyThroughDynamoDB", "kms:Decrypt", "kms:GenerateDataKey"),
		},
	})
	if err != nil {
		return nil, err
	}

	// crl-sync reads the device CA's DER CRL and its certificate, writes the
	// PEM copy under trust/crl/ and swaps the trust store's revocation list.
	// AddTrustStoreRevocations makes the ALB read that object with the
	// caller's credentials (CloudFormation's handler for the same call needs
	// s3:GetObject and s3:GetObjectVersion), so the role reads trust/crl/*
	// too, by version. DescribeTrustStoreRevocations has no resource type in
	// the Service Authorization Reference (like every ELBv2 Describe*), so
	// it alone takes "*"; Add and Remove are pinned to the trust store by
	// name (the edge stack creates it, after the PKI ceremony).
	trustStores := fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:truststore/%s/*", cfg.Region, account, b.names.DeviceTrustStore())
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
			{Sid: "UseThePKIKey", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resources: []string{*key.KeyArn},
				Conditions: []sp.Condition{viaServices(cfg.Region, "s3")}},
			{Sid: "SwapThisTrustStoresRevocations", Actions: []string{
				"elasticloadbalancing:AddTrustStoreRevocations", "elasticloadbalancing:RemoveTrustStoreRevocations",
			}, Resources: []string{trustStores}},
			{Sid: "DescribeRevocations", Actions: []string{"elasticloadbalancing:DescribeTrustStoreRevocations"}, Resources: []string{"*"}},
		},
	})
	if err != nil {
		return nil, err
	}

	out := &IdentityOutputs{
		DeviceCAArn: device.Arn(), ServiceCAArn: service.Arn(),
		PCAIssuerRoleArn: issuer.RoleArn, EnrollmentRoleArn: enroll.RoleArn,
		CRLSyncRoleArn: crlSync.RoleArn,
		PKIBucket:      bucket.Name, PKIKeyArn: key.KeyArn, DeviceCertDays: id.DeviceCertDays,
		CRLHost: crlHost, CRLDistributionID: crl.ID,
	}
	b.output("device_ca_arn", "ARN of the device subordinate CA (device certificates, CRL, OCSP)", device.Arn(), false)
	b.output("service_ca_arn", "ARN of the service subordinate CA (in-cluster certificates, short-lived mode)", service.Arn(), false)
	b.output("nats_auth_callout_secret", "Secrets Manager secret the ceremony writes the NATS callout's account key to", natsKey.Name(), false)
	b.output("pca_issuer_role_arn", "IRSA role of aws-privateca-issuer", issuer.RoleArn, false)
	b.output("device_enrollment_role_arn", "IRSA role of the device enrollment service", enroll.RoleArn, false)
	b.output("crl_sync_role_arn", "IRSA role of the crl-sync CronJob (service account cdn-presigner/crl-sync)", crlSync.RoleArn, false)
	b.output("pki_bucket", "Bucket holding the device CA's CRL and its certificate", bucket.Name, false)
	caID := cdktf.Fn_Element(cdktf.Fn_Split(jsii.String("/"), device.Arn()), jsii.Number(1))
	b.output("crl_url", "CRL distribution point written into every device certificate (http, as RFC 5280 expects)",
		cdktf.Fn_Join(jsii.String(""), &[]*string{jsii.String("http://" + crlHost + "/" + CRLPrefix), cdktf.Token_AsString(caID, nil), jsii.String(".crl")}), false)
	b.output("crl_distribution_id", "CloudFront distribution serving the CRL host", crl.ID, false)
	return out, nil
}

// newSubordinateCA creates one subordinate CA of the hierarchy, in state
// PENDING_CERTIFICATE until `spctl pki ceremony` signs its CSR with the
// root key and installs the certificate.
func newSubordinateCA(b *base, purpose, mode string, revocation *acmpcacertificateauthority.AcmpcaCertificateAuthorityRevocationConfiguration,
	tags map[string]string, after cdktf.ITerraformDependable) acmpcacertificateauthority.AcmpcaCertificateAuthority {
	id := b.cfg.Identity
	signing := "SHA256WITHECDSA"
	if id.KeyAlgorithm == "RSA_2048" {
		signing = "SHA256WITHRSA"
	}
	deletionDays := 7.0
	if b.cfg.Protect() {
		deletionDays = 30 // the longest window ACM PCA allows
	}
	subject := &acmpcacertificateauthority.AcmpcaCertificateAuthorityCertificateAuthorityConfigurationSubject{
		CommonName:   jsii.String(b.cfg.SubordinateCommonName(purpose)),
		Organization: jsii.String(id.Subject.Organization),
		Country:      jsii.String(id.Subject.Country),
	}
	if id.Subject.OrganizationalUnit != "" {
		subject.OrganizationalUnit = jsii.String(id.Subject.OrganizationalUnit)
	}
	allTags := map[string]string{CAPurposeTag: purpose}
	for k, v := range tags {
		allTags[k] = v
	}
	return acmpcacertificateauthority.NewAcmpcaCertificateAuthority(b.stack, jsii.String(purpose+"-ca"), &acmpcacertificateauthority.AcmpcaCertificateAuthorityConfig{
		Type:      jsii.String("SUBORDINATE"),
		UsageMode: jsii.String(mode),
		CertificateAuthorityConfiguration: &acmpcacertificateauthority.AcmpcaCertificateAuthorityCertificateAuthorityConfiguration{
			KeyAlgorithm: jsii.String(id.KeyAlgorithm), SigningAlgorithm: jsii.String(signing), Subject: subject,
		},
		RevocationConfiguration:     revocation,
		PermanentDeletionTimeInDays: jsii.Number(deletionDays),
		Tags:                        sp.StringMap(allTags),
		Lifecycle:                   sp.Lifecycle(b.cfg.Protect()),
		DependsOn:                   &[]cdktf.ITerraformDependable{after},
	})
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
