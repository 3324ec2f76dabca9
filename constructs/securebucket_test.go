package constructs

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecureBucketDefaultsAreSafe(t *testing.T) {
	// GIVEN a bucket with only a name and a KMS key
	stack := newTestStack(t)
	_, err := NewSecureBucket(stack, "packs", &SecureBucketProps{Name: "spatial-packs-x", KmsKeyArn: jsii.String("arn:aws:kms:ap-southeast-2:111122223333:key/abc")})
	require.NoError(t, err)
	doc := synth(t, stack)

	// THEN it is private: all four public-access-block switches are on
	pab := one(t, doc, "aws_s3_bucket_public_access_block")
	for _, k := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
		assert.True(t, pab.Get(k).Bool(), "%s must be true or the bucket can be made public", k)
	}
	// ACLs are disabled, so access is decided by policy alone
	assert.Equal(t, "BucketOwnerEnforced", one(t, doc, "aws_s3_bucket_ownership_controls").Get("rule.object_ownership").String())
	// versioning protects against overwrite and delete
	assert.Equal(t, "Enabled", one(t, doc, "aws_s3_bucket_versioning").Get("versioning_configuration.status").String())
	// SSE-KMS with the given key and bucket keys on (cost)
	sse := one(t, doc, "aws_s3_bucket_server_side_encryption_configuration").Get("rule.0")
	assert.Equal(t, "aws:kms", sse.Get("apply_server_side_encryption_by_default.sse_algorithm").String())
	assert.Equal(t, "arn:aws:kms:ap-southeast-2:111122223333:key/abc", sse.Get("apply_server_side_encryption_by_default.kms_master_key_id").String())
	assert.True(t, sse.Get("bucket_key_enabled").Bool())
	// and plain HTTP is refused for everyone
	deny := statementBySid(t, doc, "DenyInsecureTransport")
	assert.Equal(t, "Deny", deny.Get("effect").String())
	assert.Equal(t, []string{"s3:*"}, strs(deny.Get("actions")))
	assert.Equal(t, "aws:SecureTransport", deny.Get("condition.0.variable").String())
	assert.Equal(t, []string{"false"}, strs(deny.Get("condition.0.values")))
	assert.Len(t, resources(doc, "aws_s3_bucket_policy"), 1)
	// not protected unless asked (dev)
	assert.False(t, one(t, doc, "aws_s3_bucket").Get("lifecycle.prevent_destroy").Exists())
}

func TestSecureBucketWithoutKeyUsesSSES3(t *testing.T) {
	// Access-log buckets must use SSE-S3: S3 cannot deliver logs to SSE-KMS.
	stack := newTestStack(t)
	_, err := NewSecureBucket(stack, "logs", &SecureBucketProps{Name: "spatial-logs-x", Protect: true})
	require.NoError(t, err)
	doc := synth(t, stack)
	sse := one(t, doc, "aws_s3_bucket_server_side_encryption_configuration").Get("rule.0")
	assert.Equal(t, "AES256", sse.Get("apply_server_side_encryption_by_default.sse_algorithm").String())
	assert.True(t, one(t, doc, "aws_s3_bucket").Get("lifecycle.prevent_destroy").Bool(), "Protect must add prevent_destroy")
}

func TestSecureBucketExternalPolicyCreatesNone(t *testing.T) {
	// A bucket has one policy document; when another stack owns it this
	// construct must not create a second one that would overwrite it.
	stack := newTestStack(t)
	_, err := NewSecureBucket(stack, "packs", &SecureBucketProps{Name: "spatial-packs-x", ExternalPolicy: true})
	require.NoError(t, err)
	assert.Empty(t, resources(synth(t, stack), "aws_s3_bucket_policy"))
}

func TestSecureBucketLifecycleAlwaysHasAFilter(t *testing.T) {
	stack := newTestStack(t)
	_, err := NewSecureBucket(stack, "stac", &SecureBucketProps{Name: "spatial-stac-x", Lifecycle: []LifecycleRule{{
		ID:                    "noncurrent",
		NoncurrentTransitions: []Transition{{30, "STANDARD_IA"}, {90, "GLACIER_IR"}},
		NoncurrentExpireDays:  365,
		AbortMultipartDays:    7,
	}}})
	require.NoError(t, err)
	rule := one(t, synth(t, stack), "aws_s3_bucket_lifecycle_configuration").Get("rule.0")
	// provider >= 5.90 warns about rules without a filter
	assert.True(t, rule.Get("filter.0.prefix").Exists())
	assert.Equal(t, int64(30), rule.Get("noncurrent_version_transition.0.noncurrent_days").Int())
	assert.Equal(t, "STANDARD_IA", rule.Get("noncurrent_version_transition.0.storage_class").String())
	assert.Equal(t, int64(90), rule.Get("noncurrent_version_transition.1.noncurrent_days").Int())
	assert.Equal(t, "GLACIER_IR", rule.Get("noncurrent_version_transition.1.storage_class").String())
	assert.Equal(t, int64(365), rule.Get("noncurrent_version_expiration.0.noncurrent_days").Int())
	assert.Equal(t, int64(7), rule.Get("abort_incomplete_multipart_upload.0.days_after_initiation").Int())
}

func TestSecureBucketRejectsBadProps(t *testing.T) {
	cases := map[string]struct {
		props SecureBucketProps
		want  string
	}{
		"name too long": {SecureBucketProps{Name: "spatial-packs-a-very-long-organisation-name-dev-ap-southeast-2-x"},
			`b: name "spatial-packs-a-very-long-organisation-name-dev-ap-southeast-2-x" is 64 characters; S3 allows 3 to 63`},
		"transitions out of order": {SecureBucketProps{Name: "bkt", Lifecycle: []LifecycleRule{{ID: "r", NoncurrentTransitions: []Transition{{90, "GLACIER_IR"}, {30, "STANDARD_IA"}}}}},
			`b: lifecycle[0].noncurrentTransitions[1].days=30 must be greater than 90`},
		"expiry before transition": {SecureBucketProps{Name: "bkt", Lifecycle: []LifecycleRule{{ID: "r", NoncurrentTransitions: []Transition{{30, "STANDARD_IA"}}, NoncurrentExpireDays: 10}}},
			`b: lifecycle[0].noncurrentExpireDays=10 must be greater than the last transition (30)`},
		"statements with external policy": {SecureBucketProps{Name: "bkt", ExternalPolicy: true, PolicyStatements: []Statement{{Actions: []string{"s3:GetObject"}}}},
			`b: policyStatements are ignored when externalPolicy is set; put them in the owning stack's document`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := NewSecureBucket(newTestStack(t), "b", &tc.props)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}
