package stacks

import (
	"fmt"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudtrail"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configconfigurationrecorder"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configconfigurationrecorderstatus"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/configdeliverychannel"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/guarddutydetector"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/guarddutydetectorfeature"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamservicelinkedrole"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
)

// GuardDutyFeatures are the detector features turned on beyond the
// foundational sources (CloudTrail, VPC flow, DNS): S3 data events for the
// pack buckets and the EKS audit log for the cluster.
var GuardDutyFeatures = []string{"S3_DATA_EVENTS", "EKS_AUDIT_LOGS"}

// newAccountBaseline creates the account-level detection services for an
// account without an organization landing zone (accountBaseline.create):
//
//   - CloudTrail: one multi-region trail with global service events and
//     log file validation (signed digests prove no file was altered), into
//     an SSE-KMS bucket under its own CMK, versioned and protected.
//   - GuardDuty: a detector with S3 and EKS audit-log protection.
//   - AWS Config: a recorder of every supported resource type, including
//     global (IAM) ones, through its service-linked role, delivering to
//     the same bucket under config/.
func newAccountBaseline(b *base, accessLogs *sp.SecureBucket) error {
	account := *b.accountID()
	region := b.cfg.Region
	trailName := b.names.Prefix() + "-trail"
	trailArn := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", region, account, trailName)
	bucketName := b.names.TrailBucket()
	bucketArn := "arn:aws:s3:::" + bucketName
	days := b.cfg.AccountBaseline.RetentionDays

	key, err := sp.NewKmsKey(b.stack, "audit-key", &sp.KmsKeyProps{
		Alias: "alias/" + b.names.Prefix() + "-audit", Description: "Encrypts CloudTrail and AWS Config deliveries of " + b.names.Prefix(),
		Protect: true, AccountID: b.accountID(),
		ExtraStatements: []sp.Statement{
			{
				Sid: "AllowCloudTrailToEncryptThisTrail", Actions: []string{"kms:GenerateDataKey*"}, Resources: []string{"*"},
				Principals: []sp.Principal{{Type: "Service", Identifiers: []string{"cloudtrail.amazonaws.com"}}},
				Conditions: []sp.Condition{
					{Test: "StringLike", Variable: "kms:EncryptionContext:aws:cloudtrail:arn", Values: []string{"arn:aws:cloudtrail:*:" + account + ":trail/*"}},
					{Test: "StringEquals", Variable: "aws:SourceArn", Values: []string{trailArn}},
				},
			},
			{
				Sid: "AllowConfigToEncryptDeliveries", Actions: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resources: []string{"*"},
				Principals: []sp.Principal{{Type: "Service", Identifiers: []string{"config.amazonaws.com"}}},
				Conditions: []sp.Condition{{Test: "StringEquals", Variable: "aws:SourceAccount", Values: []string{account}}},
			},
			{
				Sid: "AllowCloudTrailToDescribeKey", Actions: []string{"kms:DescribeKey"}, Resources: []string{"*"},
				Principals: []sp.Principal{{Type: "Service", Identifiers: []string{"cloudtrail.amazonaws.com"}}},
				Conditions: []sp.Condition{{Test: "StringEquals", Variable: "aws:SourceArn", Values: []string{trailArn}}},
			},
		},
	})
	if err != nil {
		return err
	}
	trailCondition := sp.Condition{Test: "StringEquals", Variable: "aws:SourceArn", Values: []string{trailArn}}
	bucket, err := sp.NewSecureBucket(b.stack, "audit-bucket", &sp.SecureBucketProps{
		Name: bucketName, KmsKeyArn: key.KeyArn, Protect: true,
		AccessLogs: &sp.AccessLogTarget{Bucket: accessLogs.Name, Prefix: "audit/", After: accessLogs.Policy},
		PolicyStatements: append([]sp.Statement{
			{
				Sid: "CloudTrailAclCheck", Actions: []string{"s3:GetBucketAcl"}, Resources: []string{bucketArn},
				Principals: []sp.Principal{{Type: "Service", Identifiers: []string{"cloudtrail.amazonaws.com"}}},
				Conditions: []sp.Condition{trailCondition},
			},
			{
				Sid: "CloudTrailWrite", Actions: []string{"s3:PutObject"}, Resources: []string{bucketArn + "/AWSLogs/" + account + "/*"},
				Principals: []sp.Principal{{Type: "Service", Identifiers: []string{"cloudtrail.amazonaws.com"}}},
				Conditions: []sp.Condition{trailCondition, {Test: "StringEquals", Variable: "s3:x-amz-acl", Values: []string{"bucket-owner-full-control"}}},
			},
		}, configBucketStatements(bucketArn, account)...),
		Lifecycle: []sp.LifecycleRule{{ID: "expire-audit-logs", ExpireDays: days, NoncurrentExpireDays: 30, AbortMultipartDays: 1}},
	})
	if err != nil {
		return err
	}
	cloudtrail.NewCloudtrail(b.stack, jsii.String("trail"), &cloudtrail.CloudtrailConfig{
		Name:                       jsii.String(trailName),
		S3BucketName:               bucket.Name,
		IsMultiRegionTrail:         jsii.Bool(true),
		IncludeGlobalServiceEvents: jsii.Bool(true),
		EnableLogFileValidation:    jsii.Bool(true),
		KmsKeyId:                   key.KeyArn,
		Lifecycle:                  sp.Lifecycle(true),
	})

	detector := guarddutydetector.NewGuarddutyDetector(b.stack, jsii.String("guardduty"), &guarddutydetector.GuarddutyDetectorConfig{
		Enable: jsii.Bool(true), FindingPublishingFrequency: jsii.String("FIFTEEN_MINUTES"),
	})
	for _, f := range GuardDutyFeatures {
		guarddutydetectorfeature.NewGuarddutyDetectorFeature(b.stack, jsii.String("guardduty-"+f), &guarddutydetectorfeature.GuarddutyDetectorFeatureConfig{
			DetectorId: detector.Id(), Name: jsii.String(f), Status: jsii.String("ENABLED"),
		})
	}
	return newConfigRecorder(b, bucket, key.KeyArn)
}

