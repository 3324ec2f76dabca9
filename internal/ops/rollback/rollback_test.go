package rollback

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/internal/ops/opstest"
	"github.com/spatialprops/spatialprops-infra/internal/ops/wait"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

var fast = wait.Options{Interval: 20 * time.Millisecond}

// GIVEN a message received but not deleted (in flight) WHEN draining with a
// short timeout THEN Drain times out reporting it; GIVEN a consumer that
// deletes it THEN Drain returns once visible + in flight is 0.
func TestDrainTimesOutThenDrains(t *testing.T) {
	ctx := context.Background()
	q := sqs.NewFromConfig(opstest.AWS(t, motoserver.Region))
	n := naming.New(motoserver.UniqueName("t"), "dev", motoserver.Region)
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(n.DTNOutboxQueue()), Attributes: map[string]string{"VisibilityTimeout": "300"}})
	require.NoError(t, err)
	_, err = q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: created.QueueUrl, MessageBody: aws.String("envelope")})
	require.NoError(t, err)
	got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: created.QueueUrl})
	require.NoError(t, err)
	require.Len(t, got.Messages, 1)

	var out bytes.Buffer
	err = Drain(ctx, &out, q, n.DTNOutboxQueue(), 100*time.Millisecond, fast)
	var te *wait.TimeoutError
	require.True(t, errors.As(err, &te), "want a timeout, got %v", err)
	assert.Equal(t, "0 visible, 1 in flight", te.Status, "in-flight messages count as not drained")
	assert.Contains(t, out.String(), "timeout 100ms")
	t.Log("\n" + out.String()) // the runbook's example output

	go func() {
		time.Sleep(50 * time.Millisecond)
		_, _ = q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: created.QueueUrl, ReceiptHandle: got.Messages[0].ReceiptHandle})
	}()
	require.NoError(t, Drain(ctx, &out, q, n.DTNOutboxQueue(), 10*time.Second, fast))
}

// recordingPCA passes revocations to moto's ACM PCA (which checks the CA
// and the request) and records the serials, which moto does not return.
// moto accepts a second revocation of a serial; AWS answers it with
// RequestAlreadyProcessedException ("Your request has already been
// completed"), and so does this wrapper.
type recordingPCA struct {
	*acmpca.Client
	serials []string
}

func (r *recordingPCA) RevokeCertificate(ctx context.Context, in *acmpca.RevokeCertificateInput, o ...func(*acmpca.Options)) (*acmpca.RevokeCertificateOutput, error) {
	if slices.Contains(r.serials, aws.ToString(in.CertificateSerial)) {
		return nil, &pcatypes.RequestAlreadyProcessedException{Message: aws.String("Your request has already been completed.")}
	}
	out, err := r.Client.RevokeCertificate(ctx, in, o...)
	if err == nil {
		r.serials = append(r.serials, aws.ToString(in.CertificateSerial))
	}
	return out, err
}

// ledgerDown fails UpdateItem after the first n calls, as a run stopped
// (or a DynamoDB outage) between the CA and the ledger does.
type ledgerDown struct {
	*dynamodb.Client
	n int
}

func (l *ledgerDown) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if l.n <= 0 {
		return nil, errors.New("connection reset by peer")
	}
	l.n--
	return l.Client.UpdateItem(ctx, in, o...)
}

// deviceCA creates an ACTIVE private CA on moto.
func deviceCA(t *testing.T, c *acmpca.Client) string {
	ctx := context.Background()
	ca, err := c.CreateCertificateAuthority(ctx, &acmpca.CreateCertificateAuthorityInput{
		CertificateAuthorityType: pcatypes.CertificateAuthorityTypeSubordinate,
		CertificateAuthorityConfiguration: &pcatypes.CertificateAuthorityConfiguration{KeyAlgorithm: pcatypes.KeyAlgorithmEcPrime256v1,
			SigningAlgorithm: pcatypes.SigningAlgorithmSha256withecdsa, Subject: &pcatypes.ASN1Subject{CommonName: aws.String("devices")}},
	})
	require.NoError(t, err)
	_, err = c.UpdateCertificateAuthority(ctx, &acmpca.UpdateCertificateAuthorityInput{CertificateAuthorityArn: ca.CertificateAuthorityArn, Status: pcatypes.CertificateAuthorityStatusActive})
	require.NoError(t, err)
	return aws.ToString(ca.CertificateAuthorityArn)
}

