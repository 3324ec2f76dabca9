package constructs

import (
	"encoding/json"
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchlogresourcepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscalleridentity"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webacl"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webaclloggingconfiguration"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// ManagedRuleGroups are the AWS managed rule groups the CDN web ACL runs:
// common web exploits, known-bad inputs (e.g. Log4Shell), and IPs with a
// poor reputation.
var ManagedRuleGroups = []string{
	"AWSManagedRulesCommonRuleSet",
	"AWSManagedRulesKnownBadInputsRuleSet",
	"AWSManagedRulesAmazonIpReputationList",
}

// CdnWebACLProps configures the CloudFront web ACL.
type CdnWebACLProps struct {
	Name string
	// RateLimitPer5Min blocks a single IP above this many requests in any
	// 5-minute window.
	RateLimitPer5Min int
	// Provider must be the us-east-1 provider: CLOUDFRONT-scoped ACLs live
	// there, and so must the log group they log to.
	Provider cdktf.TerraformProvider
	// LogRetentionDays keeps WAF logs in CloudWatch. Required.
	LogRetentionDays int
	// Protect adds prevent_destroy to the log group and its key.
	Protect bool
	// Regional makes a REGIONAL web ACL (for an ALB) instead of a
	// CLOUDFRONT one; Provider and Region must then be the ALB's region,
	// where the ACL and its log group live.
	Regional bool
	// Region of Provider; default us-east-1 (the CLOUDFRONT region).
	Region string
}

// scopeAndRegion returns the WAF scope and the region of the ACL's logs.
func (p *CdnWebACLProps) scopeAndRegion() (string, string) {
	region := p.Region
	if region == "" {
		region = "us-east-1"
	}
	if p.Regional {
		return "REGIONAL", region
	}
	return "CLOUDFRONT", region
}

// WafLogGroupPrefix is mandatory: WAF delivers only to log groups whose
// name starts with it.
const WafLogGroupPrefix = "aws-waf-logs-"

// WafRedactedHeaders are replaced by "REDACTED" in every logged request:
// they carry credentials and session tokens.
var WafRedactedHeaders = []string{"authorization", "cookie"}

// wafRule mirrors the WAFv2 JSON rule shape; the provider accepts rules as
// JSON because the statement schema is too deep for typed bindings.
type wafRule struct {
	Name             string         `json:"Name"`
	Priority         int            `json:"Priority"`
	Statement        map[string]any `json:"Statement"`
	OverrideAction   map[string]any `json:"OverrideAction,omitempty"`
	Action           map[string]any `json:"Action,omitempty"`
	VisibilityConfig map[string]any `json:"VisibilityConfig"`
}

// NewCdnWebACL creates a CLOUDFRONT-scoped web ACL with the managed rule
// groups and a per-IP rate limit, and returns its ARN.
func NewCdnWebACL(scope constructs.Construct, id string, props *CdnWebACLProps) (*string, error) {
	if props == nil || props.Name == "" || props.Provider == nil {
		return nil, fmt.Errorf("%s: name and the us-east-1 provider are required", id)
	}
	if props.LogRetentionDays < 1 {
		return nil, fmt.Errorf("%s: logRetentionDays must be positive; WAF logs are required", id)
	}
	if props.RateLimitPer5Min < 100 {
		return nil, fmt.Errorf("%s: rateLimitPer5Min=%d is below WAF's minimum of 100", id, props.RateLimitPer5Min)
	}
	if props.Regional && props.Region == "" {
		return nil, fmt.Errorf("%s: a regional web ACL needs region (the ALB's region)", id)
	}
	if !props.Regional && props.Region != "" && props.Region != "us-east-1" {
		return nil, fmt.Errorf("%s: a CLOUDFRONT web ACL lives in us-east-1, not %s", id, props.Region)
	}
	aclScope, _ := props.scopeAndRegion()
	visibility := func(name string) map[string]any {
		return map[string]any{"SampledRequestsEnabled": true, "CloudWatchMetricsEnabled": true, "MetricName": name}
	}
	var rules []wafRule
	for i, group := range ManagedRuleGroups {
		rules = append(rules, wafRule{
			Name: group, Priority: i,
			Statement:        map[string]any{"ManagedRuleGroupStatement": map[string]any{"VendorName": "AWS", "Name": group}},
			OverrideAction:   map[string]any{"None": map[string]any{}},
			VisibilityConfig: visibility(group),
		})
	}
	rules = append(rules, wafRule{
		Name: "RateLimitPerIP", Priority: len(ManagedRuleGroups),
		Statement:        map[string]any{"RateBasedStatement": map[string]any{"Limit": props.RateLimitPer5Min, "AggregateKeyType": "IP"}},
		Action:           map[string]any{"Block": map[string]any{}},
		VisibilityConfig: visibility("RateLimitPerIP"),
	})
	ruleJSON, err := json.Marshal(rules)
	if err != nil {
		return nil, err
	}
	acl := wafv2webacl.NewWafv2WebAcl(scope, jsii.String(id), &wafv2webacl.Wafv2WebAclConfig{
		Provider:      props.Provider,
		Name:          jsii.String(props.Name),
		Scope:         jsii.String(aclScope),
		DefaultAction: &wafv2webacl.Wafv2WebAclDefaultAction{Allow: &wafv2webacl.Wafv2WebAclDefaultActionAllow{}},
		RuleJson:      jsii.String(string(ruleJSON)),
		VisibilityConfig: &wafv2webacl.Wafv2WebAclVisibilityConfig{
			CloudwatchMetricsEnabled: jsii.Bool(true), SampledRequestsEnabled: jsii.Bool(true), MetricName: jsii.String(props.Name),
		},
	})
	if err := newWafLogging(scope, id, acl.Arn(), props); err != nil {
		return nil, err
	}
	return acl.Arn(), nil
}

// newWafLogging sends every request the ACL evaluates to a CMK-encrypted
// log group in us-east-1, with the credential headers redacted. The log
// group's resource policy lets only this account's WAF delivery write.
func newWafLogging(scope constructs.Construct, id string, aclArn *string, props *CdnWebACLProps) error {
	name := WafLogGroupPrefix + props.Name
	_, region := props.scopeAndRegion()
	caller := dataawscalleridentity.NewDataAwsCallerIdentity(scope, jsii.String(id+"-caller"), &dataawscalleridentity.DataAwsCallerIdentityConfig{
		Provider: props.Provider,
	})
	key, err := NewLogsKey(scope, id+"-logs-key", &LogsKeyProps{
		Alias: "alias/" + props.Name + "-waf-logs", Region: region, AccountID: caller.AccountId(),
		LogGroupNames: []string{name}, Protect: props.Protect, Provider: props.Provider,
	})
	if err != nil {
		return err
	}
	group, err := NewLogGroup(scope, id+"-logs", &LogGroupProps{
		Name: name, RetentionDays: props.LogRetentionDays, KmsKeyArn: key, Protect: props.Protect, Provider: props.Provider,
	})
	if err != nil {
		return err
	}
	account := *caller.AccountId()
	policy := NewPolicyDocument(scope, id+"-log-delivery", Statement{
		Sid:        "AllowWafLogDeliveryFromThisAccount",
		Actions:    []string{"logs:CreateLogStream", "logs:PutLogEvents"},
		Resources:  []string{*group.Arn() + ":*"},
		Principals: []Principal{{Type: "Service", Identifiers: []string{"delivery.logs.amazonaws.com"}}},
		Conditions: []Condition{
			{Test: "StringEquals", Variable: "aws:SourceAccount", Values: []string{account}},
			{Test: "ArnLike", Variable: "aws:SourceArn", Values: []string{"arn:aws:logs:" + region + ":" + account + ":*"}},
		},
	})
	resourcePolicy := cloudwatchlogresourcepolicy.NewCloudwatchLogResourcePolicy(scope, jsii.String(id+"-log-delivery-policy"), &cloudwatchlogresourcepolicy.CloudwatchLogResourcePolicyConfig{
		Provider: props.Provider, PolicyName: jsii.String(name + "-delivery"), PolicyDocument: policy.Json(),
	})
	redacted := make([]*wafv2webaclloggingconfiguration.Wafv2WebAclLoggingConfigurationRedactedFields, 0, len(WafRedactedHeaders))
	for _, h := range WafRedactedHeaders {
		redacted = append(redacted, &wafv2webaclloggingconfiguration.Wafv2WebAclLoggingConfigurationRedactedFields{
			SingleHeader: &wafv2webaclloggingconfiguration.Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader{Name: jsii.String(h)},
		})
	}
	wafv2webaclloggingconfiguration.NewWafv2WebAclLoggingConfiguration(scope, jsii.String(id+"-logging"), &wafv2webaclloggingconfiguration.Wafv2WebAclLoggingConfigurationConfig{
		Provider:              props.Provider,
		ResourceArn:           aclArn,
		LogDestinationConfigs: jsii.Strings(*group.Arn()),
		RedactedFields:        &redacted,
		DependsOn:             &[]cdktf.ITerraformDependable{resourcePolicy},
	})
	return nil
}
