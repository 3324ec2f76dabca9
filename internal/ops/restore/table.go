package restore

import (
	"context"
	"errors"
	"fmt"
	"github.com/spatialprops/spatialprops-infra/edge"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/spatialprops/spatialprops-infra/internal/ops/ddbitem"
	"github.com/spatialprops/spatialprops-infra/internal/ops/wait"
)

// DynamoAPI is what the table restore calls.
type DynamoAPI interface {
	DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	RestoreTableToPointInTime(context.Context, *dynamodb.RestoreTableToPointInTimeInput, ...func(*dynamodb.Options)) (*dynamodb.RestoreTableToPointInTimeOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteTable(context.Context, *dynamodb.DeleteTableInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
}

// TableOptions choose how restored items go back into the live table.
type TableOptions struct {
	// Overwrite replaces live items that differ from their restored
	// version. Without it only items missing from the live table are
	// written back (deleted items come back; changed ones are reported).
	Overwrite bool
	// KeepRestored leaves the restored table for inspection; it is
	// deleted otherwise.
	KeepRestored bool
	DryRun       bool
	// FromTable copies back from this table instead of restoring from
	// PITR: a table restored from an AWS Backup recovery point (or any
	// earlier restore). It is left in place.
	FromTable string
	// Timeout bounds the wait for the restored table (DynamoDB takes
	// minutes for small tables, longer for large ones).
	Timeout time.Duration
	Wait    wait.Options
}

// RevokedAttr is the ledger attribute a restore never turns from true to
// false: an older ledger would say a revoked certificate is valid (the CA
// still has it revoked, so the two would disagree).
const RevokedAttr = "revoked"

// TableReport counts what the copy back did.
type TableReport struct {
	Restored string // the table PITR created
	// Written are items missing from the live table, put back.
	Written int
	// Overwritten are live items replaced by their restored version.
	Overwritten int
	// Differ are live items that differ and were kept (no --overwrite,
	// or a revoked certificate that the restored version would un-revoke).
	Differ int
	// Unchanged are identical in both.
	Unchanged int
	// Expired are restored items whose TTL has passed: not written back.
	Expired int
	// Newer are live items the restore point does not have (written
	// since): always kept.
	Newer int
}

// RestoreName is the table PITR restores into: "<table>-restore-<time>".
func RestoreName(table string, at time.Time) string {
	return table + "-restore-" + at.UTC().Format("20060102t150405z")
}

// RestoreTable restores table as it was at `at` into a new table
// (RestoreName), waits for it, copies its items back into the live table
// and deletes it. It copies back rather than swapping tables: the live
// table keeps its name, ARN, IAM grants, TTL, PITR and deletion protection
// (a restored table has none of the last three), and keeps every item
// written after the restore point. A rerun finds the restored table of an
// earlier run and carries on from the copy.
func RestoreTable(ctx context.Context, out io.Writer, d DynamoAPI, table string, at time.Time, o TableOptions) (*TableReport, error) {
	if o.Timeout == 0 {
		o.Timeout = time.Hour
	}
	if o.FromTable != "" {
		return copyFrom(ctx, out, d, o.FromTable, table, o)
	}
	if err := checkWindow(ctx, d, table, at); err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, callTimeout)
	src, err := d.DescribeTable(dctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", table, err)
	}
	target := RestoreName(table, at)
	rep := &TableReport{Restored: target}
	fmt.Fprintf(out, "%s as of %s -> new table %s, then items copied back into %s (missing ones%s); %s deleted afterwards\n",
		table, at.UTC().Format(time.RFC3339), target, table, map[bool]string{true: " and differing ones", false: ""}[o.Overwrite], target)
	if o.DryRun {
		return rep, nil
	}
	if err := startRestore(ctx, out, d, src.Table, target, at); err != nil {
		return rep, err
	}
	err = wait.Until(ctx, out, "table "+target+" ACTIVE", o.Timeout, o.Wait, func(ctx context.Context) (bool, string, error) {
		pctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		t, err := d.DescribeTable(pctx, &dynamodb.DescribeTableInput{TableName: aws.String(target)})
		if err != nil {
			return false, "", err
		}
		return t.Table.TableStatus == ddbtypes.TableStatusActive, string(t.Table.TableStatus), nil
	})
	if err != nil {
		return rep, err
	}
	if err := copyBack(ctx, d, target, table, keyNames(src.Table), o.Overwrite, rep); err != nil {
		return rep, fmt.Errorf("copy %s back into %s (the restored table is kept; run again to resume): %w", target, table, err)
	}
	fmt.Fprintf(out, "  copied back: %d written, %d overwritten, %d differing kept, %d unchanged, %d expired skipped, %d newer kept\n",
		rep.Written, rep.Overwritten, rep.Differ, rep.Unchanged, rep.Expired, rep.Newer)
	if o.KeepRestored {
		fmt.Fprintf(out, "  %s kept (--keep-restored); delete it when done: aws dynamodb delete-table --table-name %s\n", target, target)
		return rep, nil
	}
	xctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := d.DeleteTable(xctx, &dynamodb.DeleteTableInput{TableName: aws.String(target)}); err != nil {
		return rep, fmt.Errorf("delete %s: %w", target, err)
	}
	fmt.Fprintf(out, "  %s deleted\n", target)
	return rep, nil
}

// copyFrom copies an existing restored table back into the live one, with
// the same rules as after a PITR restore.
func copyFrom(ctx context.Context, out io.Writer, d DynamoAPI, from, table string, o TableOptions) (*TableReport, error) {
	dctx, cancel := context.WithTimeout(ctx, callTimeout)
	src, err := d.DescribeTable(dctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", table, err)
	}
	rep := &TableReport{Restored: from}
	fmt.Fprintf(out, "items of %s copied back into %s (missing ones%s); %s is left in place\n",
		from, table, map[bool]string{true: " and differing ones", false: ""}[o.Overwrite], from)
	if o.DryRun {
		return rep, nil
	}
	if err := copyBack(ctx, d, from, table, keyNames(src.Table), o.Overwrite, rep); err != nil {
		return rep, fmt.Errorf("copy %s back into %s (run again to resume): %w", from, table, err)
	}
	fmt.Fprintf(out, "  copied back: %d written, %d overwritten, %d differing kept, %d unchanged, %d expired skipped, %d newer kept\n",
		rep.Written, rep.Overwritten, rep.Differ, rep.Unchanged, rep.Expired, rep.Newer)
	return rep, nil
}

// checkWindow refuses a time PITR cannot restore to, naming the window.
func checkWindow(ctx context.Context, d DynamoAPI, table string, at time.Time) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	cb, err := d.DescribeContinuousBackups(cctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("point-in-time recovery of %s: %w", table, err)
	}
	p := cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription
	if p == nil || p.PointInTimeRecoveryStatus != ddbtypes.PointInTimeRecoveryStatusEnabled {
		return fmt.Errorf("%s has no point-in-time recovery: there is nothing to restore from", table)
	}
	from, to := aws.ToTime(p.EarliestRestorableDateTime), aws.ToTime(p.LatestRestorableDateTime)
	if at.Before(from) || at.After(to) {
		return fmt.Errorf("--to %s is outside %s's restorable window %s to %s", at.UTC().Format(time.RFC3339), table,
			from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	return nil
}

// startRestore asks for the restore unless an earlier run already did.
// The restored table is encrypted with the source table's key (a restore
// would otherwise fall back to an AWS owned key) and billed on demand.
func startRestore(ctx context.Context, out io.Writer, d DynamoAPI, src *ddbtypes.TableDescription, target string, at time.Time) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := d.DescribeTable(cctx, &dynamodb.DescribeTableInput{TableName: aws.String(target)}); err == nil {
		fmt.Fprintf(out, "  %s exists from an earlier run: using it\n", target)
		return nil
	} else if !isNotFound(err) {
		return fmt.Errorf("describe %s: %w", target, err)
	}
	in := &dynamodb.RestoreTableToPointInTimeInput{
		SourceTableName: src.TableName, TargetTableName: aws.String(target), RestoreDateTime: aws.Time(at),
		BillingModeOverride: ddbtypes.BillingModePayPerRequest,
	}
	if sse := src.SSEDescription; sse != nil && sse.KMSMasterKeyArn != nil {
		in.SSESpecificationOverride = &ddbtypes.SSESpecification{Enabled: aws.Bool(true), SSEType: ddbtypes.SSETypeKms, KMSMasterKeyId: sse.KMSMasterKeyArn}
	}
	rctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := d.RestoreTableToPointInTime(rctx, in); err != nil {
		return fmt.Errorf("restore %s to %s: %w", aws.ToString(src.TableName), at.UTC().Format(time.RFC3339), err)
	}
	fmt.Fprintf(out, "  restore into %s started\n", target)
	return nil
}

func isNotFound(err error) bool {
	var nf *ddbtypes.ResourceNotFoundException
	return errors.As(err, &nf)
}

func keyNames(t *ddbtypes.TableDescription) []string {
	var out []string
	for _, k := range t.KeySchema {
		out = append(out, aws.ToString(k.AttributeName))
	}
	return out
}

// copyBack writes the restored items into the live table: missing items
// always (on the condition that they are still missing, so a concurrent
// writer wins), differing items only with overwrite, and never an item
// that would turn a revoked certificate or device back to valid. Items past their
// TTL are skipped: DynamoDB would delete them again.
func copyBack(ctx context.Context, d DynamoAPI, from, to string, keys []string, overwrite bool, rep *TableReport) error {
	ttlAttr, err := ttlAttribute(ctx, d, to)
	if err != nil {
		return err
	}
	now := time.Now().Unix()
	restored := map[string]bool{}
	err = scanAll(ctx, d, from, func(item map[string]ddbtypes.AttributeValue) error {
		id := itemID(item, keys)
		restored[id] = true
		// A one-time enrollment token is never written back: an old copy
		// would make a used token usable again. Issue a new one instead.
		delete(item, edge.DeviceTokenHash)
		delete(item, edge.DeviceTokenExpires)
		if exp, ok := epoch(item[ttlAttr]); ttlAttr != "" && ok && exp < now {
			rep.Expired++
			return nil
		}
		gctx, cancel := context.WithTimeout(ctx, callTimeout)
		live, err := d.GetItem(gctx, &dynamodb.GetItemInput{TableName: aws.String(to), Key: pick(item, keys), ConsistentRead: aws.Bool(true)})
		cancel()
		if err != nil {
			return fmt.Errorf("read %s from %s: %w", id, to, err)
		}
		switch {
		case len(live.Item) == 0:
			if err := putBack(ctx, d, to, item, keys[0], true); err != nil {
				return err
			}
			rep.Written++
		case sameItem(live.Item, item):
			rep.Unchanged++
		case !overwrite || unrevokes(live.Item, item):
			rep.Differ++
		default:
			if err := putBack(ctx, d, to, item, keys[0], false); err != nil {
				return err
			}
			rep.Overwritten++
		}
		return nil
	})
	if err != nil {
		return err
	}
	return scanAll(ctx, d, to, func(item map[string]ddbtypes.AttributeValue) error {
		if !restored[itemID(item, keys)] {
			rep.Newer++
		}
		return nil
	})
}

func putBack(ctx context.Context, d DynamoAPI, table string, item map[string]ddbtypes.AttributeValue, hashKey string, onlyIfMissing bool) error {
	in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}
	if onlyIfMissing {
		in.ConditionExpression = aws.String("attribute_not_exists(#k)")
		in.ExpressionAttributeNames = map[string]string{"#k": hashKey}
	}
	pctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := d.PutItem(pctx, in)
	var cc *ddbtypes.ConditionalCheckFailedException
	if errors.As(err, &cc) {
		return nil // written meanwhile by the live service: its write wins
	}
	return err
}

