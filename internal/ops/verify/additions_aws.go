package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// Checks of the edge & marketplace additions that AWS answers: the device
// CA, the beacon registry, the billing queue and the provenance gate. Each
// reads the setting a quiet misconfiguration would break, not only that
// the resource exists.

// PKIBucketKind is the data-bucket kind of the CA's CRL bucket.
const PKIBucketKind = "pki"

// subordinateCA finds one of this env's CAs by common name (the identity stack
// names them "<org> <env> device CA" and "<org> <env> service CA").
func (a *awsChecks) subordinateCA(ctx context.Context, purpose string) (pcatypes.CertificateAuthority, error) {
	cn := a.cfg.SubordinateCommonName(purpose)
	p := acmpca.NewListCertificateAuthoritiesPaginator(a.d.PCA, &acmpca.ListCertificateAuthoritiesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return pcatypes.CertificateAuthority{}, notRunf("list private CAs: could not look: %s", brief(err))
		}
		for _, ca := range page.CertificateAuthorities {
			c := ca.CertificateAuthorityConfiguration
			if ca.Status == pcatypes.CertificateAuthorityStatusDeleted || c == nil || c.Subject == nil || aws.ToString(c.Subject.CommonName) != cn {
				continue
			}
			return ca, nil
		}
	}
	return pcatypes.CertificateAuthority{}, failf("no private CA named %q", cn)
}

// caProblems are what every subordinate CA must be: signed by the offline
// root (ACTIVE; PENDING_CERTIFICATE until the PKI ceremony), SUBORDINATE,
// in the expected usage mode.
func caProblems(ca pcatypes.CertificateAuthority, mode string) []string {
	var problems []string
	if ca.Status != pcatypes.CertificateAuthorityStatusActive {
		problems = append(problems, "status "+string(ca.Status))
	}
	if ca.Type != pcatypes.CertificateAuthorityTypeSubordinate {
		problems = append(problems, "type "+string(ca.Type)+" (the root is the offline KMS key; every ACM PCA CA is a subordinate)")
	}
	if string(ca.UsageMode) != mode {
		problems = append(problems, "usage mode "+string(ca.UsageMode)+", want "+mode)
	}
	return problems
}

// deviceCA: the device CA is ACTIVE, a subordinate in identity.deviceCAMode
// (short-lived mode issues at most 7-day certificates), publishes its CRL
// to this env's PKI bucket (the presigner's ALB refuses revoked devices
// from it) and answers OCSP (NATS's agents listener asks it).
func (a *awsChecks) deviceCA(ctx context.Context) (string, error) {
	ca, err := a.subordinateCA(ctx, naming.DeviceCAPurpose)
	if err != nil {
		return "", err
	}
	bucket := a.names.DataBucket(PKIBucketKind)
	problems := caProblems(ca, a.cfg.Identity.DeviceCAMode)
	rc := ca.RevocationConfiguration
	if rc == nil || rc.OcspConfiguration == nil || !aws.ToBool(rc.OcspConfiguration.Enabled) {
		problems = append(problems, "OCSP off (NATS checks agents through OCSP only)")
	}
	if rc == nil || rc.CrlConfiguration == nil || !aws.ToBool(rc.CrlConfiguration.Enabled) || aws.ToString(rc.CrlConfiguration.S3BucketName) != bucket {
		problems = append(problems, "no CRL published to "+bucket+" (the presigner's ALB refuses revoked devices from it)")
	}
	if len(problems) > 0 {
		return "", failf("%s: %s", aws.ToString(ca.Arn), strings.Join(problems, "; "))
	}
	return fmt.Sprintf("%s ACTIVE, %s, OCSP and CRL (to %s) on", aws.ToString(ca.Arn), ca.UsageMode, bucket), nil
}

// serviceCA: the service CA (every in-cluster certificate) is ACTIVE, a
// subordinate in short-lived mode.
func (a *awsChecks) serviceCA(ctx context.Context) (string, error) {
	ca, err := a.subordinateCA(ctx, naming.ServiceCAPurpose)
	if err != nil {
		return "", err
	}
	if problems := caProblems(ca, envs.CAModeShortLived); len(problems) > 0 {
		return "", failf("%s: %s", aws.ToString(ca.Arn), strings.Join(problems, "; "))
	}
	return fmt.Sprintf("%s ACTIVE, %s", aws.ToString(ca.Arn), ca.UsageMode), nil
}