// GIVEN a cohort of three live certificates WHEN the ledger stops
// answering after the first is marked (the second is revoked at the CA,
// not in the ledger) THEN the run stops naming that serial; WHEN the same
// command runs again THEN the CA's "already processed" answer for the
// second marks it, the third is revoked, and the run ends without error;
// a third run revokes nothing.
func TestRevokeRerunAfterInterruptionBetweenCAAndLedger(t *testing.T) {
	ctx := context.Background()
	cfg := opstest.AWS(t, motoserver.Region)
	db := dynamodb.NewFromConfig(cfg)
	table := naming.New(motoserver.UniqueName("t"), "dev", motoserver.Region).DeviceLedgerTable()
	ledgerTable(t, db, table)
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	for _, serial := range []string{"0c01", "0c02", "0c03"} {
		put(t, db, table, map[string]ddbtypes.AttributeValue{"serial": s(serial), "cohort": s("venue-perth-2026q4"), "device": s("dev-" + serial),
			"notAfter": s(now.Add(24 * time.Hour).Format(time.RFC3339))})
	}
	pca := &recordingPCA{Client: acmpca.NewFromConfig(cfg)}
	caArn := deviceCA(t, pca.Client)

	revoked, err := RevokeCohorts(ctx, &bytes.Buffer{}, &ledgerDown{Client: db, n: 1}, pca, table, caArn, []string{"venue-perth-2026q4"}, now)
	require.ErrorContains(t, err, "0c02", "the error names the serial the CA revoked and the ledger does not record")
	assert.Equal(t, []string{"0c01"}, revoked)
	assert.Equal(t, []string{"0c01", "0c02"}, pca.serials)

	var out bytes.Buffer
	revoked, err = RevokeCohorts(ctx, &out, db, pca, table, caArn, []string{"venue-perth-2026q4"}, now)
	require.NoError(t, err, "a rerun must get past the certificate the CA already revoked")
	assert.Equal(t, []string{"0c02", "0c03"}, revoked)
	assert.Equal(t, []string{"0c01", "0c02", "0c03"}, pca.serials, "each serial reached the CA once")
	assert.Contains(t, out.String(), "2 of 3 certificates revoked now")
	assert.Contains(t, out.String(), "1 of them already revoked at the CA by an interrupted run")
	entries, err := CohortEntries(ctx, db, table, "venue-perth-2026q4")
	require.NoError(t, err)
	for _, e := range entries {
		assert.True(t, e.Revoked, "%s is marked in the ledger", e.Serial)
	}

	revoked, err = RevokeCohorts(ctx, &bytes.Buffer{}, db, pca, table, caArn, []string{"venue-perth-2026q4"}, now)
	require.NoError(t, err)
	assert.Empty(t, revoked)
}

func ledgerTable(t *testing.T, db *dynamodb.Client, name string) {
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("serial"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("cohort"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("serial"), KeyType: ddbtypes.KeyTypeHash}},
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{IndexName: aws.String(naming.DeviceLedgerCohortIndex),
			KeySchema:  []ddbtypes.KeySchemaElement{{AttributeName: aws.String("cohort"), KeyType: ddbtypes.KeyTypeHash}},
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll}}},
	})
	require.NoError(t, err)
}

func put(t *testing.T, db *dynamodb.Client, table string, item map[string]ddbtypes.AttributeValue) {
	_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
	require.NoError(t, err)
}

func s(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }

