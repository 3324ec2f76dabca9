package constructs

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// RemoteBackendProps locates one stack's state in the bucket and lock table
// that the state stack creates.
type RemoteBackendProps struct {
	Bucket    string // tfstate-<org>-<env>-<region>
	Key       string // <env>/<component>.tfstate
	LockTable string // tf-lock-<org>-<env>-<region>
	Region    string
}

// NewRemoteBackend configures the stack's S3 backend with encryption and
// DynamoDB locking. Every stack but the state stack must call it: a stack
// without a backend silently falls back to local state, which CDKTF writes
// with an absolute machine path and which no teammate can see or lock.
func NewRemoteBackend(stack cdktf.TerraformStack, props *RemoteBackendProps) (cdktf.S3Backend, error) {
	if props == nil || props.Bucket == "" || props.Key == "" || props.LockTable == "" || props.Region == "" {
		return nil, fmt.Errorf("%s: remote backend needs bucket, key, lock table and region", *stack.Node().Id())
	}
	return cdktf.NewS3Backend(stack, &cdktf.S3BackendConfig{
		Bucket:        jsii.String(props.Bucket),
		Key:           jsii.String(props.Key),
		DynamodbTable: jsii.String(props.LockTable),
		Region:        jsii.String(props.Region),
		Encrypt:       jsii.Bool(true),
	}), nil
}

// BootstrapStatePath is where the state stack keeps its own state, relative
// to the stack's working directory (cdktf.out/stacks/<id>): the repository's
// bootstrap/ folder, outside cdktf.out so `make clean` never deletes it, and
// git-ignored so it is never committed.
func BootstrapStatePath(stackID string) string {
	return "../../../bootstrap/" + stackID + ".tfstate"
}

// NewBootstrapBackend gives the state stack an explicit local backend: the
// bucket it creates cannot hold its own state before it exists. The path is
// relative, so synthesized JSON never contains a machine path.
func NewBootstrapBackend(scope constructs.Construct, stackID string) cdktf.LocalBackend {
	return cdktf.NewLocalBackend(scope, &cdktf.LocalBackendConfig{
		Path: jsii.String(BootstrapStatePath(stackID)),
	})
}
