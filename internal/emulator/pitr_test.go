package emulator

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
)

func dynamoAt(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(aws.Config{
		Region: motoserver.Region, BaseEndpoint: aws.String(endpoint), HTTPClient: http.DefaultClient,
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
}

// restoredAt writes a and b, notes the time, deletes a and changes b,
// restores the table to the noted time and returns the restored items and
// the restorable window's end.
func restoredAt(t *testing.T, db *dynamodb.Client) (map[string]string, time.Time) {
	t.Helper()
	ctx := context.Background()
	table := motoserver.UniqueName("pitr")
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(table), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("k"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("k"), KeyType: ddbtypes.KeyTypeHash}},
	})
	require.NoError(t, err)
	_, err = db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(table),
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	require.NoError(t, err)
	put := func(k, v string) {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{
			"k": &ddbtypes.AttributeValueMemberS{Value: k}, "v": &ddbtypes.AttributeValueMemberS{Value: v}}})
		require.NoError(t, err)
	}
	put("a", "1")
	put("b", "1")
	time.Sleep(200 * time.Millisecond)
	at := time.Now()
	time.Sleep(200 * time.Millisecond)
	_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{"k": &ddbtypes.AttributeValueMemberS{Value: "a"}}})
	require.NoError(t, err)
	put("b", "2")

	_, err = db.RestoreTableToPointInTime(ctx, &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableName: aws.String(table), TargetTableName: aws.String(table + "-r"), RestoreDateTime: aws.Time(at)})
	require.NoError(t, err)
	scan, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table + "-r")})
	require.NoError(t, err)
	out := map[string]string{}
	for _, it := range scan.Items {
		out[it["k"].(*ddbtypes.AttributeValueMemberS).Value] = it["v"].(*ddbtypes.AttributeValueMemberS).Value
	}
	cb, err := db.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
	require.NoError(t, err)
	return out, aws.ToTime(cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.LatestRestorableDateTime)
}

// GIVEN moto_server with the emulator's patch WHEN a table is restored to
// a time before a delete and an overwrite THEN the restored table holds
// the items of that time, and the restorable window reaches now. Plain
// moto restores today's items: if that ever changes, the patch can go.
func TestMotoPITRPatchRestoresThePast(t *testing.T) {
	env, err := ServerPatches(t.TempDir())
	require.NoError(t, err)
	logf, err := os.CreateTemp(t.TempDir(), "moto-*.log")
	require.NoError(t, err)
	server, err := motoserver.Start(motoserver.Options{Env: env, Log: logf})
	require.NoError(t, err)
	defer server.Stop()

	before := time.Now()
	items, latest := restoredAt(t, dynamoAt(server.URL))
	assert.Equal(t, map[string]string{"a": "1", "b": "1"}, items, "patched")
	assert.False(t, latest.Before(before), "the window reaches the last write, not the time PITR was turned on")
	raw, _ := os.ReadFile(logf.Name())
	assert.Contains(t, string(raw), "moto_pitr: point-in-time recovery keeps snapshots")

	items, _ = restoredAt(t, dynamoAt(motoserver.Endpoint(t)))
	assert.Equal(t, map[string]string{"b": "2"}, items, "plain moto copies today's items: the limitation the patch exists for")
}

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }
