package restore

import (
	"bytes"
	"context"
	"fmt"
	"github.com/spatialprops/spatialprops-infra/edge"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/internal/ops/opstest"
	"github.com/spatialprops/spatialprops-infra/internal/ops/wait"
)

func dynamo(t *testing.T) *dynamodb.Client {
	return dynamodb.NewFromConfig(opstest.AWS(t, motoserver.Region))
}

// ledger creates a table shaped like the device ledger (hash key serial),
// with TTL on expiresAt.
func ledger(t *testing.T, db *dynamodb.Client) string {
	t.Helper()
	ctx := context.Background()
	name := motoserver.UniqueName("ledger")
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("serial"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("serial"), KeyType: ddbtypes.KeyTypeHash}},
	})
	require.NoError(t, err)
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String("expiresAt"), Enabled: aws.Bool(true)}})
	require.NoError(t, err)
	return name
}

func cert(serial, device string, revoked bool, expires time.Time) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{
		"serial": &ddbtypes.AttributeValueMemberS{Value: serial}, "device": &ddbtypes.AttributeValueMemberS{Value: device},
		"revoked":   &ddbtypes.AttributeValueMemberBOOL{Value: revoked},
		"expiresAt": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)},
		"tags":      &ddbtypes.AttributeValueMemberSS{Value: []string{"b", "a"}},
	}
}

func putItem(t *testing.T, db *dynamodb.Client, table string, item map[string]ddbtypes.AttributeValue) {
	t.Helper()
	_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
	require.NoError(t, err)
}

func getItem(t *testing.T, db *dynamodb.Client, table, serial string) map[string]ddbtypes.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]ddbtypes.AttributeValue{"serial": &ddbtypes.AttributeValueMemberS{Value: serial}}})
	require.NoError(t, err)
	return out.Item
}

// GIVEN a restored copy of the ledger and the live ledger after an
// accident WHEN the copy is written back THEN deleted certificates come
// back, changed ones are reported and kept unless overwriting, a revoked
// certificate is never made valid again, expired items stay out and
// certificates issued since are kept.
func TestCopyBackRules(t *testing.T) {
	future, past := time.Now().Add(30*24*time.Hour), time.Now().Add(-time.Hour)
	for _, overwrite := range []bool{false, true} {
		t.Run(fmt.Sprint("overwrite=", overwrite), func(t *testing.T) {
			ctx := context.Background()
			db := dynamo(t)
			restored, live := ledger(t, db), ledger(t, db)
			for _, it := range []map[string]ddbtypes.AttributeValue{
				cert("deleted", "d1", false, future), cert("same", "d2", false, future),
				cert("changed", "d3", false, future), cert("revoked-since", "d4", false, future),
				cert("expired", "d5", false, past),
			} {
				putItem(t, db, restored, it)
			}
			same := cert("same", "d2", false, future)
			same["tags"] = &ddbtypes.AttributeValueMemberSS{Value: []string{"a", "b"}} // same set, other order
			for _, it := range []map[string]ddbtypes.AttributeValue{
				same, cert("changed", "OTHER", false, future), cert("revoked-since", "d4", true, future), cert("new", "d6", false, future),
			} {
				putItem(t, db, live, it)
			}

			rep := &TableReport{}
			require.NoError(t, copyBack(ctx, db, restored, live, []string{"serial"}, overwrite, rep))
			assert.Equal(t, 1, rep.Written, "deleted")
			assert.Equal(t, 1, rep.Unchanged, "same")
			assert.Equal(t, 1, rep.Expired, "expired")
			assert.Equal(t, 1, rep.Newer, "new")
			assert.NotEmpty(t, getItem(t, db, live, "deleted"))
			assert.Empty(t, getItem(t, db, live, "expired"))
			assert.Equal(t, &ddbtypes.AttributeValueMemberBOOL{Value: true}, getItem(t, db, live, "revoked-since")["revoked"], "never un-revoked")
			device := getItem(t, db, live, "changed")["device"].(*ddbtypes.AttributeValueMemberS).Value
			if overwrite {
				assert.Equal(t, 1, rep.Overwritten)
				assert.Equal(t, 1, rep.Differ, "revoked-since")
				assert.Equal(t, "d3", device)
			} else {
				assert.Equal(t, 0, rep.Overwritten)
				assert.Equal(t, 2, rep.Differ, "changed and revoked-since")
				assert.Equal(t, "OTHER", device)
			}
		})
	}
}

// GIVEN a restored copy of the devices table from before a device was
// revoked and its token used WHEN written back with --overwrite THEN the
// revoked device stays revoked, and no enrollment token comes back: a
// used one-time token must never become usable again.
func TestCopyBackNeverRevivesADeviceOrAToken(t *testing.T) {
	ctx := context.Background()
	db := dynamo(t)
	restored, live := ledger(t, db), ledger(t, db) // keyed "serial"; the rules do not depend on the key
	device := func(id, status, token string) map[string]ddbtypes.AttributeValue {
		it := map[string]ddbtypes.AttributeValue{
			"serial": &ddbtypes.AttributeValueMemberS{Value: id}, edge.DeviceStatus: &ddbtypes.AttributeValueMemberS{Value: status},
		}
		if token != "" {
			it[edge.DeviceTokenHash] = &ddbtypes.AttributeValueMemberS{Value: token}
			it[edge.DeviceTokenExpires] = &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)}
		}
		return it
	}
	putItem(t, db, restored, device("dev-1", edge.DeviceActive, ""))
	putItem(t, db, restored, device("dev-2", edge.DeviceActive, "sha256-of-a-used-token"))
	putItem(t, db, live, device("dev-1", edge.DeviceRevoked, ""))
	// dev-2 enrolled (token used) and was then deleted by accident.

	rep := &TableReport{}
	require.NoError(t, copyBack(ctx, db, restored, live, []string{"serial"}, true, rep))
	assert.Equal(t, &ddbtypes.AttributeValueMemberS{Value: edge.DeviceRevoked}, getItem(t, db, live, "dev-1")[edge.DeviceStatus], "never un-revoked")
	assert.Equal(t, 1, rep.Differ, "the revoked device is reported, not overwritten")
	back := getItem(t, db, live, "dev-2")
	require.NotEmpty(t, back, "the deleted device is back")
	assert.NotContains(t, back, edge.DeviceTokenHash, "no enrollment token is restored")
	assert.NotContains(t, back, edge.DeviceTokenExpires)
}

// Without PITR, or outside its window, there is nothing to restore: the
// error says which and names the window.
func TestRestoreTableRefusesWithoutPITROrOutsideTheWindow(t *testing.T) {
	ctx := context.Background()
	db := dynamo(t)
	table := ledger(t, db)
	_, err := RestoreTable(ctx, &bytes.Buffer{}, db, table, time.Now(), TableOptions{})
	assert.ErrorContains(t, err, "has no point-in-time recovery")
	_, err = db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(table),
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	require.NoError(t, err)
	_, err = RestoreTable(ctx, &bytes.Buffer{}, db, table, time.Now().Add(-48*time.Hour), TableOptions{})
	assert.ErrorContains(t, err, "outside "+table+"'s restorable window")
}

// GIVEN a table with PITR WHEN it is restored THEN PITR creates the
// restored table, the copy runs, the restored table is deleted, and a
// rerun after an interruption reuses a restored table left behind. (moto
// restores the table as it is now, whatever the time: that the data of
// the past comes back is shown by `make e2e`, whose emulator keeps
// point-in-time snapshots, see internal/emulator.)
func TestRestoreTableRunsPITRThenCopiesBackAndCleansUp(t *testing.T) {
	ctx := context.Background()
	db := dynamo(t)
	table := ledger(t, db)
	putItem(t, db, table, cert("s1", "d1", false, time.Now().Add(time.Hour)))
	_, err := db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(table),
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}})
	require.NoError(t, err)
	cb, err := db.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
	require.NoError(t, err)
	at := aws.ToTime(cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.LatestRestorableDateTime)

	var out bytes.Buffer
	opts := TableOptions{KeepRestored: true, Wait: wait.Options{Interval: time.Millisecond}, Timeout: time.Minute}
	rep, err := RestoreTable(ctx, &out, db, table, at, opts)
	require.NoError(t, err)
	t.Log("\n" + out.String())
	assert.Equal(t, RestoreName(table, at), rep.Restored)
	assert.Equal(t, 1, rep.Unchanged)
	_, err = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(rep.Restored)})
	require.NoError(t, err, "kept with KeepRestored")

	out.Reset()
	opts.KeepRestored = false
	_, err = RestoreTable(ctx, &out, db, table, at, opts)
	require.NoError(t, err)
	assert.Contains(t, out.String(), "exists from an earlier run")
	_, err = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(rep.Restored)})
	assert.True(t, isNotFound(err), "deleted after the copy: %v", err)

	out.Reset()
	_, err = RestoreTable(ctx, &out, db, table, at, TableOptions{DryRun: true})
	require.NoError(t, err)
	_, err = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(rep.Restored)})
	assert.True(t, isNotFound(err), "a dry run creates nothing")
}

// GIVEN a table restored from a vault recovery point (any table of the
// same key) WHEN copied back with FromTable THEN the same rules apply, no
// PITR is asked for, and the source table is left in place.
func TestRestoreTableFromARestoredTable(t *testing.T) {
	ctx := context.Background()
	db := dynamo(t)
	fromVault, live := ledger(t, db), ledger(t, db)
	putItem(t, db, fromVault, cert("lost", "d1", false, time.Now().Add(time.Hour)))
	var out bytes.Buffer
	rep, err := RestoreTable(ctx, &out, db, live, time.Time{}, TableOptions{FromTable: fromVault})
	require.NoError(t, err, "no PITR on either table, and none needed")
	assert.Equal(t, 1, rep.Written)
	assert.NotEmpty(t, getItem(t, db, live, "lost"))
	_, err = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(fromVault)})
	assert.NoError(t, err, "the source table stays")
}
