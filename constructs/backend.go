package constructs

import (
	"fmt"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// RemoteBackendProps locates one stack's state in the bucket that the state
// stack creates.
type RemoteBackendProps struct {
	Bucket string // tfstate-<org>-<env>-<region>
	Key    string // <env>/<component>.tfstate
	Region string
}

// NewRemoteBackend configures the stack's S3 backend with encryption and S3
// native locking. Every stack calls it, the state stack included (`make
// bootstrap` applies that one stack once with a local-backend override and
// then migrates its state into the bucket it created). A stack without a
// backend silently falls back to local state, which CDKTF writes with an
// absolute machine path and which no teammate can see or lock.
//
// Locking uses a lock object next to the state (use_lockfile, Terraform
// 1.10+). The backend no longer names the DynamoDB table: Terraform 1.11
// deprecates dynamodb_table and warns on every init. The state stack still
// creates the guide's tf-lock table, so a tool pinned to an older Terraform
// can lock with -backend-config=dynamodb_table=<table> while both exist.
func NewRemoteBackend(stack cdktf.TerraformStack, props *RemoteBackendProps) (cdktf.S3Backend, error) {
	if props == nil || props.Bucket == "" || props.Key == "" || props.Region == "" {
		return nil, fmt.Errorf("%s: remote backend needs bucket, key and region", *stack.Node().Id())
	}
	backend := cdktf.NewS3Backend(stack, &cdktf.S3BackendConfig{
		Bucket:  jsii.String(props.Bucket),
		Key:     jsii.String(props.Key),
		Region:  jsii.String(props.Region),
		Encrypt: jsii.Bool(true),
	})
	// cdktf 0.20 predates use_lockfile, so it is set as an override.
	stack.AddOverride(jsii.String("terraform.backend.s3.use_lockfile"), true)
	return backend, nil
}

// LockFileSuffix is what the S3 backend appends to a state key for its lock
// object; roles that plan or deploy need to write and delete it.
const LockFileSuffix = ".tflock"
