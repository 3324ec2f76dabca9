package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// StorageOutputs are what the cdn, edge and cicd stacks consume.
type StorageOutputs struct {
	KeyArn *string
	// Buckets by kind: "packs", "stac", "logs".
	Buckets map[string]*sp.SecureBucket
	// Telemetry holds Loki's and Tempo's buckets and their key.
	Telemetry *TelemetryStorage
}

// CorsExposeHeaders are the response headers a browser reading PMTiles or
// COGs with Range requests must be allowed to see.
var CorsExposeHeaders = naming.CorsExposeHeaders

// CorsMaxAgeSeconds lets browsers cache a preflight for an hour.
const CorsMaxAgeSeconds = 3600

// AccessLogPrefix is where a bucket's server access logs land in the logs
// bucket, e.g. "spatial-packs/".
func AccessLogPrefix(kind string) string { return "spatial-" + kind + "/" }

// AccessLogStatement lets S3 log delivery write one source bucket's access
// logs under that source's own prefix. One statement per source keeps each
// grant readable on its own and names exactly one prefix, the form S3's
// PutBucketLogging check looks for.
func AccessLogStatement(logsBucket, kind, sourceBucket, account string) sp.Statement {
	return sp.Statement{
		Sid:        "AllowAccessLogsFrom" + sidWord(kind),
		Actions:    []string{"s3:PutObject"},
		Resources:  []string{"arn:aws:s3:::" + logsBucket + "/" + AccessLogPrefix(kind) + "*"},
		Principals: []sp.Principal{{Type: "Service", Identifiers: []string{"logging.s3.amazonaws.com"}}},
		Conditions: []sp.Condition{
			{Test: "ArnLike", Variable: "aws:SourceArn", Values: []string{"arn:aws:s3:::" + sourceBucket}},
			{Test: "StringEquals", Variable: "aws:SourceAccount", Values: []string{account}},
		},
	}
}

// sidWord turns "packs" or "dtn" into "Packs" / "Dtn" for a statement id.
func sidWord(kind string) string {
	if kind == "" {
		return ""
	}
	return strings.ToUpper(kind[:1]) + kind[1:]
}

// NewStorageStack creates the data key and the packs, stac and logs
// buckets, and the telemetry key with Loki's and Tempo's buckets.
//
// The packs bucket policy is owned by the cdn stack: it must name the
// distribution's ARN, and a bucket has exactly one policy document, so the
// TLS-only deny for packs is written there too.
func NewStorageStack(scope constructs.Construct, cfg *envs.Config) (*StorageOutputs, error) {
	b, err := newBase(scope, cfg, Storage)
	if err != nil {
		return nil, err
	}
	s := cfg.Storage
	protect := cfg.Protect()
	account := b.accountID()
	accountToken := *account

	key, err := sp.NewKmsKey(b.stack, "data-key", &sp.KmsKeyProps{
		Alias:       b.names.DataKeyAlias(),
		Description: "Encrypts Spatial Packs and STAC objects of " + b.names.Prefix(),
		Protect:     protect,
		AccountID:   account,
		// which distribution may read the bucket is pinned by the bucket
		// policy, so the cdn stack never edits this key
		ExtraStatements: []sp.Statement{cloudFrontMayDecrypt("AllowCloudFrontDecryptForThisAccount", accountToken)},
	})
	if err != nil {
		return nil, err
	}

	logsName := b.names.DataBucket("logs")
	// Buckets that send server access logs here, each under its own prefix.
	logSources := []string{"packs", "stac"}
	if cfg.Edge.Enabled {
		logSources = append(logSources, naming.EdgeBucketKinds...)
	}
	logStatements := make([]sp.Statement, 0, len(logSources))
	for _, kind := range logSources {
		logStatements = append(logStatements, AccessLogStatement(logsName, kind, b.names.DataBucket(kind), accountToken))
	}
	logs, err := sp.NewSecureBucket(b.stack, "logs", &sp.SecureBucketProps{
		Name: logsName,
		// S3 server access logs cannot be delivered to an SSE-KMS bucket.
		KmsKeyArn: nil,
		Protect:   protect,
		// CloudFront standard logging writes through an ACL grant to the
		// awslogsdelivery account, so this one bucket keeps ACLs enabled
		// (BucketOwnerPreferred); its public access block still refuses any
		// public ACL.
		AllowLogDeliveryACLs: true,
		PolicyStatements:     logStatements,
		Lifecycle: []sp.LifecycleRule{{
			ID: "expire-access-logs", ExpireDays: s.LogRetentionDays, NoncurrentExpireDays: 30, AbortMultipartDays: s.AbortMultipartDays,
		}},
	})
	if err != nil {
		return nil, err
	}

	out := &StorageOutputs{KeyArn: key.KeyArn, Buckets: map[string]*sp.SecureBucket{"logs": logs}}
	for _, kind := range []string{"packs", "stac"} {
		bucket, err := sp.NewSecureBucket(b.stack, kind, &sp.SecureBucketProps{
			Name:           b.names.DataBucket(kind),
			KmsKeyArn:      key.KeyArn,
			Protect:        protect,
			ExternalPolicy: kind == "packs",
			AccessLogs:     &sp.AccessLogTarget{Bucket: logs.Name, Prefix: AccessLogPrefix(kind), After: logs.Policy},
			Lifecycle: []sp.LifecycleRule{{
				ID: "transition-noncurrent-versions",
				NoncurrentTransitions: []sp.Transition{
					{Days: s.NoncurrentIADays, StorageClass: "STANDARD_IA"},
					{Days: s.NoncurrentGlacierIRDays, StorageClass: "GLACIER_IR"},
				},
				NoncurrentExpireDays: s.NoncurrentExpireDays,
				AbortMultipartDays:   s.AbortMultipartDays,
			}},
			Cors: &sp.CorsRule{
				AllowedOrigins: s.CorsAllowedOrigins,
				AllowedMethods: []string{"GET", "HEAD"},
				AllowedHeaders: []string{"*"},
				ExposeHeaders:  CorsExposeHeaders,
				MaxAgeSeconds:  CorsMaxAgeSeconds,
			},
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		out.Buckets[kind] = bucket
	}
	if out.Telemetry, err = newTelemetryStorage(b, protect); err != nil {
		return nil, err
	}
	b.output("data_key_arn", "KMS key encrypting packs and stac", key.KeyArn, false)
	for _, kind := range []string{"packs", "stac", "logs"} {
		b.output(kind+"_bucket", "Name of the "+kind+" bucket", out.Buckets[kind].Name, false)
	}
	return out, nil
}

// cloudFrontMayDecrypt is the key-policy statement an SSE-KMS bucket behind
// CloudFront OAC needs: OAC-signed reads fail with 403 unless CloudFront
// may decrypt. A key policy cannot name a distribution created after the
// key, so it admits this account's distributions; each bucket policy then
// pins the one distribution (and prefix) that may read.
func cloudFrontMayDecrypt(sid, account string) sp.Statement {
	return sp.Statement{
		Sid:        sid,
		Actions:    []string{"kms:Decrypt"},
		Resources:  []string{"*"},
		Principals: []sp.Principal{{Type: "Service", Identifiers: []string{"cloudfront.amazonaws.com"}}},
		Conditions: []sp.Condition{
			{Test: "StringEquals", Variable: "AWS:SourceAccount", Values: []string{account}},
			{Test: "ArnLike", Variable: "AWS:SourceArn", Values: []string{"arn:aws:cloudfront::" + account + ":distribution/*"}},
		},
	}
}