// newConfigRecorder records every resource through AWS Config's
// service-linked role (AWSServiceRoleForConfig). A role of our own would
// have to carry the workload boundary, which rightly refuses the
// account-wide reads a recorder needs; the service-linked role's policy is
// AWS's, and delivery into the bucket is granted by the bucket policy.
func newConfigRecorder(b *base, bucket *sp.SecureBucket, keyArn *string) error {
	role := iamservicelinkedrole.NewIamServiceLinkedRole(b.stack, jsii.String("config-service-linked-role"), &iamservicelinkedrole.IamServiceLinkedRoleConfig{
		AwsServiceName: jsii.String("config.amazonaws.com"),
	})
	recorder := configconfigurationrecorder.NewConfigConfigurationRecorder(b.stack, jsii.String("config-recorder"), &configconfigurationrecorder.ConfigConfigurationRecorderConfig{
		Name: jsii.String("default"), RoleArn: role.Arn(),
		RecordingGroup: &configconfigurationrecorder.ConfigConfigurationRecorderRecordingGroup{
			AllSupported: jsii.Bool(true), IncludeGlobalResourceTypes: jsii.Bool(true),
		},
	})
	channel := configdeliverychannel.NewConfigDeliveryChannel(b.stack, jsii.String("config-delivery-channel"), &configdeliverychannel.ConfigDeliveryChannelConfig{
		Name: jsii.String("default"), S3BucketName: bucket.Name, S3KeyPrefix: jsii.String(ConfigKeyPrefix), S3KmsKeyArn: keyArn,
		DependsOn: &[]cdktf.ITerraformDependable{recorder, bucket.Policy},
	})
	configconfigurationrecorderstatus.NewConfigConfigurationRecorderStatus(b.stack, jsii.String("config-recorder-status"), &configconfigurationrecorderstatus.ConfigConfigurationRecorderStatusConfig{
		Name: recorder.Name(), IsEnabled: jsii.Bool(true),
		DependsOn: &[]cdktf.ITerraformDependable{channel},
	})
	return nil
}

// ConfigKeyPrefix is where AWS Config delivers in the audit bucket.
const ConfigKeyPrefix = "config"

// configBucketStatements let AWS Config (through its service-linked role)
// check the bucket and deliver under config/, for this account only.
func configBucketStatements(bucketArn, account string) []sp.Statement {
	source := sp.Condition{Test: "StringEquals", Variable: "aws:SourceAccount", Values: []string{account}}
	config := []sp.Principal{{Type: "Service", Identifiers: []string{"config.amazonaws.com"}}}
	return []sp.Statement{
		{Sid: "ConfigAclCheck", Actions: []string{"s3:GetBucketAcl", "s3:ListBucket"}, Resources: []string{bucketArn}, Principals: config, Conditions: []sp.Condition{source}},
		{
			Sid: "ConfigWrite", Actions: []string{"s3:PutObject"}, Resources: []string{bucketArn + "/" + ConfigKeyPrefix + "/AWSLogs/" + account + "/Config/*"},
			Principals: config,
			Conditions: []sp.Condition{source, {Test: "StringEquals", Variable: "s3:x-amz-acl", Values: []string{"bucket-owner-full-control"}}},
		},
	}
}
