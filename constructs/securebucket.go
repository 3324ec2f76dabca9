package constructs

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucket"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketcorsconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketlifecycleconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketlogging"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketownershipcontrols"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketpublicaccessblock"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketserversideencryptionconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3bucketversioning"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
)

// SecureBucketProps configures a bucket that is private, versioned,
// encrypted and TLS-only by construction; only the optional parts vary.
type SecureBucketProps struct {
	// Name is the exact bucket name (3-63 characters). Required.
	Name string
	// KmsKeyArn selects SSE-KMS with bucket keys. Nil selects SSE-S3, which
	// a bucket receiving S3 server access logs must use.
	KmsKeyArn *string
	// Protect adds prevent_destroy to the bucket.
	Protect bool
	// PolicyStatements are added after the TLS-only deny in the bucket's one
	// policy document.
	PolicyStatements []Statement
	// ExternalPolicy leaves the bucket policy to another stack. A bucket has
	// exactly one policy document, so two owners would overwrite each other;
	// the owner must include DenyInsecureTransport itself.
	ExternalPolicy bool
	// Lifecycle rules; each must carry a filter (empty prefix = whole bucket).
	Lifecycle []LifecycleRule
	// AccessLogs, when set, sends server access logs to another bucket.
	AccessLogs *AccessLogTarget
	// Cors, when set, is the bucket's CORS rule.
	Cors *CorsRule
	// AllowLogDeliveryACLs sets ownership to BucketOwnerPreferred instead of
	// BucketOwnerEnforced. Only a bucket receiving CloudFront standard logs
	// needs it: that delivery writes objects through an ACL grant.
	AllowLogDeliveryACLs bool
}

// LifecycleRule is one typed lifecycle rule.
type LifecycleRule struct {
	ID string
	// Prefix filters the rule; "" applies it to every object. Provider 5.9x
	// warns on rules without a filter block, so one is always written.
	Prefix string
	// NoncurrentTransitions move old versions to cheaper classes.
	NoncurrentTransitions []Transition
	// NoncurrentExpireDays deletes old versions; 0 keeps them.
	NoncurrentExpireDays int
	// ExpireDays deletes current objects; 0 keeps them.
	ExpireDays int
	// AbortMultipartDays removes abandoned multipart uploads; 0 keeps them.
	AbortMultipartDays int
}

// Transition moves objects to StorageClass after Days.
type Transition struct {
	Days         int
	StorageClass string
}

// AccessLogTarget is where server access logs go.
type AccessLogTarget struct {
	Bucket *string
	Prefix string
	// After is the target bucket's policy when it lives in the same stack.
	// S3 refuses PutBucketLogging (InvalidTargetBucketForLogging) until the
	// target's policy lets logging.s3.amazonaws.com write under Prefix, and
	// nothing else orders the two. Across stacks, deploy order does it.
	After cdktf.ITerraformDependable
}

// CorsRule is the browser access rule for asset buckets.
type CorsRule struct {
	AllowedOrigins []string
	AllowedMethods []string
	AllowedHeaders []string
	ExposeHeaders  []string
	MaxAgeSeconds  int
}

// SecureBucket exposes what other stacks need of a bucket.
type SecureBucket struct {
	Name               *string
	Arn                *string
	ID                 *string
	RegionalDomainName *string
	// DomainName is the global bucket endpoint CloudFront standard logging
	// expects (bucket.s3.amazonaws.com).
	DomainName *string
	// Policy is the bucket policy resource, nil with ExternalPolicy. Things
	// the policy authorizes (log delivery into this bucket) depend on it.
	Policy cdktf.ITerraformDependable
	// PublicAccessBlock is the bucket's public access block. An external
	// policy in the same stack depends on it, as the built-in one does.
	PublicAccessBlock cdktf.ITerraformDependable
}

