package verify

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/ops/opstest"
)

// buildAdditions creates the edge & marketplace additions' AWS resources
// the way the identity, edge, cdn and marketplace stacks do, minus what b
// breaks.
func buildAdditions(t *testing.T, c clients, cfg *envs.Config, n naming.Names, b breakage) {
	ctx := context.Background()
	pki := aws.String(n.DataBucket(PKIBucketKind))
	must(c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: pki,
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(cfg.Region)}}))
	must(c.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: pki, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
		Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
			SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("arn:aws:kms:ap-southeast-2:123456789012:key/pki")}}}}}))
	must(c.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: pki, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
		BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}))

	deviceMode := cfg.Identity.DeviceCAMode
	if b.deviceCAMode != "" {
		deviceMode = b.deviceCAMode
	}
	subordinateCA(t, c, cfg, naming.DeviceCAPurpose, deviceMode, &pcatypes.RevocationConfiguration{
		CrlConfiguration:  &pcatypes.CrlConfiguration{Enabled: aws.Bool(true), S3BucketName: pki, ExpirationInDays: aws.Int32(7)},
		OcspConfiguration: &pcatypes.OcspConfiguration{Enabled: aws.Bool(!b.caNoOCSP)}}, !b.pendingCA)
	subordinateCA(t, c, cfg, naming.ServiceCAPurpose, envs.CAModeShortLived, nil, !b.pendingSvcCA)

	if cfg.Edge.Enabled {
		table := aws.String(n.BeaconTable())
		must(c.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: table, BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{
				{AttributeName: aws.String("venueId"), AttributeType: ddbtypes.ScalarAttributeTypeS},
				{AttributeName: aws.String("beaconId"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema: []ddbtypes.KeySchemaElement{
				{AttributeName: aws.String("venueId"), KeyType: ddbtypes.KeyTypeHash},
				{AttributeName: aws.String("beaconId"), KeyType: ddbtypes.KeyTypeRange}},
			SSESpecification: &ddbtypes.SSESpecification{Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms,
				KMSMasterKeyId: aws.String("arn:aws:kms:ap-southeast-2:123456789012:key/beacons")},
			DeletionProtectionEnabled: aws.Bool(cfg.Protect()),
		}))
		if !b.beaconNoTTL {
			must(c.ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: table,
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String("expiresAt"), Enabled: aws.Bool(true)}}))
		}
		must(c.ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: table,
			PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}))
	}

	must(c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(n.Prefix() + "-billing-events-dlq")}))
	dlqArn := fmt.Sprintf("arn:aws:sqs:%s:123456789012:%s-billing-events-dlq", cfg.Region, n.Prefix())
	attrs := map[string]string{"KmsMasterKeyId": "alias/" + n.Prefix() + "-billing"}
	if !b.billingNoDLQ {
		attrs["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"5"}`, dlqArn)
	}
	must(c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(BillingQueue(n.Prefix())), Attributes: attrs}))

	spec, usage := kmstypes.KeySpecEccNistP256, kmstypes.KeyUsageTypeSignVerify
	if b.symmetricProv {
		spec, usage = kmstypes.KeySpecSymmetricDefault, kmstypes.KeyUsageTypeEncryptDecrypt
	}
	key := must(c.kms.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage}))
	must(c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(ProvenanceKeyAlias(n.Prefix())), TargetKeyId: key.KeyMetadata.KeyId}))

	packs := n.DataBucket("packs")
	stmt := `{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::` + packs + `/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`
	if !b.noPublishDeny {
		stmt += `,{"Sid":"OnlyTheProvenanceGatePublishes","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::` + packs + `/published/*",` +
			`"Condition":{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::123456789012:role/` + n.Role("irsa-provenance-gate") + `"}}}`
	}
	must(c.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(packs),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[` + stmt + `]}`)}))
}

// subordinateCA creates one of the identity stack's subordinate CAs and,
// when signed, installs a certificate as the PKI ceremony would.
func subordinateCA(t *testing.T, c clients, cfg *envs.Config, purpose, mode string, rc *pcatypes.RevocationConfiguration, signed bool) {
	ctx := context.Background()
	cn := cfg.SubordinateCommonName(purpose)
	ca := must(c.pca.CreateCertificateAuthority(ctx, &acmpca.CreateCertificateAuthorityInput{
		CertificateAuthorityType: pcatypes.CertificateAuthorityTypeSubordinate, UsageMode: pcatypes.CertificateAuthorityUsageMode(mode),
		CertificateAuthorityConfiguration: &pcatypes.CertificateAuthorityConfiguration{
			KeyAlgorithm: pcatypes.KeyAlgorithmEcPrime256v1, SigningAlgorithm: pcatypes.SigningAlgorithmSha256withecdsa,
			Subject: &pcatypes.ASN1Subject{CommonName: aws.String(cn)}},
		RevocationConfiguration: rc,
	}))
	c.caModes[aws.ToString(ca.CertificateAuthorityArn)] = pcatypes.CertificateAuthorityUsageMode(mode)
	if signed {
		certPEM, _ := opstest.SelfSignedCert(t, cn, 3650)
		must(c.pca.ImportCertificateAuthorityCertificate(ctx, &acmpca.ImportCertificateAuthorityCertificateInput{
			CertificateAuthorityArn: ca.CertificateAuthorityArn, Certificate: certPEM, CertificateChain: certPEM}))
	}
}

// pcaGap fills in what moto 5.x drops: it ignores CreateCertificateAuthority's
// UsageMode and reports every CA as SHORT_LIVED_CERTIFICATE. This wrapper
// reports the mode the fixture asked for; everything else is moto's.
type pcaGap struct {
	*acmpca.Client
	modes map[string]pcatypes.CertificateAuthorityUsageMode
}

func (g pcaGap) ListCertificateAuthorities(ctx context.Context, in *acmpca.ListCertificateAuthoritiesInput, opts ...func(*acmpca.Options)) (*acmpca.ListCertificateAuthoritiesOutput, error) {
	out, err := g.Client.ListCertificateAuthorities(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	for i, ca := range out.CertificateAuthorities {
		if mode, ok := g.modes[aws.ToString(ca.Arn)]; ok {
			out.CertificateAuthorities[i].UsageMode = mode
		}
	}
	return out, nil
}
