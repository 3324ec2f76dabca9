package stacks

import (
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtable"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// StateNoncurrentDays keeps old state versions long enough to roll back a
// bad apply found weeks later, without keeping them forever.
const StateNoncurrentDays = 90

// NewStateStack creates the Terraform state bucket, its key and the guide's
// lock table. Like every stack it keeps its state in that bucket
// (<env>/state.tfstate); the bucket cannot hold state before it exists, so
// `make bootstrap` applies it once with a local-backend override and then
// migrates the state in (docs/bootstrap.md). Everything here is protected in
// every env: losing state orphans every other stack's resources.
//
// Every request to the state bucket is recorded in a separate access-log
// bucket, and, when accountBaseline.create is set, the account's
// CloudTrail, GuardDuty and AWS Config live here too: this stack is
// deployed by a human administrator, never by CI, so no workflow plans or
// applies a change to the audit trail. For the same reason the AWS Backup
// vaults and plan live here when backup.enabled is set (backup.go).
//
// Other stacks derive the bucket and key names from constructs/naming
// rather than reading this stack's outputs: a stack's backend must be known
// before any state can be read.
func NewStateStack(scope constructs.Construct, cfg *envs.Config) error {
	b, err := newBase(scope, cfg, State)
	if err != nil {
		return err
	}
	key, err := sp.NewKmsKey(b.stack, "state-key", &sp.KmsKeyProps{
		Alias:       "alias/" + b.names.Prefix() + "-tfstate",
		Description: "Encrypts Terraform state and locks of " + b.names.Prefix(),
		Protect:     true,
	})
	if err != nil {
		return err
	}
	logs, err := newStateAccessLogs(b)
	if err != nil {
		return err
	}
	bucket, err := sp.NewSecureBucket(b.stack, "state-bucket", &sp.SecureBucketProps{
		Name:       b.names.StateBucket(),
		KmsKeyArn:  key.KeyArn,
		Protect:    true,
		AccessLogs: &sp.AccessLogTarget{Bucket: logs.Name, Prefix: "tfstate/", After: logs.Policy},
		Lifecycle: []sp.LifecycleRule{{
			ID: "expire-old-state-versions", NoncurrentExpireDays: StateNoncurrentDays, AbortMultipartDays: 1,
		}},
	})
	if err != nil {
		return err
	}
	table := dynamodbtable.NewDynamodbTable(b.stack, jsii.String("lock-table"), &dynamodbtable.DynamodbTableConfig{
		Name:        jsii.String(b.names.LockTable()),
		BillingMode: jsii.String("PAY_PER_REQUEST"),
		HashKey:     jsii.String("LockID"), // the attribute Terraform's S3 backend writes
		Attribute: &[]*dynamodbtable.DynamodbTableAttribute{{
			Name: jsii.String("LockID"), Type: jsii.String("S"),
		}},
		PointInTimeRecovery:       pointInTimeRecovery(),
		ServerSideEncryption:      &dynamodbtable.DynamodbTableServerSideEncryption{Enabled: jsii.Bool(true), KmsKeyArn: key.KeyArn},
		DeletionProtectionEnabled: jsii.Bool(true),
		Lifecycle:                 sp.Lifecycle(true),
	})
	// The boundary lives here, not in cicd: the network stack's flow-log
	// role is the first role created and must already find it, and like the
	// state store it is something CI can never change (only this
	// human-deployed stack manages it).
	if _, err := sp.NewWorkloadBoundary(b.stack, "workload-boundary", &sp.WorkloadBoundaryProps{
		Name: b.names.WorkloadBoundary(), StateBucket: b.names.StateBucket(), LockTableArn: *table.Arn(),
		StateKeyAlias: "alias/" + b.names.Prefix() + "-tfstate",
		Allow:         workloadBoundaryStatements(b), WholeServices: BoundaryWholeServices,
	}); err != nil {
		return err
	}
	if cfg.Backup.Enabled {
		if err := newBackup(b); err != nil {
			return err
		}
	}
	if cfg.AccountBaseline.Create {
		if err := newAccountBaseline(b, logs); err != nil {
			return err
		}
	}
	b.output("state_bucket", "S3 bucket holding every other stack's state", bucket.Name, false)
	b.output("lock_table", "DynamoDB table holding state locks", table.Name(), false)
	return nil
}

// StateLogDays keeps the state bucket's access logs: who read or wrote
// state, and when, for a year.
const StateLogDays = 365

// newStateAccessLogs creates the bucket that receives the state bucket's
// server access logs. It uses SSE-S3: S3 cannot deliver access logs to a
// bucket whose default encryption is SSE-KMS.
func newStateAccessLogs(b *base) (*sp.SecureBucket, error) {
	name := b.names.StateLogsBucket()
	account := *b.accountID()
	// Each source bucket writes under its own prefix, and only there.
	sources := map[string]string{"tfstate/": b.names.StateBucket()}
	if b.cfg.AccountBaseline.Create {
		sources["audit/"] = b.names.TrailBucket()
	}
	var statements []sp.Statement
	for _, prefix := range sortedKeys(sources) {
		statements = append(statements, sp.Statement{
			Sid:        "AllowAccessLogsFrom" + strings.TrimSuffix(strings.ToUpper(prefix[:1])+prefix[1:], "/"),
			Actions:    []string{"s3:PutObject"},
			Resources:  []string{"arn:aws:s3:::" + name + "/" + prefix + "*"},
			Principals: []sp.Principal{{Type: "Service", Identifiers: []string{"logging.s3.amazonaws.com"}}},
			Conditions: []sp.Condition{
				{Test: "ArnLike", Variable: "aws:SourceArn", Values: []string{"arn:aws:s3:::" + sources[prefix]}},
				{Test: "StringEquals", Variable: "aws:SourceAccount", Values: []string{account}},
			},
		})
	}
	logs, err := sp.NewSecureBucket(b.stack, "state-access-logs", &sp.SecureBucketProps{
		Name: name, KmsKeyArn: nil, Protect: true,
		PolicyStatements: statements,
		Lifecycle: []sp.LifecycleRule{{
			ID: "expire-access-logs", ExpireDays: StateLogDays, NoncurrentExpireDays: 30, AbortMultipartDays: 1,
		}},
	})
	if err != nil {
		return nil, err
	}
	return logs, nil
}