// beaconTable: key venueId+beaconId, TTL on expiresAt (expired ids vanish
// after their grace window), PITR, a customer-managed key and, outside
// dev, deletion protection.
func (a *awsChecks) beaconTable(ctx context.Context) (string, error) {
	name := a.names.BeaconTable()
	t, err := a.d.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return "", callErr(err, "table "+name)
	}
	var problems []string
	var keys []string
	for _, k := range t.Table.KeySchema {
		keys = append(keys, aws.ToString(k.AttributeName)+"/"+string(k.KeyType))
	}
	if !slices.Equal(keys, []string{"venueId/HASH", "beaconId/RANGE"}) {
		problems = append(problems, "key "+strings.Join(keys, ",")+", want venueId/HASH,beaconId/RANGE")
	}
	if sse := t.Table.SSEDescription; sse == nil || sse.SSEType != ddbtypes.SSETypeKms || aws.ToString(sse.KMSMasterKeyArn) == "" {
		problems = append(problems, "not encrypted with a customer-managed KMS key")
	}
	if a.cfg.Protect() && !aws.ToBool(t.Table.DeletionProtectionEnabled) {
		problems = append(problems, "deletion protection off")
	}
	ttl, err := a.d.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return "", callErr(err, "table "+name+": time to live")
	}
	if ttl.TimeToLiveDescription == nil || ttl.TimeToLiveDescription.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled ||
		aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "expiresAt" {
		problems = append(problems, "TTL is not enabled on expiresAt (rotated ids would never expire)")
	}
	b, err := a.d.DynamoDB.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
	if err != nil {
		return "", callErr(err, "table "+name+": point-in-time recovery")
	}
	if b.ContinuousBackupsDescription == nil || b.ContinuousBackupsDescription.PointInTimeRecoveryDescription == nil ||
		b.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != ddbtypes.PointInTimeRecoveryStatusEnabled {
		problems = append(problems, "point-in-time recovery off")
	}
	if len(problems) > 0 {
		return "", failf("table %s: %s", name, strings.Join(problems, "; "))
	}
	return name + ": venueId+beaconId, TTL expiresAt, PITR, KMS", nil
}

// BillingQueue is the marketplace's billing-events queue name.
func BillingQueue(prefix string) string { return prefix + "-billing-events" }

// billingQueue: the queue exists, is KMS-encrypted, and hands poison
// events to a dead-letter queue instead of retrying them forever.
func (a *awsChecks) billingQueue(ctx context.Context) (string, error) {
	name := BillingQueue(a.names.Prefix())
	u, err := a.d.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return "", callErr(err, "queue "+name)
	}
	out, err := a.d.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		return "", callErr(err, "queue "+name)
	}
	var problems []string
	if out.Attributes[string(sqstypes.QueueAttributeNameKmsMasterKeyId)] == "" {
		problems = append(problems, "no KMS key")
	}
	if out.Attributes[string(sqstypes.QueueAttributeNameRedrivePolicy)] == "" {
		problems = append(problems, "no dead-letter queue")
	}
	if len(problems) > 0 {
		return "", failf("queue %s: %s", name, strings.Join(problems, "; "))
	}
	return name + ": KMS-encrypted, dead-letter queue set", nil
}

// ProvenanceKeyAlias is the provenance gate's signing key alias.
func ProvenanceKeyAlias(prefix string) string { return "alias/" + prefix + "-provenance" }

// provenanceKey: the signing key is an enabled ECC P-256 sign/verify key.
func (a *awsChecks) provenanceKey(ctx context.Context) (string, error) {
	alias := ProvenanceKeyAlias(a.names.Prefix())
	out, err := a.d.KMS.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(alias)})
	if err != nil {
		return "", callErr(err, "key "+alias)
	}
	m := out.KeyMetadata
	if m.KeySpec != kmstypes.KeySpecEccNistP256 || m.KeyUsage != kmstypes.KeyUsageTypeSignVerify || !m.Enabled {
		return "", failf("key %s is %s/%s enabled=%t, want ECC_NIST_P256/SIGN_VERIFY enabled", alias, m.KeySpec, m.KeyUsage, m.Enabled)
	}
	return alias + ": ECC_NIST_P256, SIGN_VERIFY", nil
}

// publishGate: the packs bucket policy denies PutObject under published/
// (everyone but the provenance gate is refused there).
func (a *awsChecks) publishGate(ctx context.Context) (string, error) {
	bucket := a.names.DataBucket("packs")
	out, err := a.d.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", a.bucketErr(err, bucket, "no bucket policy")
	}
	var doc struct {
		Statement []struct {
			Sid      string
			Effect   string
			Action   any
			Resource any
		}
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc); err != nil {
		return "", failf("%s: policy is not JSON: %v", bucket, err)
	}
	for _, s := range doc.Statement {
		if s.Effect == "Deny" && mentions(s.Action, "s3:PutObject") && mentions(s.Resource, "/published/") {
			return fmt.Sprintf("%s: statement %q denies PutObject under published/", bucket, s.Sid), nil
		}
	}
	return "", failf("%s: no Deny of s3:PutObject on published/*: anyone with write access could publish an unverified pack", bucket)
}

// mentions reports whether a policy field (a string or a list) contains s.
func mentions(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, s)
	case []any:
		return slices.ContainsFunc(x, func(e any) bool { return mentions(e, s) })
	}
	return false
}
