package stacks

import (
	"fmt"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/backupplan"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/backupselection"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/backupvault"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/backupvaultlockconfiguration"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrole"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicy"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/iamrolepolicyattachment"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// BackupSchedule takes the daily recovery point at 15:00 UTC (01:00 in
// Sydney, 02:00 in summer), when packs are rarely published. The RPO of the
// vault copies is therefore one day (docs/recovery.md).
const BackupSchedule = "cron(0 15 * * ? *)"

// Backup windows: a job must start within the hour and finish within six.
const (
	BackupStartWindowMinutes      = 60
	BackupCompletionWindowMinutes = 360
)

// BackupLockChangeableDays is the grace period in which the vault lock can
// still be removed (by someone with backup:DeleteBackupVaultLockConfiguration);
// after it the lock is in compliance mode and cannot be changed by anyone,
// root included, for as long as the vault exists. AWS's minimum is 3.
const BackupLockChangeableDays = 3

// awsBackupPolicies are the AWS managed policies AWS Backup needs to back
// up and restore DynamoDB (advanced features) and S3 with the role.
var awsBackupPolicies = []string{
	"arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
	"arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
	"arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
	"arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore",
}

// BackupTargets are the ARNs of what the plan backs up: the packs bucket
// (the product; publishers' uploads cannot be made again), the beacons
// table, the device-ledger and devices tables (issued device certificates,
// device status and enrollment) and the entitlements table (the licences
// customers bought).
// stac is derived from the packs, the telemetry buckets are for days only,
// and the state bucket has its own history (and must stay out of CI's
// reach, which AWS Backup's restore role would not respect).
func BackupTargets(n naming.Names, account string) []string {
	table := func(name string) string {
		return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", n.Region, account, name)
	}
	return []string{"arn:aws:s3:::" + n.DataBucket("packs"), table(n.BeaconTable()), table(n.DeviceLedgerTable()),
		table(n.DevicesTable()), table(n.EntitlementsTable())}
}

// newBackup creates, in the state stack (deployed by a human, never by
// CI), a vault per region, each with its own key and a compliance-mode
// lock; a daily plan with a copy to the second region; the role AWS Backup
// uses (on the root path, without the workload boundary: CI can neither
// create nor change a role off /workload/); and the selection of BackupTargets.
// The account's AWS Backup settings (S3 opted in, DynamoDB advanced
// features on) are account-wide and set once by hand (docs/recovery.md).
func newBackup(b *base) error {
	bk := b.cfg.Backup
	copyProvider, err := sp.NewAwsProvider(b.stack, "aws-backup-copy", b.providerProps(State, bk.CopyRegion, "backup_copy"))
	if err != nil {
		return err
	}
	vault := func(id string, provider cdktf.TerraformProvider) (backupvault.BackupVault, error) {
		key, err := sp.NewKmsKey(b.stack, id+"-key", &sp.KmsKeyProps{
			Alias: b.names.BackupKeyAlias(), Description: "Encrypts the AWS Backup vault of " + b.names.Prefix(),
			Protect: true, Provider: provider, AccountID: b.accountID(),
		})
		if err != nil {
			return nil, err
		}
		v := backupvault.NewBackupVault(b.stack, jsii.String(id), &backupvault.BackupVaultConfig{
			Provider: provider, Name: jsii.String(b.names.BackupVault()), KmsKeyArn: key.KeyArn,
			Lifecycle: sp.Lifecycle(true),
		})
		backupvaultlockconfiguration.NewBackupVaultLockConfiguration(b.stack, jsii.String(id+"-lock"), &backupvaultlockconfiguration.BackupVaultLockConfigurationConfig{
			Provider: provider, BackupVaultName: v.Name(),
			MinRetentionDays:  jsii.Number(envs.BackupMinRetentionDays),
			MaxRetentionDays:  jsii.Number(envs.BackupMaxRetentionDays),
			ChangeableForDays: jsii.Number(BackupLockChangeableDays),
		})
		return v, nil
	}
	primary, err := vault("backup-vault", nil)
	if err != nil {
		return err
	}
	copyVault, err := vault("backup-copy-vault", copyProvider)
	if err != nil {
		return err
	}
	days := jsii.Number(float64(bk.RetentionDays))
	plan := backupplan.NewBackupPlan(b.stack, jsii.String("backup-plan"), &backupplan.BackupPlanConfig{
		Name: jsii.String(b.names.BackupVault() + "-daily"),
		Rule: &[]*backupplan.BackupPlanRule{{
			RuleName: jsii.String("daily"), TargetVaultName: primary.Name(),
			Schedule:         jsii.String(BackupSchedule),
			StartWindow:      jsii.Number(BackupStartWindowMinutes),
			CompletionWindow: jsii.Number(BackupCompletionWindowMinutes),
			Lifecycle:        &backupplan.BackupPlanRuleLifecycle{DeleteAfter: days},
			CopyAction: &[]*backupplan.BackupPlanRuleCopyAction{{
				DestinationVaultArn: copyVault.Arn(),
				Lifecycle:           &backupplan.BackupPlanRuleCopyActionLifecycle{DeleteAfter: days},
			}},
		}},
	})

	trust := sp.NewPolicyDocument(b.stack, "backup-trust", sp.Statement{
		Sid: "AWSBackupOnly", Actions: []string{"sts:AssumeRole"},
		Principals: []sp.Principal{{Type: "Service", Identifiers: []string{"backup.amazonaws.com"}}},
		Conditions: []sp.Condition{{Test: "StringEquals", Variable: "aws:SourceAccount", Values: []string{*b.accountID()}}},
	})
	role := iamrole.NewIamRole(b.stack, jsii.String("backup-role"), &iamrole.IamRoleConfig{
		Name:             jsii.String(b.names.Role("backup")),
		Description:      jsii.String("AWS Backup: back up and restore the packs bucket and the edge tables"),
		AssumeRolePolicy: trust.Json(),
	})
	for i, arn := range awsBackupPolicies {
		iamrolepolicyattachment.NewIamRolePolicyAttachment(b.stack, jsii.String(fmt.Sprintf("backup-role-managed-%d", i)),
			&iamrolepolicyattachment.IamRolePolicyAttachmentConfig{Role: role.Name(), PolicyArn: jsii.String(arn)})
	}
	// The managed policies cannot name our keys: the bucket's and tables'
	// keys (read to back up, written to restore) and the vault keys.
	keys := sp.NewPolicyDocument(b.stack, "backup-keys", sp.Statement{
		Sid: "UseTheDataAndVaultKeys", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"},
		Resources: []string{"*"},
		Conditions: []sp.Condition{{Test: "ForAnyValue:StringEquals", Variable: "kms:ResourceAliases", Values: []string{
			b.names.DataKeyAlias(), "alias/" + b.names.BeaconTable(), b.names.BackupKeyAlias(),
		}}},
	})
	iamrolepolicy.NewIamRolePolicy(b.stack, jsii.String("backup-role-keys"), &iamrolepolicy.IamRolePolicyConfig{Role: role.Id(), Policy: keys.Json()})

	backupselection.NewBackupSelection(b.stack, jsii.String("backup-selection"), &backupselection.BackupSelectionConfig{
		Name: jsii.String(b.names.BackupVault() + "-data"), PlanId: plan.Id(), IamRoleArn: role.Arn(),
		Resources: jsii.Strings(BackupTargets(b.names, *b.accountID())...),
	})
	b.output("backup_vault", "AWS Backup vault (locked) of this env, in its region and in "+bk.CopyRegion, primary.Name(), false)
	return nil
}

// PITRDays is how far back point-in-time recovery reaches on every table:
// 35 days, DynamoDB's maximum, written out so docs/recovery.md's window is
// a setting in the synthesized stack rather than an AWS default.
const PITRDays = 35

func pointInTimeRecovery() *dynamodbtable.DynamodbTablePointInTimeRecovery {
	return &dynamodbtable.DynamodbTablePointInTimeRecovery{Enabled: jsii.Bool(true), RecoveryPeriodInDays: jsii.Number(PITRDays)}
}
