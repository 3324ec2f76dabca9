// Package edgeworld builds, on moto_server, the AWS resources the edge and
// marketplace services stand on, named and keyed as the stacks create them
// (naming.Names for a test-unique org): the packs and DTN buckets, the
// devices, device-ledger, entitlements and beacons tables, the DTN and
// billing queues with their dead-letter queues, the provenance and CDN
// signing keys, and a device CA. Each service's tests take the parts they
// need; the end-to-end edge scenario (services/edge-e2e) takes them all.
package edgeworld

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

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
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/internal/ops/opstest"
	"github.com/spatialprops/spatialprops-infra/marketplace"
)

// World is one test's set of resources.
type World struct {
	AWS   aws.Config
	Names naming.Names

	PacksBucket, DTNBucket                                        string
	DevicesTable, LedgerTable, EntitlementsTable, BeaconsTable    string
	DTNQueueURL, DTNDeadLetterURL, BillingQueueURL, BillingDLQURL string
	// ProvenanceKey and CDNSignerKey are key ARNs; their aliases are
	// Names.ProvenanceKeyAlias() and CDNSignerAlias.
	ProvenanceKey, CDNSignerKey string
	CDNSignerAlias              string
	// DeviceCA is an active root CA whose certificate is its own (so
	// issued certificates chain to it).
	DeviceCA string
}

// Options tune what the emulator cannot wait for in real time.
type Options struct {
	// VisibilitySeconds of the queues (default 1: a message left
	// unacknowledged comes back after a second).
	VisibilitySeconds int
	// MaxReceives before a message moves to its dead-letter queue
	// (default 3).
	MaxReceives int
}

// New creates the world in a fresh org on the test's moto_server.
func New(t testing.TB, o Options) *World {
	t.Helper()
	if o.VisibilitySeconds == 0 {
		o.VisibilitySeconds = 1
	}
	if o.MaxReceives == 0 {
		o.MaxReceives = 3
	}
	ctx := context.Background()
	n := naming.New(motoserver.UniqueName("w"), "dev", motoserver.Region)
	cfg := opstest.AWS(t, motoserver.Region)
	w := &World{AWS: cfg, Names: n, CDNSignerAlias: "alias/" + n.Prefix() + "-cdn-signer"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("edgeworld: %v", err)
		}
	}

	s3c := w.S3()
	w.PacksBucket, w.DTNBucket = n.DataBucket("packs"), n.DataBucket("dtn")
	for _, b := range []string{w.PacksBucket, w.DTNBucket} {
		_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b),
			CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(motoserver.Region)}})
		must(err)
	}

	db := dynamodb.NewFromConfig(cfg)
	table := func(name string, hash, rng string, gsi string) {
		attrs := []ddbtypes.AttributeDefinition{{AttributeName: aws.String(hash), AttributeType: ddbtypes.ScalarAttributeTypeS}}
		keys := []ddbtypes.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: ddbtypes.KeyTypeHash}}
		if rng != "" {
			attrs = append(attrs, ddbtypes.AttributeDefinition{AttributeName: aws.String(rng), AttributeType: ddbtypes.ScalarAttributeTypeS})
			keys = append(keys, ddbtypes.KeySchemaElement{AttributeName: aws.String(rng), KeyType: ddbtypes.KeyTypeRange})
		}
		in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest, AttributeDefinitions: attrs, KeySchema: keys}
		if gsi != "" {
			in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(gsi), AttributeType: ddbtypes.ScalarAttributeTypeS})
			in.GlobalSecondaryIndexes = []ddbtypes.GlobalSecondaryIndex{{IndexName: aws.String(naming.DeviceLedgerCohortIndex),
				KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String(gsi), KeyType: ddbtypes.KeyTypeHash}},
				Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll}}}
		}
		_, err := db.CreateTable(ctx, in)
		must(err)
	}
	w.DevicesTable, w.LedgerTable, w.EntitlementsTable, w.BeaconsTable = n.DevicesTable(), n.DeviceLedgerTable(), n.EntitlementsTable(), n.BeaconTable()
	table(w.DevicesTable, edge.DeviceKey, "", "")
	table(w.LedgerTable, edge.LedgerSerial, "", edge.LedgerCohort)
	table(w.EntitlementsTable, "subject", "pack", "")
	table(w.BeaconsTable, edge.BeaconAttrVenueID, edge.BeaconAttrBeaconID, "")

	q := sqs.NewFromConfig(cfg)
	queue := func(name, dlqArn string) (url, arn string) {
		attrs := map[string]string{"VisibilityTimeout": fmt.Sprint(o.VisibilitySeconds)}
		if dlqArn != "" {
			attrs["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, dlqArn, o.MaxReceives)
		}
		out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		must(err)
		a, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		must(err)
		return aws.ToString(out.QueueUrl), a.Attributes["QueueArn"]
	}
	var dlq string
	w.DTNDeadLetterURL, dlq = queue(n.DTNDeadLetterQueue(), "")
	w.DTNQueueURL, _ = queue(n.DTNOutboxQueue(), dlq)
	w.BillingDLQURL, dlq = queue(n.BillingDeadLetterQueue(), "")
	w.BillingQueueURL, _ = queue(n.BillingEventsQueue(), dlq)

	k := kms.NewFromConfig(cfg)
	signingKey := func(alias string) string {
		out, err := k.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
		must(err)
		_, err = k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: out.KeyMetadata.KeyId})
		must(err)
		return aws.ToString(out.KeyMetadata.Arn)
	}
	w.ProvenanceKey = signingKey(n.ProvenanceKeyAlias())
	w.CDNSignerKey = signingKey(w.CDNSignerAlias)

	w.DeviceCA = deviceCA(t, ctx, acmpca.NewFromConfig(cfg), n)
	return w
}

