package constructs

import (
	"fmt"
	"regexp"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchloggroup"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscalleridentity"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// LogsKeyActions are what CloudWatch Logs needs on a customer-managed key
// to encrypt and read a log group's events.
var LogsKeyActions = []string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"}

// LogsKeyProps configures the key of a stack's log groups.
type LogsKeyProps struct {
	// Alias, e.g. alias/spatialprops-dev-network-logs.
	Alias string
	// Region is where the log groups live; the key policy names the
	// regional CloudWatch Logs principal logs.<region>.amazonaws.com.
	Region string
	// AccountID is the log groups' account; nil looks it up.
	AccountID *string
	// LogGroupNames are the only log groups the service may use the key
	// for: the policy pins kms:EncryptionContext:aws:logs:arn to them.
	LogGroupNames []string
	// Protect adds prevent_destroy: without the key, the logs are lost.
	Protect  bool
	Provider cdktf.TerraformProvider
}

// NewLogsKey creates a rotating CMK that CloudWatch Logs may use for the
// named log groups only, and returns its ARN.
func NewLogsKey(scope constructs.Construct, id string, props *LogsKeyProps) (*string, error) {
	if props == nil || props.Alias == "" || props.Region == "" || len(props.LogGroupNames) == 0 {
		return nil, fmt.Errorf("%s: alias, region and logGroupNames are required", id)
	}
	account := props.AccountID
	if account == nil {
		account = dataawscalleridentity.NewDataAwsCallerIdentity(scope, jsii.String(id+"-caller"), &dataawscalleridentity.DataAwsCallerIdentityConfig{
			Provider: props.Provider,
		}).AccountId()
	}
	var arns []string
	for _, name := range props.LogGroupNames {
		if !logGroupName.MatchString(name) {
			return nil, fmt.Errorf("%s: logGroupNames: %q is not a CloudWatch log group name", id, name)
		}
		arns = append(arns, fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", props.Region, *account, name))
	}
	key, err := NewKmsKey(scope, id, &KmsKeyProps{
		Alias:       props.Alias,
		Description: "Encrypts CloudWatch log groups " + fmt.Sprint(props.LogGroupNames),
		Protect:     props.Protect,
		AccountID:   account,
		Provider:    props.Provider,
		ExtraStatements: []Statement{{
			Sid:        "AllowCloudWatchLogsForTheseLogGroups",
			Actions:    LogsKeyActions,
			Resources:  []string{"*"},
			Principals: []Principal{{Type: "Service", Identifiers: []string{"logs." + props.Region + ".amazonaws.com"}}},
			Conditions: []Condition{{Test: "ArnEquals", Variable: "kms:EncryptionContext:aws:logs:arn", Values: arns}},
		}},
	})
	if err != nil {
		return nil, err
	}
	return key.KeyArn, nil
}

var logGroupName = regexp.MustCompile(`^[\w#/.-]{1,512}$`)

// LogGroupProps configures an encrypted, retained log group.
type LogGroupProps struct {
	Name          string
	RetentionDays int
	// KmsKeyArn is the CMK from NewLogsKey. Required: no log group is
	// left on the service-owned key.
	KmsKeyArn *string
	// Protect adds prevent_destroy, so a destroy or a replacing change
	// stops before the audit trail is gone.
	Protect  bool
	Provider cdktf.TerraformProvider
}

// NewLogGroup creates a CloudWatch log group under a CMK with a finite
// retention.
func NewLogGroup(scope constructs.Construct, id string, props *LogGroupProps) (cloudwatchloggroup.CloudwatchLogGroup, error) {
	switch {
	case props == nil || !logGroupName.MatchString(props.Name):
		return nil, fmt.Errorf("%s: name must be a CloudWatch log group name", id)
	case props.KmsKeyArn == nil:
		return nil, fmt.Errorf("%s: kmsKeyArn is required; log groups are encrypted with a logs CMK (NewLogsKey)", id)
	case props.RetentionDays < 1:
		return nil, fmt.Errorf("%s: retentionDays must be positive", id)
	}
	return cloudwatchloggroup.NewCloudwatchLogGroup(scope, jsii.String(id), &cloudwatchloggroup.CloudwatchLogGroupConfig{
		Provider:        props.Provider,
		Name:            jsii.String(props.Name),
		RetentionInDays: jsii.Number(float64(props.RetentionDays)),
		KmsKeyId:        props.KmsKeyArn,
		Lifecycle:       Lifecycle(props.Protect),
	}), nil
}
