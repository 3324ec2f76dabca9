package rollback

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/ops/ddbitem"
)

// S3Put writes export objects.
type S3Put interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// venueKey keeps a venue id safe as one S3 key segment and file name.
var venueKey = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// ExportBeacons scans the beacon table and writes one JSON Lines object per
// venue to bucket at exports/beacons/<venue>/<timestamp>.jsonl (and to
// localDir/<venue>.jsonl when set). Items without a venue go to
// "_no-venue". Items are grouped by venueId, the contract's hash key
// (edge.BeaconAttrVenueID). pageSize bounds each Scan page (0: DynamoDB's default).
func ExportBeacons(ctx context.Context, out io.Writer, db DynamoAPI, s3c S3Put, table, bucket, timestamp, localDir string, pageSize int32) (map[string]int, error) {
	byVenue := map[string]*bytes.Buffer{}
	counts := map[string]int{}
	var start map[string]ddbtypes.AttributeValue
	for {
		in := &dynamodb.ScanInput{TableName: aws.String(table), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true)}
		if pageSize > 0 {
			in.Limit = aws.Int32(pageSize)
		}
		page, err := db.Scan(ctx, in)
		var missing *ddbtypes.ResourceNotFoundException
		if errors.As(err, &missing) && start == nil {
			fmt.Fprintf(out, "  no table %s: the beacon registry is not deployed, nothing to export\n", table)
			return counts, nil
		}
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		for _, it := range page.Items {
			rec := ddbitem.PlainMap(it)
			venue, _ := rec[edge.BeaconAttrVenueID].(string)
			if venue == "" {
				venue = "_no-venue"
			}
			venue = venueKey.ReplaceAllString(venue, "_")
			line, err := json.Marshal(rec)
			if err != nil {
				return nil, err
			}
			if byVenue[venue] == nil {
				byVenue[venue] = &bytes.Buffer{}
			}
			byVenue[venue].Write(append(line, '\n'))
			counts[venue]++
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		start = page.LastEvaluatedKey
	}
	venues := make([]string, 0, len(byVenue))
	for v := range byVenue {
		venues = append(venues, v)
	}
	sort.Strings(venues)
	for _, v := range venues {
		key := naming.BeaconExportKey(v, timestamp)
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: bytes.NewReader(byVenue[v].Bytes()), ContentType: aws.String("application/x-ndjson")}); err != nil {
			return nil, fmt.Errorf("write s3://%s/%s: %w", bucket, key, err)
		}
		if localDir != "" {
			if err := os.MkdirAll(localDir, 0o750); err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(localDir, v+".jsonl"), byVenue[v].Bytes(), 0o600); err != nil {
				return nil, err
			}
		}
		fmt.Fprintf(out, "  venue %s: %d beacons -> s3://%s/%s\n", v, counts[v], bucket, key)
	}
	return counts, nil
}