// deviceCA creates a root CA the way ACM PCA bootstraps one: the CA's own
// CSR, signed by itself with the root template, imported as its
// certificate. (moto signs with the CA's key, so issued certificates then
// verify against that certificate.)
func deviceCA(t testing.TB, ctx context.Context, pca *acmpca.Client, n naming.Names) string {
	t.Helper()
	ca, err := pca.CreateCertificateAuthority(ctx, &acmpca.CreateCertificateAuthorityInput{
		CertificateAuthorityType: pcatypes.CertificateAuthorityTypeRoot,
		CertificateAuthorityConfiguration: &pcatypes.CertificateAuthorityConfiguration{
			KeyAlgorithm: pcatypes.KeyAlgorithmEcPrime256v1, SigningAlgorithm: pcatypes.SigningAlgorithmSha256withecdsa,
			Subject: &pcatypes.ASN1Subject{CommonName: aws.String(n.Prefix() + " devices")}},
	})
	if err != nil {
		t.Fatalf("edgeworld: device CA: %v", err)
	}
	csr, err := pca.GetCertificateAuthorityCsr(ctx, &acmpca.GetCertificateAuthorityCsrInput{CertificateAuthorityArn: ca.CertificateAuthorityArn})
	if err != nil {
		t.Fatalf("edgeworld: device CA CSR: %v", err)
	}
	issued, err := pca.IssueCertificate(ctx, &acmpca.IssueCertificateInput{
		CertificateAuthorityArn: ca.CertificateAuthorityArn, Csr: []byte(aws.ToString(csr.Csr)),
		SigningAlgorithm: pcatypes.SigningAlgorithmSha256withecdsa, TemplateArn: aws.String("arn:aws:acm-pca:::template/RootCACertificate/V1"),
		Validity: &pcatypes.Validity{Type: pcatypes.ValidityPeriodTypeYears, Value: aws.Int64(10)},
	})
	if err != nil {
		t.Fatalf("edgeworld: device CA certificate: %v", err)
	}
	var cert *acmpca.GetCertificateOutput
	for i := 0; i < 50; i++ {
		if cert, err = pca.GetCertificate(ctx, &acmpca.GetCertificateInput{CertificateAuthorityArn: ca.CertificateAuthorityArn, CertificateArn: issued.CertificateArn}); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("edgeworld: device CA certificate: %v", err)
	}
	if _, err := pca.ImportCertificateAuthorityCertificate(ctx, &acmpca.ImportCertificateAuthorityCertificateInput{
		CertificateAuthorityArn: ca.CertificateAuthorityArn, Certificate: []byte(aws.ToString(cert.Certificate)),
	}); err != nil {
		t.Fatalf("edgeworld: import device CA certificate: %v", err)
	}
	return aws.ToString(ca.CertificateAuthorityArn)
}

// S3 is an S3 client for the world (path-style, as an emulator needs).
func (w *World) S3() *s3.Client {
	return s3.NewFromConfig(w.AWS, func(o *s3.Options) { o.UsePathStyle = true })
}

// Env is the environment a service reads, for the world's resources.
func (w *World) Env() map[string]string {
	return map[string]string{
		"AWS_REGION": motoserver.Region, "PACKS_BUCKET": w.PacksBucket, "DTN_BUCKET": w.DTNBucket,
		"DEVICES_TABLE": w.DevicesTable, "LEDGER_TABLE": w.LedgerTable, "ENTITLEMENTS_TABLE": w.EntitlementsTable,
		"BEACON_TABLE": w.BeaconsTable, "DTN_QUEUE_URL": w.DTNQueueURL, "BILLING_QUEUE_URL": w.BillingQueueURL,
		"PROVENANCE_KEY_ID": w.Names.ProvenanceKeyAlias(), "CDN_SIGNING_KEY_ID": w.CDNSignerKey, "DEVICE_CA_ARN": w.DeviceCA,
	}
}

// Publish puts a pack version into published/ the way the provenance gate
// leaves it (the file, and attestation.json signed with the provenance
// key), for tests of the services that read the catalogue. The gate's own
// tests and the end-to-end scenario publish through the gate itself.
func (w *World) Publish(t testing.TB, access string, p marketplace.Pack, body []byte, licence, publisher string) marketplace.Document {
	t.Helper()
	ctx := context.Background()
	st := marketplace.Statement{PackDigest: marketplace.PackDigest(body), LicenseID: licence, Publisher: publisher, IssuedAt: time.Now().UTC().Truncate(time.Second)}
	sig, err := kms.NewFromConfig(w.AWS).Sign(ctx, &kms.SignInput{KeyId: aws.String(w.ProvenanceKey), Message: st.Canonical(),
		MessageType: kmstypes.MessageTypeRaw, SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256})
	if err != nil {
		t.Fatalf("edgeworld: sign: %v", err)
	}
	doc := marketplace.NewDocument(access, p, marketplace.Attestation{Statement: st, Signature: sig.Signature}, w.ProvenanceKey)
	raw, _ := json.Marshal(doc)
	for key, b := range map[string][]byte{marketplace.PublishedKey(access, p): body, marketplace.AttestationKey(access, p): raw} {
		if _, err := w.S3().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(w.PacksBucket), Key: aws.String(key), Body: bytes.NewReader(b)}); err != nil {
			t.Fatalf("edgeworld: put %s: %v", key, err)
		}
	}
	return doc
}
