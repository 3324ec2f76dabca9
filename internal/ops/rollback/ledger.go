package rollback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// DynamoAPI reads and updates the ledger and reads the beacon table.
type DynamoAPI interface {
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// PCA revokes certificates (ACM Private CA).
type PCA interface {
	RevokeCertificate(context.Context, *acmpca.RevokeCertificateInput, ...func(*acmpca.Options)) (*acmpca.RevokeCertificateOutput, error)
}

// LedgerEntry is one issued device certificate. Attribute names are the
// ledger table's: serial (key), device, cohort (index), notAfter (RFC 3339),
// revoked (bool).
type LedgerEntry struct {
	Serial, Device, Cohort string
	NotAfter               time.Time
	Revoked                bool
}

// CohortEntries lists a cohort's certificates through the cohort index.
func CohortEntries(ctx context.Context, db DynamoAPI, table, cohort string) ([]LedgerEntry, error) {
	var out []LedgerEntry
	var start map[string]ddbtypes.AttributeValue
	for {
		page, err := db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(table), IndexName: aws.String(naming.DeviceLedgerCohortIndex),
			KeyConditionExpression:    aws.String("cohort = :c"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":c": &ddbtypes.AttributeValueMemberS{Value: cohort}},
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, fmt.Errorf("ledger %s, cohort %s: %w", table, cohort, err)
		}
		for _, it := range page.Items {
			e := LedgerEntry{Serial: str(it["serial"]), Device: str(it["device"]), Cohort: str(it["cohort"])}
			e.NotAfter, _ = time.Parse(time.RFC3339, str(it["notAfter"]))
			if b, ok := it["revoked"].(*ddbtypes.AttributeValueMemberBOOL); ok {
				e.Revoked = b.Value
			}
			out = append(out, e)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		start = page.LastEvaluatedKey
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Serial < out[j].Serial })
	return out, nil
}

func str(v ddbtypes.AttributeValue) string {
	if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// RevokeCohorts revokes every unexpired, unrevoked certificate of the
// cohorts (reason KEY_COMPROMISE) and marks it revoked in the ledger, so a
// rerun skips it. A run stopped between the CA and the ledger leaves a
// certificate revoked at the CA but unmarked; the rerun's revocation then
// gets RequestAlreadyProcessedException, which means exactly "already
// revoked", so the ledger is marked and the run goes on. It returns the
// serials it revoked or found revoked at the CA and marked.
func RevokeCohorts(ctx context.Context, out io.Writer, db DynamoAPI, pca PCA, table, caArn string, cohorts []string, now time.Time) ([]string, error) {
	var revoked []string
	for _, cohort := range cohorts {
		entries, err := CohortEntries(ctx, db, table, cohort)
		if err != nil {
			return revoked, err
		}
		if len(entries) == 0 {
			return revoked, fmt.Errorf("cohort %q has no certificate in %s: check the name (nothing was revoked for it)", cohort, table)
		}
		skipped, already := 0, 0
		for _, e := range entries {
			if e.Revoked || (!e.NotAfter.IsZero() && e.NotAfter.Before(now)) {
				skipped++
				continue
			}
			_, err := pca.RevokeCertificate(ctx, &acmpca.RevokeCertificateInput{
				CertificateAuthorityArn: aws.String(caArn), CertificateSerial: aws.String(e.Serial), RevocationReason: pcatypes.RevocationReasonKeyCompromise,
			})
			var done *pcatypes.RequestAlreadyProcessedException
			switch {
			case errors.As(err, &done):
				already++
			case err != nil:
				return revoked, fmt.Errorf("revoke %s (device %s): %w", e.Serial, e.Device, err)
			}
			if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{"serial": &ddbtypes.AttributeValueMemberS{Value: e.Serial}},
				UpdateExpression: aws.String("SET revoked = :t, revokedAt = :now"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
					":t": &ddbtypes.AttributeValueMemberBOOL{Value: true}, ":now": &ddbtypes.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339)},
				},
			}); err != nil {
				return revoked, fmt.Errorf("%s is revoked at the CA but not marked in the ledger: %w", e.Serial, err)
			}
			revoked = append(revoked, e.Serial)
		}
		fmt.Fprintf(out, "  cohort %s: %d of %d certificates revoked now (%s), %d of them already revoked at the CA by an interrupted run; %d already revoked or expired\n",
			cohort, len(entries)-skipped, len(entries), strconv.Quote("KEY_COMPROMISE"), already, skipped)
	}
	return revoked, nil
}
