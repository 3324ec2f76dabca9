package constructs

import (
	"fmt"
	"sort"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/provider"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// RequiredTagKeys are the tags every taggable AWS resource must carry. The
// policy checks and the guardrail aspect both read this list.
var RequiredTagKeys = []string{"Environment", "Project", "Service", "CostCenter", "Owner"}

// AwsProviderConstraint is the version range written into every stack's
// required_providers. The Go bindings were generated for hashicorp/aws
// 5.99.1, so older providers may lack arguments we set; any later 5.x reads
// the same configuration, which lets one synthesized output init against a
// local mirror (5.100.0 on our CI image) and the public registry alike. 6.0
// renames and removes arguments, so it is excluded until the bindings move.
const AwsProviderConstraint = ">= 5.99.1, < 6.0.0"

// AwsProviderProps configures an AWS provider.
type AwsProviderProps struct {
	// Region the provider talks to.
	Region string
	// Alias names a second provider in the same stack (e.g. "us_east_1" for
	// CloudFront certificates); empty means the default provider.
	Alias string
	// AllowedAccountIDs, when non-empty, makes terraform refuse to run
	// against any other account: a guard against deploying with the wrong
	// credentials.
	AllowedAccountIDs []string
	// DefaultTags are applied by the provider to every resource it manages.
	// All of RequiredTagKeys must be present and non-empty.
	DefaultTags map[string]string
}

// NewAwsProvider creates an AWS provider whose default_tags carry the
// required tags, so no resource depends on remembering to tag itself.
func NewAwsProvider(scope constructs.Construct, id string, props *AwsProviderProps) (provider.AwsProvider, error) {
	if props == nil || props.Region == "" {
		return nil, fmt.Errorf("%s: region is required", id)
	}
	if missing := MissingTags(props.DefaultTags); len(missing) > 0 {
		return nil, fmt.Errorf("%s: defaultTags lacks required tag(s) %v; every resource must carry %v", id, missing, RequiredTagKeys)
	}
	cfg := &provider.AwsProviderConfig{
		Region:      jsii.String(props.Region),
		DefaultTags: &[]*provider.AwsProviderDefaultTags{{Tags: StringMap(props.DefaultTags)}},
	}
	if props.Alias != "" {
		cfg.Alias = jsii.String(props.Alias)
	}
	if len(props.AllowedAccountIDs) > 0 {
		cfg.AllowedAccountIds = jsii.Strings(props.AllowedAccountIDs...)
	}
	p := provider.NewAwsProvider(scope, jsii.String(id), cfg)
	// The bindings pin the exact version they were generated from; widen it
	// (idempotent when a stack has several AWS providers).
	cdktf.TerraformStack_Of(scope).AddOverride(jsii.String("terraform.required_providers.aws.version"), AwsProviderConstraint)
	return p, nil
}

// MissingTags returns the required keys that are absent or empty in tags,
// sorted for stable messages.
func MissingTags(tags map[string]string) []string {
	var out []string
	for _, k := range RequiredTagKeys {
		if tags[k] == "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// StringMap converts a Go map into the pointer map jsii expects. The result
// is a copy, so later changes to the input do not leak into the construct.
func StringMap(m map[string]string) *map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = jsii.String(v)
	}
	return &out
}
