package stacks

import (
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
	bucket, err := sp.NewSecureBucket(b.stack, "state-bucket", &sp.SecureBucketProps{
		Name:      b.names.StateBucket(),
		KmsKeyArn: key.KeyArn,
		Protect:   true,
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
		PointInTimeRecovery:       &dynamodbtable.DynamodbTablePointInTimeRecovery{Enabled: jsii.Bool(true)},
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
	}); err != nil {
		return err
	}
	b.output("state_bucket", "S3 bucket holding every other stack's state", bucket.Name, false)
	b.output("lock_table", "DynamoDB table holding state locks", table.Name(), false)
	return nil
}
