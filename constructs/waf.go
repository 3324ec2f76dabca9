package constructs

import (
	"encoding/json"
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/wafv2webacl"
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
	// there.
	Provider cdktf.TerraformProvider
}

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
	if props.RateLimitPer5Min < 100 {
		return nil, fmt.Errorf("%s: rateLimitPer5Min=%d is below WAF's minimum of 100", id, props.RateLimitPer5Min)
	}
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
		Scope:         jsii.String("CLOUDFRONT"),
		DefaultAction: &wafv2webacl.Wafv2WebAclDefaultAction{Allow: &wafv2webacl.Wafv2WebAclDefaultActionAllow{}},
		RuleJson:      jsii.String(string(ruleJSON)),
		VisibilityConfig: &wafv2webacl.Wafv2WebAclVisibilityConfig{
			CloudwatchMetricsEnabled: jsii.Bool(true), SampledRequestsEnabled: jsii.Bool(true), MetricName: jsii.String(props.Name),
		},
	})
	return acl.Arn(), nil
}
