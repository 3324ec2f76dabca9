package stacks

import (
	"fmt"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopic"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/snstopicpolicy"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// StorageOutputs are what the cdn, edge and cicd stacks consume.
type StorageOutputs struct {
	// KeyArn encrypts the packs and STAC buckets only.
	KeyArn *string
	// EdgeKeyArn encrypts the DTN store and queues (the edge gateway's data).
	EdgeKeyArn *string
	// DeviceKeyArn encrypts the device ledger, the device records and the
	// entitlements (identity and licence data: written by the enrollment
	// service and marketplace-api, read by revocation and the presigner).
	DeviceKeyArn *string
	// AlarmTopicArn receives every CloudWatch alarm of the env (DLQs,
	// backlogs); operators subscribe to it.
	AlarmTopicArn *string
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

	keys, err := newPurposeKeys(b)
	if err != nil {
		return nil, err
	}
	out := &StorageOutputs{KeyArn: key.KeyArn, EdgeKeyArn: keys.edge, DeviceKeyArn: keys.device, AlarmTopicArn: keys.alarms,
		Buckets: map[string]*sp.SecureBucket{"logs": logs}}
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
	b.output("alarm_topic_arn", "SNS topic every CloudWatch alarm of the env notifies (subscribe the on-call here)", keys.alarms, false)
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

type purposeKeys struct {
	edge, device, alarms *string
}

// newPurposeKeys creates one key per owner of data, so a grant to one
// workload's role never decrypts another's: the edge key (DTN store and
// queues, the dtn-gateway's), the devices key (device ledger and device
// records, the enrollment service's and revocation's), and the alarms key
// with the SNS topic every CloudWatch alarm notifies (CloudWatch may
// publish to an encrypted topic only through a key whose policy admits it;
// the AWS-managed SNS key does not).
func newPurposeKeys(b *base) (purposeKeys, error) {
	account := *b.accountID()
	var out purposeKeys
	for _, k := range []struct {
		id, purpose, description string
		extra                    []sp.Statement
		dst                      **string
	}{
		{"edge-key", "edge", "Encrypts the DTN store-and-forward bucket and queues of " + b.names.Prefix(), nil, &out.edge},
		{"devices-key", DeviceKeyPurpose, "Encrypts the device ledger and device records of " + b.names.Prefix(), nil, &out.device},
		{"alarms-key", "alarms", "Encrypts the CloudWatch alarm topic of " + b.names.Prefix(), []sp.Statement{{
			Sid: "AllowCloudWatchAlarmsToPublish", Actions: []string{"kms:GenerateDataKey*", "kms:Decrypt"}, Resources: []string{"*"},
			Principals: []sp.Principal{{Type: "Service", Identifiers: []string{"cloudwatch.amazonaws.com"}}},
			Conditions: []sp.Condition{{Test: "StringEquals", Variable: "aws:SourceAccount", Values: []string{account}}},
		}}, nil},
	} {
		key, err := sp.NewKmsKey(b.stack, k.id, &sp.KmsKeyProps{
			Alias: "alias/" + b.names.Prefix() + "-" + k.purpose, Description: k.description,
			Protect: b.cfg.Protect(), AccountID: b.accountID(), ExtraStatements: k.extra,
		})
		if err != nil {
			return out, err
		}
		if k.dst != nil {
			*k.dst = key.KeyArn
		} else {
			out.alarms = newAlarmTopic(b, key.KeyArn)
		}
	}
	return out, nil
}

// newAlarmTopic is "<org>-<env>-alarms", encrypted, publishable only by
// CloudWatch alarms of this account (and read by its subscribers).
func newAlarmTopic(b *base, keyArn *string) *string {
	name := b.names.Prefix() + "-alarms"
	topic := snstopic.NewSnsTopic(b.stack, jsii.String("alarm-topic"), &snstopic.SnsTopicConfig{
		Name: jsii.String(name), KmsMasterKeyId: keyArn,
	})
	policy := sp.NewPolicyDocument(b.stack, "alarm-topic-policy",
		sp.Statement{
			Sid: "CloudWatchAlarmsOfThisAccount", Actions: []string{"sns:Publish"}, Resources: []string{*topic.Arn()},
			Principals: []sp.Principal{{Type: "Service", Identifiers: []string{"cloudwatch.amazonaws.com"}}},
			Conditions: []sp.Condition{
				{Test: "StringEquals", Variable: "aws:SourceAccount", Values: []string{*b.accountID()}},
				{Test: "ArnLike", Variable: "aws:SourceArn", Values: []string{fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:*", b.cfg.Region, *b.accountID())}},
			},
		},
		sp.Statement{
			Sid: "DenyInsecureTransport", Effect: "Deny", Actions: []string{"sns:Publish"}, Resources: []string{*topic.Arn()},
			Principals: []sp.Principal{{Type: "*", Identifiers: []string{"*"}}},
			Conditions: []sp.Condition{{Test: "Bool", Variable: "aws:SecureTransport", Values: []string{"false"}}},
		},
	)
	snstopicpolicy.NewSnsTopicPolicy(b.stack, jsii.String("alarm-topic-policy-attachment"), &snstopicpolicy.SnsTopicPolicyConfig{
		Arn: topic.Arn(), Policy: policy.Json(),
	})
	return topic.Arn()
}

// DeviceKeyPurpose names the devices key, alias/<org>-<env>-devices: the
// device ledger and device records.
const DeviceKeyPurpose = "devices"

// deviceKeyThroughDynamoDB lets a role use the devices key only through
// DynamoDB (the ledger and device records it may read or write). The key
// is named by its alias (kms:ResourceAliases): the identity and cicd
// stacks, whose roles need it, are built without storage's outputs.
func (b *base) deviceKeyThroughDynamoDB(sid string, actions ...string) sp.Statement {
	return sp.Statement{Sid: sid, Actions: actions,
		Resources: []string{fmt.Sprintf("arn:aws:kms:%s:%s:key/*", b.cfg.Region, *b.accountID())},
		Conditions: []sp.Condition{
			{Test: "ForAnyValue:StringEquals", Variable: "kms:ResourceAliases", Values: []string{"alias/" + b.names.Prefix() + "-" + DeviceKeyPurpose}},
			viaServices(b.cfg.Region, "dynamodb"),
		}}
}

// viaServices limits a KMS grant to requests an AWS service makes on the
// role's behalf (kms:ViaService): the role can read S3 objects or SQS
// messages it is allowed to, but cannot call kms:Decrypt on the key itself.
func viaServices(region string, services ...string) sp.Condition {
	var values []string
	for _, s := range services {
		values = append(values, s+"."+region+".amazonaws.com")
	}
	return sp.Condition{Test: "StringEquals", Variable: "kms:ViaService", Values: values}
}
