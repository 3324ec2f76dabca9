package constructs

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscalleridentity"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmsalias"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmskey"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// KmsKeyProps configures a customer-managed symmetric key.
type KmsKeyProps struct {
	// Alias, e.g. "alias/spatialprops-dev-data". Required.
	Alias string
	// Description shown in the KMS console.
	Description string
	// Protect adds prevent_destroy: a deleted key makes every object
	// encrypted with it unreadable.
	Protect bool
	// AccountID is the key's account; nil looks it up (aws_caller_identity).
	AccountID *string
	// Provider selects a non-default (aliased) AWS provider, e.g. us-east-1
	// for keys that CloudFront-scoped resources use. Nil: the default.
	Provider cdktf.TerraformProvider
	// ExtraStatements are appended to the key policy after the account-root
	// statement (e.g. letting CloudFront or CloudWatch Logs use the key).
	ExtraStatements []Statement
}

// KmsKeyDeletionWindowDays is the longest window KMS allows: a scheduled
// deletion can be cancelled for 30 days.
const KmsKeyDeletionWindowDays = 30

// KmsKey is a customer-managed key with rotation and an alias.
type KmsKey struct {
	KeyArn *string
}

// NewKmsKey creates a rotating key whose policy delegates to IAM in this
// account (the AWS default) plus any ExtraStatements.
func NewKmsKey(scope constructs.Construct, id string, props *KmsKeyProps) (*KmsKey, error) {
	if props == nil || props.Alias == "" {
		return nil, fmt.Errorf("%s: alias is required", id)
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	account := props.AccountID
	if account == nil {
		account = dataawscalleridentity.NewDataAwsCallerIdentity(node, jsii.String("caller"), &dataawscalleridentity.DataAwsCallerIdentityConfig{
			Provider: props.Provider,
		}).AccountId()
	}
	statements := append([]Statement{{
		Sid:        "EnableIamPolicies",
		Actions:    []string{"kms:*"},
		Resources:  []string{"*"},
		Principals: []Principal{{Type: "AWS", Identifiers: []string{fmt.Sprintf("arn:aws:iam::%s:root", *account)}}},
	}}, props.ExtraStatements...)
	policy := NewPolicyDocument(node, "policy", statements...)
	key := kmskey.NewKmsKey(node, jsii.String("key"), &kmskey.KmsKeyConfig{
		Provider:             props.Provider,
		Description:          jsii.String(props.Description),
		EnableKeyRotation:    jsii.Bool(true),
		DeletionWindowInDays: jsii.Number(KmsKeyDeletionWindowDays),
		Policy:               policy.Json(),
		Lifecycle:            Lifecycle(props.Protect),
	})
	kmsalias.NewKmsAlias(node, jsii.String("alias"), &kmsalias.KmsAliasConfig{
		Provider:    props.Provider,
		Name:        jsii.String(props.Alias),
		TargetKeyId: key.KeyId(),
	})
	return &KmsKey{KeyArn: key.Arn()}, nil
}

// Lifecycle returns prevent_destroy when protect is set, so `terraform
// destroy` or a replacing change stops instead of deleting data.
func Lifecycle(protect bool) *cdktf.TerraformResourceLifecycle {
	if !protect {
		return nil
	}
	return &cdktf.TerraformResourceLifecycle{PreventDestroy: jsii.Bool(true)}
}