// NewSecureBucket creates the bucket with all four public-access-block
// settings, BucketOwnerEnforced ownership (ACLs off unless
// AllowLogDeliveryACLs), versioning, default
// encryption and, unless ExternalPolicy, a TLS-only bucket policy.
func NewSecureBucket(scope constructs.Construct, id string, props *SecureBucketProps) (*SecureBucket, error) {
	if err := props.validate(id); err != nil {
		return nil, err
	}
	node := constructs.NewConstruct(scope, jsii.String(id))
	bucket := s3bucket.NewS3Bucket(node, jsii.String("bucket"), &s3bucket.S3BucketConfig{
		Bucket:    jsii.String(props.Name),
		Lifecycle: Lifecycle(props.Protect),
	})
	pab := s3bucketpublicaccessblock.NewS3BucketPublicAccessBlock(node, jsii.String("public-access-block"),
		&s3bucketpublicaccessblock.S3BucketPublicAccessBlockConfig{
			Bucket:                bucket.Id(),
			BlockPublicAcls:       jsii.Bool(true),
			BlockPublicPolicy:     jsii.Bool(true),
			IgnorePublicAcls:      jsii.Bool(true),
			RestrictPublicBuckets: jsii.Bool(true),
		})
	ownership := "BucketOwnerEnforced"
	if props.AllowLogDeliveryACLs {
		ownership = "BucketOwnerPreferred"
	}
	s3bucketownershipcontrols.NewS3BucketOwnershipControls(node, jsii.String("ownership"),
		&s3bucketownershipcontrols.S3BucketOwnershipControlsConfig{
			Bucket: bucket.Id(),
			Rule:   &s3bucketownershipcontrols.S3BucketOwnershipControlsRule{ObjectOwnership: jsii.String(ownership)},
		})
	versioning := s3bucketversioning.NewS3BucketVersioningA(node, jsii.String("versioning"),
		&s3bucketversioning.S3BucketVersioningAConfig{
			Bucket:                  bucket.Id(),
			VersioningConfiguration: &s3bucketversioning.S3BucketVersioningVersioningConfiguration{Status: jsii.String("Enabled")},
		})
	sse := &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleA{
		ApplyServerSideEncryptionByDefault: &s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA{
			SseAlgorithm: jsii.String("AES256"),
		},
	}
	if props.KmsKeyArn != nil {
		sse.ApplyServerSideEncryptionByDefault.SseAlgorithm = jsii.String("aws:kms")
		sse.ApplyServerSideEncryptionByDefault.KmsMasterKeyId = props.KmsKeyArn
		sse.BucketKeyEnabled = jsii.Bool(true) // cuts KMS request costs by ~99% for hot objects
	}
	s3bucketserversideencryptionconfiguration.NewS3BucketServerSideEncryptionConfigurationA(node, jsii.String("encryption"),
		&s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationAConfig{
			Bucket: bucket.Id(),
			Rule:   &[]*s3bucketserversideencryptionconfiguration.S3BucketServerSideEncryptionConfigurationRuleA{sse},
		})
	var policy cdktf.ITerraformDependable
	if !props.ExternalPolicy {
		stmts := append([]Statement{DenyInsecureTransport(*bucket.Arn())}, props.PolicyStatements...)
		doc := NewPolicyDocument(node, "policy-document", stmts...)
		policy = s3bucketpolicy.NewS3BucketPolicy(node, jsii.String("policy"), &s3bucketpolicy.S3BucketPolicyConfig{
			Bucket: bucket.Id(),
			Policy: doc.Json(),
			// The public access block must exist first, or a policy that it
			// would reject could briefly apply.
			DependsOn: &[]cdktf.ITerraformDependable{pab},
		})
	}
	if len(props.Lifecycle) > 0 {
		newLifecycle(node, bucket.Id(), versioning, props.Lifecycle)
	}
	if l := props.AccessLogs; l != nil {
		cfg := &s3bucketlogging.S3BucketLoggingAConfig{
			Bucket:       bucket.Id(),
			TargetBucket: l.Bucket,
			TargetPrefix: jsii.String(l.Prefix),
		}
		if l.After != nil {
			cfg.DependsOn = &[]cdktf.ITerraformDependable{l.After}
		}
		s3bucketlogging.NewS3BucketLoggingA(node, jsii.String("access-logs"), cfg)
	}
	if c := props.Cors; c != nil {
		s3bucketcorsconfiguration.NewS3BucketCorsConfiguration(node, jsii.String("cors"),
			&s3bucketcorsconfiguration.S3BucketCorsConfigurationConfig{
				Bucket: bucket.Id(),
				CorsRule: &[]*s3bucketcorsconfiguration.S3BucketCorsConfigurationCorsRule{{
					AllowedOrigins: jsii.Strings(c.AllowedOrigins...),
					AllowedMethods: jsii.Strings(c.AllowedMethods...),
					AllowedHeaders: jsii.Strings(c.AllowedHeaders...),
					ExposeHeaders:  jsii.Strings(c.ExposeHeaders...),
					MaxAgeSeconds:  jsii.Number(float64(c.MaxAgeSeconds)),
				}},
			})
	}
	return &SecureBucket{
		Name:               bucket.Bucket(),
		Arn:                bucket.Arn(),
		ID:                 bucket.Id(),
		RegionalDomainName: bucket.BucketRegionalDomainName(),
		DomainName:         bucket.BucketDomainName(),
		Policy:             policy,
		PublicAccessBlock:  pab,
	}, nil
}