// GIVEN a ledger with cohorts A and B (A has one expired and one already
// revoked certificate) WHEN cohort A is revoked THEN exactly A's live
// serials are revoked at the CA and marked in the ledger; B is untouched;
// a rerun revokes nothing.
func TestRevokeExactlyTheCohort(t *testing.T) {
	ctx := context.Background()
	cfg := opstest.AWS(t, motoserver.Region)
	db := dynamodb.NewFromConfig(cfg)
	n := naming.New(motoserver.UniqueName("t"), "dev", motoserver.Region)
	table := n.DeviceLedgerTable()
	ledgerTable(t, db, table)
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	future, past := now.Add(20*24*time.Hour).Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339)
	for i, c := range []struct{ serial, cohort, notAfter string }{
		{"0a01", "venue-perth-2026q4", future}, {"0a02", "venue-perth-2026q4", future}, {"0a03", "venue-perth-2026q4", past},
		{"0a04", "venue-perth-2026q4", future}, {"0b01", "venue-sydney", future}, {"0b02", "venue-sydney", future},
	} {
		item := map[string]ddbtypes.AttributeValue{"serial": s(c.serial), "cohort": s(c.cohort), "device": s(fmt.Sprintf("dev-%d", i)), "notAfter": s(c.notAfter)}
		if c.serial == "0a04" {
			item["revoked"] = &ddbtypes.AttributeValueMemberBOOL{Value: true}
		}
		put(t, db, table, item)
	}
	pca := &recordingPCA{Client: acmpca.NewFromConfig(cfg)}
	caArn := deviceCA(t, pca.Client)

	revoked, err := RevokeCohorts(ctx, &bytes.Buffer{}, db, pca, table, caArn, []string{"venue-perth-2026q4"}, now)
	require.NoError(t, err)
	assert.Equal(t, []string{"0a01", "0a02"}, revoked)
	assert.Equal(t, []string{"0a01", "0a02"}, pca.serials, "the CA saw exactly these serials")
	entries, err := CohortEntries(ctx, db, table, "venue-sydney")
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, e.Revoked, "other cohorts are untouched")
	}
	again, err := RevokeCohorts(ctx, &bytes.Buffer{}, db, pca, table, caArn, []string{"venue-perth-2026q4"}, now)
	require.NoError(t, err)
	assert.Empty(t, again, "the ledger marks make a rerun a no-op")

	_, err = RevokeCohorts(ctx, &bytes.Buffer{}, db, pca, table, caArn, []string{"venue-typo"}, now)
	assert.ErrorContains(t, err, `cohort "venue-typo" has no certificate`)
}

// GIVEN 7 beacons over 3 venues, scanned 2 at a time WHEN exported THEN
// each venue's JSON Lines object holds exactly its beacons, and the local
// copy matches.
func TestExportBeaconsPerVenueComplete(t *testing.T) {
	ctx := context.Background()
	cfg := opstest.AWS(t, motoserver.Region)
	db := dynamodb.NewFromConfig(cfg)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	n := naming.New(motoserver.UniqueName("t"), "dev", motoserver.Region)
	table, bucket := n.BeaconTable(), n.DataBucket("logs")
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: ddbtypes.BillingModePayPerRequest,
		// the contract's key (edge.Beacon): venueId hash, beaconId range
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("venueId"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("beaconId"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("venueId"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("beaconId"), KeyType: ddbtypes.KeyTypeRange}}})
	require.NoError(t, err)
	_, err = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket, CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: motoserver.Region}})
	require.NoError(t, err)
	want := map[string][]string{"perth-arena": {"b1", "b2", "b3"}, "sydney-showground": {"b4", "b5"}, "fremantle/port": {"b6", "b7"}}
	for venue, ids := range want {
		for _, id := range ids {
			put(t, db, table, map[string]ddbtypes.AttributeValue{"beaconId": s(id), "venueId": s(venue), "packet": s("s3://spatial-packs/" + id),
				"expiresAt": &ddbtypes.AttributeValueMemberN{Value: "1800086400"}})
		}
	}
	dir := t.TempDir()
	counts, err := ExportBeacons(ctx, &bytes.Buffer{}, db, s3c, table, bucket, "20261126T000000Z", dir, 2)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"perth-arena": 3, "sydney-showground": 2, "fremantle_port": 2}, counts, "a / in a venue id must not create a folder")

	for venue, ids := range want {
		safe := venueKey.ReplaceAllString(venue, "_")
		obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("exports/beacons/" + safe + "/20261126T000000Z.jsonl")})
		require.NoError(t, err, venue)
		var got []string
		sc := bufio.NewScanner(obj.Body)
		for sc.Scan() {
			var rec map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
			assert.Equal(t, venue, rec["venueId"], "grouped by the contract's venueId")
			assert.Equal(t, "s3://spatial-packs/"+rec["beaconId"].(string), rec["packet"])
			got = append(got, rec["beaconId"].(string))
		}
		sort.Strings(got)
		assert.Equal(t, ids, got, venue)
		local, err := os.ReadFile(filepath.Join(dir, safe+".jsonl"))
		require.NoError(t, err)
		assert.Equal(t, len(ids), bytes.Count(local, []byte("\n")))
	}
}

