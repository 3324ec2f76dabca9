package stacks

import (
	"fmt"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// TelemetryUndeleteDays is how long an object Loki or Tempo deleted (or an
// operator deleted by mistake) stays recoverable as a noncurrent version:
// the window of `spctl restore objects` on the telemetry buckets.
const TelemetryUndeleteDays = 7

// TelemetryExpiryMarginDays: the buckets' lifecycle expires current objects
// this many days after Loki's or Tempo's own retention, so a stopped
// compactor cannot make a bucket grow for ever, and a working one always
// deletes first.
const TelemetryExpiryMarginDays = 7

// TelemetryStorage is what the observability stack needs of the telemetry
// buckets: their names and ARNs, and the key that encrypts them.
type TelemetryStorage struct {
	KeyArn  *string
	Buckets map[string]*sp.SecureBucket // by kind: "loki", "tempo"
}

// TelemetryRetentionDays is how long each telemetry store keeps data:
// Loki from the env's config, Tempo from TempoRetentionDays.
func TelemetryRetentionDays(lokiRetentionDays int) map[string]int {
	return map[string]int{"loki": lokiRetentionDays, "tempo": TempoRetentionDays}
}

// newTelemetryStorage creates the object storage of Loki (chunks and
// index) and Tempo (trace blocks): S3 is regional and keeps every object
// in several AZs, so losing a pod, a volume or an AZ loses nothing that
// was flushed. Each bucket is encrypted with its own telemetry key, which
// only the two IRSA roles (observability stack) and administrators use.
// No server access logs: Loki and Tempo write thousands of objects an hour
// and the bucket policy admits nothing but TLS anyway.
func newTelemetryStorage(b *base, protect bool) (*TelemetryStorage, error) {
	key, err := sp.NewKmsKey(b.stack, "telemetry-key", &sp.KmsKeyProps{
		Alias:       b.names.TelemetryKeyAlias(),
		Description: "Encrypts the Loki and Tempo buckets of " + b.names.Prefix(),
		Protect:     protect,
		AccountID:   b.accountID(),
	})
	if err != nil {
		return nil, err
	}
	out := &TelemetryStorage{KeyArn: key.KeyArn, Buckets: map[string]*sp.SecureBucket{}}
	retention := TelemetryRetentionDays(b.cfg.Observability.LokiRetentionDays)
	for _, kind := range naming.TelemetryBucketKinds {
		bucket, err := sp.NewSecureBucket(b.stack, kind, &sp.SecureBucketProps{
			Name:      b.names.DataBucket(kind),
			KmsKeyArn: key.KeyArn,
			Protect:   protect,
			Lifecycle: []sp.LifecycleRule{{
				ID:                   "expire-after-retention",
				ExpireDays:           retention[kind] + TelemetryExpiryMarginDays,
				NoncurrentExpireDays: TelemetryUndeleteDays,
				AbortMultipartDays:   1,
			}},
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		out.Buckets[kind] = bucket
		b.output(kind+"_bucket", "Name of the "+kind+" bucket", bucket.Name, false)
	}
	b.output("telemetry_key_arn", "KMS key encrypting the loki and tempo buckets", key.KeyArn, false)
	return out, nil
}