func scanAll(ctx context.Context, d DynamoAPI, table string, f func(map[string]ddbtypes.AttributeValue) error) error {
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	for {
		sctx, cancel := context.WithTimeout(ctx, callTimeout)
		page, err := d.Scan(sctx, in)
		cancel()
		if err != nil {
			return fmt.Errorf("scan %s: %w", table, err)
		}
		for _, it := range page.Items {
			if err := f(it); err != nil {
				return err
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func ttlAttribute(ctx context.Context, d DynamoAPI, table string) (string, error) {
	tctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	ttl, err := d.DescribeTimeToLive(tctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return "", fmt.Errorf("time to live of %s: %w", table, err)
	}
	if t := ttl.TimeToLiveDescription; t != nil && t.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled {
		return aws.ToString(t.AttributeName), nil
	}
	return "", nil
}

func epoch(v ddbtypes.AttributeValue) (int64, bool) {
	n, ok := v.(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	return int64(f), err == nil
}

func pick(item map[string]ddbtypes.AttributeValue, keys []string) map[string]ddbtypes.AttributeValue {
	out := map[string]ddbtypes.AttributeValue{}
	for _, k := range keys {
		out[k] = item[k]
	}
	return out
}

// itemID is a printable identity of an item's key.
func itemID(item map[string]ddbtypes.AttributeValue, keys []string) string {
	return fmt.Sprint(ddbitem.PlainMap(pick(item, keys)))
}

func sameItem(a, b map[string]ddbtypes.AttributeValue) bool { return ddbitem.Equal(a, b) }

func unrevokes(live, restored map[string]ddbtypes.AttributeValue) bool {
	isTrue := func(v ddbtypes.AttributeValue) bool {
		b, ok := v.(*ddbtypes.AttributeValueMemberBOOL)
		return ok && b.Value
	}
	deviceRevoked := func(v ddbtypes.AttributeValue) bool {
		st, ok := v.(*ddbtypes.AttributeValueMemberS)
		return ok && st.Value == edge.DeviceRevoked
	}
	return isTrue(live[RevokedAttr]) && !isTrue(restored[RevokedAttr]) ||
		deviceRevoked(live[edge.DeviceStatus]) && !deviceRevoked(restored[edge.DeviceStatus])
}
