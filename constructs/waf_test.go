package constructs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCdnWebACLLogsWithCredentialsRedacted(t *testing.T) {
	stack := newTestStack(t)
	east, err := NewAwsProvider(stack, "east", &AwsProviderProps{Region: "us-east-1", Alias: "us_east_1", DefaultTags: testTags})
	require.NoError(t, err)
	_, err = NewCdnWebACL(stack, "waf", &CdnWebACLProps{Name: "sp-prod-cdn", RateLimitPer5Min: 2000, Provider: east, LogRetentionDays: 90, Protect: true})
	require.NoError(t, err)
	doc := synth(t, stack)

	cfg := one(t, doc, "aws_wafv2_web_acl_logging_configuration")
	var redacted []string
	for _, f := range cfg.Get("redacted_fields").Array() {
		redacted = append(redacted, f.Get("single_header.name").String())
	}
	assert.Equal(t, []string{"authorization", "cookie"}, redacted, "credentials and sessions never reach the logs")
	assert.Contains(t, cfg.Get("log_destination_configs.0").String(), "aws_cloudwatch_log_group.")

	g := one(t, doc, "aws_cloudwatch_log_group")
	assert.Equal(t, "aws-waf-logs-sp-prod-cdn", g.Get("name").String(), "WAF delivers only to aws-waf-logs-* groups")
	assert.Equal(t, "aws.us_east_1", g.Get("provider").String(), "CLOUDFRONT ACLs log in us-east-1")
	assert.True(t, g.Get("lifecycle.prevent_destroy").Bool())
	assert.Contains(t, g.Get("kms_key_id").String(), "aws_kms_key.")
	s := statementBySid(t, doc, "AllowCloudWatchLogsForTheseLogGroups")
	assert.Equal(t, []string{"logs.us-east-1.amazonaws.com"}, strs(s.Get("principals.0.identifiers")))

	_, err = NewCdnWebACL(newTestStack(t), "waf", &CdnWebACLProps{Name: "x", RateLimitPer5Min: 2000, Provider: east})
	require.EqualError(t, err, "waf: logRetentionDays must be positive; WAF logs are required")
}

func TestRegionalWebACLForAnALB(t *testing.T) {
	stack := newTestStack(t)
	p, err := NewAwsProvider(stack, "regional", &AwsProviderProps{Region: "ap-southeast-2", Alias: "regional", DefaultTags: testTags})
	require.NoError(t, err)
	_, err = NewCdnWebACL(stack, "waf", &CdnWebACLProps{Name: "sp-prod-market", RateLimitPer5Min: 2000, Provider: p,
		LogRetentionDays: 90, Protect: true, Regional: true, Region: "ap-southeast-2"})
	require.NoError(t, err)
	doc := synth(t, stack)
	assert.Equal(t, "REGIONAL", one(t, doc, "aws_wafv2_web_acl").Get("scope").String(), "an ALB takes only REGIONAL ACLs")
	s := statementBySid(t, doc, "AllowCloudWatchLogsForTheseLogGroups")
	assert.Equal(t, []string{"logs.ap-southeast-2.amazonaws.com"}, strs(s.Get("principals.0.identifiers")), "logs live in the ALB's region")

	_, err = NewCdnWebACL(newTestStack(t), "waf", &CdnWebACLProps{Name: "x", RateLimitPer5Min: 2000, Provider: p, LogRetentionDays: 1, Regional: true})
	require.EqualError(t, err, "waf: a regional web ACL needs region (the ALB's region)")
	_, err = NewCdnWebACL(newTestStack(t), "waf", &CdnWebACLProps{Name: "x", RateLimitPer5Min: 2000, Provider: p, LogRetentionDays: 1, Region: "eu-west-1"})
	require.EqualError(t, err, "waf: a CLOUDFRONT web ACL lives in us-east-1, not eu-west-1")
}
