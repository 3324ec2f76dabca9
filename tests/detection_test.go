package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

func TestControlPlaneLogsPerEnv(t *testing.T) {
	all := []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}
	want := map[string][]string{"dev": {"api", "audit", "authenticator"}, "staging": all, "prod": all}
	for env, types := range want {
		c := resources(stack(t, env+"-cluster").Doc, "aws_eks_cluster")[0]
		assert.Equal(t, types, strs(c.Get("enabled_cluster_log_types")), env)
		assert.Equal(t, env != "dev", c.Get("lifecycle.prevent_destroy").Bool(), "%s: the cluster is protected outside dev", env)
	}
}

func TestEveryLogGroupIsEncryptedAndProtectedOutsideDev(t *testing.T) {
	seen := map[string]int{}
	for _, s := range allStacks(t) {
		for _, g := range resources(s.Doc, "aws_cloudwatch_log_group") {
			seen[s.Env]++
			name := g.Get("name").String()
			assert.Regexp(t, `^\$\{aws_kms_key\.[\w-]+\.arn\}$`, g.Get("kms_key_id").String(), "%s: %s", s.ID, name)
			assert.Equal(t, s.Env != "dev", g.Get("lifecycle.prevent_destroy").Bool(), "%s: %s", s.ID, name)
		}
	}
	// flow logs, EKS and the two CI runner projects (deploys, PR plans)
	// everywhere; WAF logs where WAF runs (staging, prod): the CDN's and
	// the marketplace ALB's
	assert.Equal(t, map[string]int{"dev": 4, "staging": 6, "prod": 6}, seen)
}

func TestUndeliveredDataQueuesAreProtectedOutsideDev(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		queues := resources(stack(t, env+"-edge").Doc, "aws_sqs_queue")
		require.Len(t, queues, 2)
		for _, q := range queues {
			assert.Equal(t, env != "dev", q.Get("lifecycle.prevent_destroy").Bool(), "%s: %s", env, q.Get("name"))
		}
	}
}

func TestWafLogsWithCredentialsRedacted(t *testing.T) {
	for _, env := range []string{"staging", "prod"} {
		doc := stack(t, env+"-cdn").Doc
		cfg := resources(doc, "aws_wafv2_web_acl_logging_configuration")
		require.Len(t, cfg, 1, env)
		var headers []string
		for _, f := range cfg[0].Get("redacted_fields").Array() {
			headers = append(headers, f.Get("single_header.name").String())
		}
		assert.Equal(t, []string{"authorization", "cookie"}, headers)
		g := resources(doc, "aws_cloudwatch_log_group")[0]
		assert.Equal(t, "aws-waf-logs-spatialprops-"+env+"-cdn", g.Get("name").String())
	}
	assert.Empty(t, resources(stack(t, "dev-cdn").Doc, "aws_wafv2_web_acl_logging_configuration"), "dev runs no WAF")
}

// synthState synthesizes one env's state stack with edited config.
func synthState(t *testing.T, env string, edit func(*envs.Config)) gjson.Result {
	t.Helper()
	cfgs, err := envs.LoadSelected(envs.Overrides{Env: env})
	require.NoError(t, err)
	require.Len(t, cfgs, 1)
	edit(cfgs[0])
	app := cdktf.Testing_App(nil)
	require.NoError(t, stacks.NewStateStack(app, cfgs[0]))
	st := app.Node().FindChild(jsii.String(env + "-state")).(cdktf.TerraformStack)
	return gjson.Parse(*cdktf.Testing_Synth(st, jsii.Bool(true)))
}

func TestAccountBaselineIsOffByDefaultAndSecureWhenOn(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		assert.Empty(t, resources(stack(t, env+"-state").Doc, "aws_cloudtrail"), "%s assumes the landing zone's trail", env)
	}
	doc := synthState(t, "prod", func(c *envs.Config) { c.AccountBaseline.Create = true })

	trail := resources(doc, "aws_cloudtrail")
	require.Len(t, trail, 1)
	assert.True(t, trail[0].Get("is_multi_region_trail").Bool())
	assert.True(t, trail[0].Get("enable_log_file_validation").Bool(), "digests prove no log file was altered")
	assert.True(t, trail[0].Get("include_global_service_events").Bool())
	assert.Regexp(t, `^\$\{aws_kms_key\.[\w-]+\.arn\}$`, trail[0].Get("kms_key_id").String())
	for _, sse := range resources(doc, "aws_s3_bucket_server_side_encryption_configuration") {
		if strings.Contains(sse.Get("bucket").String(), "audit-bucket") {
			assert.Equal(t, "aws:kms", sse.Get("rule.0.apply_server_side_encryption_by_default.sse_algorithm").String())
		}
	}
	write := policyStatement(t, doc, "CloudTrailWrite")
	assert.Equal(t, []string{"cloudtrail.amazonaws.com"}, strs(write.Get("principals.0.identifiers")))

	gd := resources(doc, "aws_guardduty_detector")
	require.Len(t, gd, 1)
	assert.True(t, gd[0].Get("enable").Bool())
	var features []string
	for _, f := range resources(doc, "aws_guardduty_detector_feature") {
		features = append(features, f.Get("name").String())
	}
	assert.ElementsMatch(t, []string{"S3_DATA_EVENTS", "EKS_AUDIT_LOGS"}, features)

	rec := resources(doc, "aws_config_configuration_recorder")
	require.Len(t, rec, 1)
	assert.True(t, rec[0].Get("recording_group.all_supported").Bool())
	assert.True(t, rec[0].Get("recording_group.include_global_resource_types").Bool())
	assert.Len(t, resources(doc, "aws_config_configuration_recorder_status"), 1)
	// the audit bucket's own access logs go to the state log bucket
	policyStatement(t, doc, "AllowAccessLogsFromAudit")
	// and the variant passes every policy the shipped stacks pass
	// (Testing_Synth drops the stack-name metadata the policies read)
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc.Raw), &m))
	m["//"] = map[string]any{"metadata": map[string]any{"stackName": "prod-state"}}
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	assert.Empty(t, deny(t, policies(t), raw))
}
