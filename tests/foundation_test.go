package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// The E1.1 network as the guide specifies it, checked on the real synth.
func TestDevNetworkMatchesTheGuide(t *testing.T) {
	doc := stack(t, "dev-network").Doc

	vpcs := resources(doc, "aws_vpc")
	require.Len(t, vpcs, 1)
	assert.Equal(t, "10.0.0.0/16", vpcs[0].Get("cidr_block").String())
	assert.Equal(t, "spatialprops-dev-vpc", vpcs[0].Get("tags.Name").String())

	got := map[string]string{}
	for _, s := range resources(doc, "aws_subnet") {
		got[s.Get("cidr_block").String()] = s.Get("availability_zone").String()
	}
	assert.Equal(t, map[string]string{
		"10.0.1.0/24": "ap-southeast-2a", "10.0.2.0/24": "ap-southeast-2b", "10.0.3.0/24": "ap-southeast-2c",
		"10.0.101.0/24": "ap-southeast-2a", "10.0.102.0/24": "ap-southeast-2b", "10.0.103.0/24": "ap-southeast-2c",
	}, got)
	assert.Len(t, resources(doc, "aws_nat_gateway"), 1, "dev uses a single NAT gateway")
	assert.Len(t, resources(stack(t, "prod-network").Doc, "aws_nat_gateway"), 3, "prod has one NAT per AZ")
}

func TestEveryStackHasTheRightBackendAndTags(t *testing.T) {
	for _, s := range allStacks(t) {
		if s.Env == "" {
			continue // the github stack: tests/github_stack_test.go
		}
		t.Run(s.ID, func(t *testing.T) {
			env, component := s.Env, s.ID[len(s.Env)+1:]
			// Every stack, state included, keeps its state in the env's
			// bucket under its own key and locks with S3's lock file.
			be := s.Doc.Get("terraform.backend.s3")
			require.True(t, be.Exists(), "stack must use the S3 backend")
			assert.False(t, s.Doc.Get("terraform.backend.local").Exists(), "no stack keeps local state")
			assert.Equal(t, fmt.Sprintf("tfstate-spatialprops-%s-ap-southeast-2", env), be.Get("bucket").String())
			assert.Equal(t, fmt.Sprintf("%s/%s.tfstate", env, component), be.Get("key").String())
			assert.True(t, be.Get("use_lockfile").Bool(), "S3 native locking")
			assert.False(t, be.Get("dynamodb_table").Exists(), "deprecated in Terraform 1.11: it warns on every init")
			assert.True(t, be.Get("encrypt").Bool())
			// The same JSON must init against a local mirror of 5.100.0 and
			// the registry: a range, not the bindings' exact version.
			assert.Equal(t, ">= 5.99.1, < 6.0.0", s.Doc.Get("terraform.required_providers.aws.version").String())
			for _, p := range s.Doc.Get("provider.aws").Array() {
				tags := p.Get("default_tags.0.tags")
				assert.Equal(t, env, tags.Get("Environment").String())
				assert.Equal(t, "spatial-properties", tags.Get("Project").String())
				assert.Equal(t, component, tags.Get("Service").String())
				assert.Equal(t, "platform-engineering", tags.Get("CostCenter").String())
				assert.Equal(t, "sre@spatial.properties", tags.Get("Owner").String())
			}
		})
	}
}

func TestStateStackIsProtected(t *testing.T) {
	// Losing the state bucket or lock table orphans every other stack.
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-state").Doc
		buckets := resources(doc, "aws_s3_bucket")
		require.Len(t, buckets, 2, "the state bucket and its access-log bucket")
		for _, b := range buckets {
			assert.True(t, b.Get("lifecycle.prevent_destroy").Bool(), b.Get("bucket").String())
		}
		var names []string
		for _, b := range buckets {
			names = append(names, b.Get("bucket").String())
		}
		assert.ElementsMatch(t, []string{
			fmt.Sprintf("tfstate-spatialprops-%s-ap-southeast-2", env), fmt.Sprintf("tfstate-logs-spatialprops-%s-ap-southeast-2", env),
		}, names)

		table := resources(doc, "aws_dynamodb_table")
		require.Len(t, table, 1)
		assert.Equal(t, fmt.Sprintf("tf-lock-spatialprops-%s-ap-southeast-2", env), table[0].Get("name").String())
		assert.Equal(t, "LockID", table[0].Get("hash_key").String())
		assert.Equal(t, "S", table[0].Get("attribute.0.type").String())
		assert.Equal(t, "PAY_PER_REQUEST", table[0].Get("billing_mode").String())
		assert.True(t, table[0].Get("point_in_time_recovery.enabled").Bool())
		assert.True(t, table[0].Get("server_side_encryption.enabled").Bool())
		assert.True(t, table[0].Get("deletion_protection_enabled").Bool())

		lc := resources(doc, "aws_s3_bucket_lifecycle_configuration")
		require.Len(t, lc, 2)
		var stateRule gjson.Result
		for _, l := range lc {
			if l.Get("rule.0.id").String() == "expire-old-state-versions" {
				stateRule = l
			}
		}
		assert.Equal(t, int64(90), stateRule.Get("rule.0.noncurrent_version_expiration.0.noncurrent_days").Int())

		// Every read and write of state is logged, to a bucket with SSE-S3
		// (S3 cannot deliver access logs to an SSE-KMS bucket).
		logging := resources(doc, "aws_s3_bucket_logging")
		require.Len(t, logging, 1)
		assert.Contains(t, logging[0].Get("bucket").String(), "aws_s3_bucket.state-bucket_")
		assert.Contains(t, logging[0].Get("target_bucket").String(), "aws_s3_bucket.state-access-logs_bucket_")
		for _, sse := range resources(doc, "aws_s3_bucket_server_side_encryption_configuration") {
			if strings.Contains(sse.Get("bucket").String(), "state-access-logs") {
				assert.Equal(t, "AES256", sse.Get("rule.0.apply_server_side_encryption_by_default.sse_algorithm").String())
			}
		}
		logWrite := policyStatement(t, doc, "AllowAccessLogsFromTfstate")
		assert.Equal(t, []string{"logging.s3.amazonaws.com"}, strs(logWrite.Get("principals.0.identifiers")))
	}
}