// GIVEN the NATS release with the bridge's leaf remote in its ConfigMap
// THEN the remote is removed and the StatefulSet restarted; GIVEN none (a
// rerun, or the bridge off) THEN nothing is restarted and it says so.
func TestNATSBridgeDisable(t *testing.T) {
	conf, err := edge.ServerConfig(edge.ServerListeners{Client: "0.0.0.0:4222", StoreDir: "/data"}, edge.ServerFiles{}, edge.SecurityOptions{CalloutIssuer: "AISSUER", P2P: true,
		Limits: edge.AccountLimits{MaxConnections: 1, MaxSubscriptions: 1, MaxPayloadBytes: 1, MaxLeafNodes: 1, JetStreamMaxFileBytes: 1},
		Leaf:   &edge.LeafRemote{URL: "tls://hub:7422", CredentialsFile: "/c/leaf.creds"}})
	require.NoError(t, err)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "nats-config", Namespace: "edge-nats"}, Data: map[string]string{"nats.conf": string(conf)}}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "nats", Namespace: "edge-nats"}}
	kube := fake.NewClientset(cm, sts)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	b := NATSBridge{Kube: kube, Namespace: "edge-nats", Release: "nats", Now: func() time.Time { return now }}
	msg, err := b.Disable(context.Background())
	require.NoError(t, err)
	assert.Contains(t, msg, "removed the leaf-node remote from configmap edge-nats/nats-config")
	got, err := kube.CoreV1().ConfigMaps("edge-nats").Get(context.Background(), "nats-config", metav1.GetOptions{})
	require.NoError(t, err)
	assert.NotContains(t, got.Data["nats.conf"], `"leafnodes"`)
	assert.NotContains(t, got.Data["nats.conf"], "tls://hub:7422")
	assert.Contains(t, got.Data["nats.conf"], edge.AccountP2P, "only the remote goes")
	restarted, err := kube.AppsV1().StatefulSets("edge-nats").Get(context.Background(), "nats", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "2026-12-07T09:00:00Z", restarted.Spec.Template.Annotations[BridgeRestartAnnotation], "the pods roll onto the new config")

	now = now.Add(time.Hour)
	msg, err = b.Disable(context.Background())
	require.NoError(t, err)
	assert.Contains(t, msg, "nothing to disable")
	restarted, _ = kube.AppsV1().StatefulSets("edge-nats").Get(context.Background(), "nats", metav1.GetOptions{})
	assert.Equal(t, "2026-12-07T09:00:00Z", restarted.Spec.Template.Annotations[BridgeRestartAnnotation], "a rerun restarts nothing")

	_, err = NATSBridge{Kube: fake.NewClientset(), Namespace: "edge-nats", Release: "nats", Now: time.Now}.Disable(context.Background())
	assert.ErrorContains(t, err, "configmap edge-nats/nats-config")
}

// GIVEN no beacon table (the registry is not deployed yet) THEN the export
// says so and succeeds with nothing written, instead of failing a rollback
// whose other steps are done.
func TestExportWithoutBeaconTable(t *testing.T) {
	cfg := opstest.AWS(t, motoserver.Region)
	var out bytes.Buffer
	counts, err := ExportBeacons(context.Background(), &out, dynamodb.NewFromConfig(cfg), s3.NewFromConfig(cfg), motoserver.UniqueName("no-beacons"), "unused", "ts", "", 0)
	require.NoError(t, err)
	assert.Empty(t, counts)
	assert.Contains(t, out.String(), "the beacon registry is not deployed, nothing to export")
}