func (p *SecureBucketProps) validate(id string) error {
	if p == nil {
		return fmt.Errorf("%s: props are required", id)
	}
	if l := len(p.Name); l < 3 || l > 63 {
		return fmt.Errorf("%s: name %q is %d characters; S3 allows 3 to 63", id, p.Name, l)
	}
	if p.ExternalPolicy && len(p.PolicyStatements) > 0 {
		return fmt.Errorf("%s: policyStatements are ignored when externalPolicy is set; put them in the owning stack's document", id)
	}
	for i, r := range p.Lifecycle {
		last := 0
		for j, t := range r.NoncurrentTransitions {
			if t.Days <= last {
				return fmt.Errorf("%s: lifecycle[%d].noncurrentTransitions[%d].days=%d must be greater than %d", id, i, j, t.Days, last)
			}
			last = t.Days
		}
		if r.NoncurrentExpireDays != 0 && r.NoncurrentExpireDays <= last {
			return fmt.Errorf("%s: lifecycle[%d].noncurrentExpireDays=%d must be greater than the last transition (%d)", id, i, r.NoncurrentExpireDays, last)
		}
	}
	if p.Cors != nil && (len(p.Cors.AllowedOrigins) == 0 || len(p.Cors.AllowedMethods) == 0) {
		return fmt.Errorf("%s: cors needs allowedOrigins and allowedMethods", id)
	}
	if p.AccessLogs != nil && p.AccessLogs.Bucket == nil {
		return fmt.Errorf("%s: accessLogs.bucket is required", id)
	}
	return nil
}

func newLifecycle(scope constructs.Construct, bucket *string, versioning cdktf.ITerraformDependable, rules []LifecycleRule) {
	out := make([]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRule, 0, len(rules))
	for _, r := range rules {
		rule := &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRule{
			Id:     jsii.String(r.ID),
			Status: jsii.String("Enabled"),
			Filter: &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleFilter{{Prefix: jsii.String(r.Prefix)}},
		}
		if len(r.NoncurrentTransitions) > 0 {
			ts := make([]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleNoncurrentVersionTransition, 0)
			for _, t := range r.NoncurrentTransitions {
				ts = append(ts, &s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleNoncurrentVersionTransition{
					NoncurrentDays: jsii.Number(float64(t.Days)), StorageClass: jsii.String(t.StorageClass),
				})
			}
			rule.NoncurrentVersionTransition = &ts
		}
		if r.NoncurrentExpireDays > 0 {
			rule.NoncurrentVersionExpiration = &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration{
				{NoncurrentDays: jsii.Number(float64(r.NoncurrentExpireDays))},
			}
		}
		if r.ExpireDays > 0 {
			rule.Expiration = &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleExpiration{
				{Days: jsii.Number(float64(r.ExpireDays))},
			}
		}
		if r.AbortMultipartDays > 0 {
			rule.AbortIncompleteMultipartUpload = &[]*s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload{
				{DaysAfterInitiation: jsii.Number(float64(r.AbortMultipartDays))},
			}
		}
		out = append(out, rule)
	}
	s3bucketlifecycleconfiguration.NewS3BucketLifecycleConfiguration(scope, jsii.String("lifecycle"),
		&s3bucketlifecycleconfiguration.S3BucketLifecycleConfigurationConfig{
			Bucket: bucket,
			Rule:   &out,
			// Lifecycle rules on noncurrent versions need versioning enabled first.
			DependsOn: &[]cdktf.ITerraformDependable{versioning},
		})
}
