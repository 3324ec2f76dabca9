package constructs

import (
	"fmt"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucket"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/sqsqueue"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appSynth runs a real app synthesis and returns the error it raised, if
// any: guardrail violations surface exactly like this in `make synth`.
func appSynth(t *testing.T, build func(app cdktf.App)) (err error) {
	t.Helper()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(t.TempDir()), StackTraces: jsii.Bool(false)})
	build(app)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	app.Synth()
	return nil
}

func remote(stack cdktf.TerraformStack) {
	_, _ = NewRemoteBackend(stack, &RemoteBackendProps{Bucket: "tfstate-x", Key: "dev/x.tfstate", Region: "ap-southeast-2"})
}

func TestGuardrailsPassACompliantStack(t *testing.T) {
	err := appSynth(t, func(app cdktf.App) {
		stack := cdktf.NewTerraformStack(app, jsii.String("dev-ok"))
		remote(stack)
		_, _ = NewAwsProvider(stack, "aws", &AwsProviderProps{Region: "ap-southeast-2", DefaultTags: testTags})
		s3bucket.NewS3Bucket(stack, jsii.String("b"), &s3bucket.S3BucketConfig{})
		AddGuardrails(stack)
	})
	assert.NoError(t, err)
}

func TestGuardrailsRejectLocalStateFallback(t *testing.T) {
	// GIVEN a stack that forgot its backend, WHEN synthesized, THEN synth
	// fails: CDKTF would otherwise keep state in an absolute local path.
	err := appSynth(t, func(app cdktf.App) {
		stack := cdktf.NewTerraformStack(app, jsii.String("dev-forgetful"))
		_, _ = NewAwsProvider(stack, "aws", &AwsProviderProps{Region: "ap-southeast-2", DefaultTags: testTags})
		AddGuardrails(stack)
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stack dev-forgetful has a local backend and would keep its state on this machine")
}

func TestGuardrailsRejectALocalBackendEvenForState(t *testing.T) {
	// The state stack too ends on the S3 backend (make bootstrap migrates
	// it), so a local backend is a mistake in every stack.
	err := appSynth(t, func(app cdktf.App) {
		stack := cdktf.NewTerraformStack(app, jsii.String("dev-state"))
		cdktf.NewLocalBackend(stack, &cdktf.LocalBackendConfig{Path: jsii.String("state.tfstate")})
		_, _ = NewAwsProvider(stack, "aws", &AwsProviderProps{Region: "ap-southeast-2", DefaultTags: testTags})
		AddGuardrails(stack)
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stack dev-state has a local backend and would keep its state on this machine")
}

func TestGuardrailsRejectUntaggedResources(t *testing.T) {
	// A provider without default_tags leaves every resource untagged.
	err := appSynth(t, func(app cdktf.App) {
		stack := cdktf.NewTerraformStack(app, jsii.String("dev-untagged"))
		remote(stack)
		provider.NewAwsProvider(stack, jsii.String("aws"), &provider.AwsProviderConfig{Region: jsii.String("ap-southeast-2")})
		sqsqueue.NewSqsQueue(stack, jsii.String("queue"), &sqsqueue.SqsQueueConfig{})
		AddGuardrails(stack)
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "aws_sqs_queue dev-untagged/queue would be created without required tag(s) CostCenter, Environment, Owner, Project, Service")
}

func TestGuardrailsRejectABlankedTag(t *testing.T) {
	// A resource-level tag overrides the provider default: blanking Owner
	// must be caught, not silently accepted.
	err := appSynth(t, func(app cdktf.App) {
		stack := cdktf.NewTerraformStack(app, jsii.String("dev-blank"))
		remote(stack)
		_, _ = NewAwsProvider(stack, "aws", &AwsProviderProps{Region: "ap-southeast-2", DefaultTags: testTags})
		s3bucket.NewS3Bucket(stack, jsii.String("b"), &s3bucket.S3BucketConfig{Tags: StringMap(map[string]string{"Owner": ""})})
		AddGuardrails(stack)
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "aws_s3_bucket dev-blank/b would be created without required tag(s) Owner")
}

func TestGuardrailsFollowAnAliasedProvider(t *testing.T) {
	// Resources on a second provider (us-east-1 for CloudFront certificates)
	// get that provider's tags, not the default provider's.
	err := appSynth(t, func(app cdktf.App) {
		stack := cdktf.NewTerraformStack(app, jsii.String("dev-alias"))
		remote(stack)
		_, _ = NewAwsProvider(stack, "aws", &AwsProviderProps{Region: "ap-southeast-2", DefaultTags: testTags})
		east := provider.NewAwsProvider(stack, jsii.String("east"), &provider.AwsProviderConfig{Region: jsii.String("us-east-1"), Alias: jsii.String("east")})
		sqsqueue.NewSqsQueue(stack, jsii.String("queue"), &sqsqueue.SqsQueueConfig{Provider: east})
		AddGuardrails(stack)
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "aws_sqs_queue dev-alias/queue would be created without required tag(s)")
}

func TestProviderRefusesIncompleteTags(t *testing.T) {
	stack := cdktf.NewTerraformStack(cdktf.Testing_App(nil), jsii.String("s"))
	_, err := NewAwsProvider(stack, "aws", &AwsProviderProps{Region: "ap-southeast-2", DefaultTags: map[string]string{"Project": "spatial-properties"}})
	require.Error(t, err)
	assert.Equal(t, "aws: defaultTags lacks required tag(s) [CostCenter Environment Owner Service]; every resource must carry [Environment Project Service CostCenter Owner]", err.Error())
}

func TestRemoteBackendIsEncryptedAndLocked(t *testing.T) {
	stack := newTestStack(t)
	_, err := NewRemoteBackend(stack, &RemoteBackendProps{Bucket: "tfstate-spatialprops-dev-ap-southeast-2", Key: "dev/network.tfstate", Region: "ap-southeast-2"})
	require.NoError(t, err)
	be := synth(t, stack).Get("terraform.backend.s3")
	assert.Equal(t, "tfstate-spatialprops-dev-ap-southeast-2", be.Get("bucket").String())
	assert.Equal(t, "dev/network.tfstate", be.Get("key").String())
	assert.True(t, be.Get("encrypt").Bool())
	// S3 native locking; dynamodb_table would bring back Terraform 1.11's
	// deprecation warning on every init.
	assert.True(t, be.Get("use_lockfile").Bool(), "state must be locked with the S3 lock file")
	assert.False(t, be.Get("dynamodb_table").Exists(), "dynamodb_table is deprecated in the S3 backend")

	_, err = NewRemoteBackend(newTestStack(t), &RemoteBackendProps{Bucket: "b"})
	require.EqualError(t, err, "test: remote backend needs bucket, key and region")
}
