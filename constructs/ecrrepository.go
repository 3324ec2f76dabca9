package constructs

import (
	"encoding/json"
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecrlifecyclepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/ecrrepository"
)

// EcrRepositoryProps configures one service's image repository.
type EcrRepositoryProps struct {
	// Name is "<org>/<service>".
	Name string
	// KmsKeyArn encrypts images at rest with a customer-managed key.
	KmsKeyArn *string
	// KeepTaggedImages is how many tagged images survive the lifecycle
	// policy; older ones are expired.
	KeepTaggedImages int
	// UntaggedExpireDays removes dangling layers from failed pushes.
	UntaggedExpireDays int
	// Protect adds prevent_destroy (images are what running pods pull).
	Protect bool
}

// EcrRepository is what deploy roles and workflows need.
type EcrRepository struct {
	Name *string
	Arn  *string
	URL  *string
}

// ecrLifecycleRule mirrors one ECR lifecycle-policy rule.
type ecrLifecycleRule struct {
	RulePriority int            `json:"rulePriority"`
	Description  string         `json:"description"`
	Selection    map[string]any `json:"selection"`
	Action       map[string]any `json:"action"`
}

// EcrLifecyclePolicy returns the lifecycle document: expire untagged images
// after untaggedDays, and keep only the newest keepTagged tagged images.
func EcrLifecyclePolicy(untaggedDays, keepTagged int) (string, error) {
	doc := map[string]any{"rules": []ecrLifecycleRule{
		{
			RulePriority: 1, Description: fmt.Sprintf("Expire untagged images after %d days", untaggedDays),
			Selection: map[string]any{"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": untaggedDays},
			Action:    map[string]any{"type": "expire"},
		},
		{
			RulePriority: 2, Description: fmt.Sprintf("Keep the newest %d tagged images", keepTagged),
			Selection: map[string]any{"tagStatus": "tagged", "tagPatternList": []string{"*"}, "countType": "imageCountMoreThan", "countNumber": keepTagged},
			Action:    map[string]any{"type": "expire"},
		},
	}}
	b, err := json.Marshal(doc)
	return string(b), err
}

// NewEcrRepository creates a private repository with scan on push,
// immutable tags (a tag always means the same image, so rollbacks are
// exact), KMS encryption and a lifecycle policy. It attaches no repository
// policy: access comes only from IAM in this account.
func NewEcrRepository(scope constructs.Construct, id string, props *EcrRepositoryProps) (*EcrRepository, error) {
	switch {
	case props == nil || props.Name == "" || props.KmsKeyArn == nil:
		return nil, fmt.Errorf("%s: name and kmsKeyArn are required", id)
	case props.KeepTaggedImages < 1:
		return nil, fmt.Errorf("%s: keepTaggedImages=%d must be at least 1", id, props.KeepTaggedImages)
	case props.UntaggedExpireDays < 1:
		return nil, fmt.Errorf("%s: untaggedExpireDays=%d must be at least 1", id, props.UntaggedExpireDays)
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	repo := ecrrepository.NewEcrRepository(node, jsii.String("repository"), &ecrrepository.EcrRepositoryConfig{
		Name:                       jsii.String(props.Name),
		ImageTagMutability:         jsii.String("IMMUTABLE"),
		ImageScanningConfiguration: &ecrrepository.EcrRepositoryImageScanningConfiguration{ScanOnPush: jsii.Bool(true)},
		EncryptionConfiguration: &[]*ecrrepository.EcrRepositoryEncryptionConfiguration{{
			EncryptionType: jsii.String("KMS"), KmsKey: props.KmsKeyArn,
		}},
		ForceDelete: jsii.Bool(false),
		Lifecycle:   Lifecycle(props.Protect),
	})
	policy, err := EcrLifecyclePolicy(props.UntaggedExpireDays, props.KeepTaggedImages)
	if err != nil {
		return nil, err
	}
	ecrlifecyclepolicy.NewEcrLifecyclePolicy(node, jsii.String("lifecycle"), &ecrlifecyclepolicy.EcrLifecyclePolicyConfig{
		Repository: repo.Name(), Policy: jsii.String(policy),
	})
	return &EcrRepository{Name: repo.Name(), Arn: repo.Arn(), URL: repo.RepositoryUrl()}, nil
}
