package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

// GIVEN prod's state stack THEN AWS Backup keeps a daily recovery point of
// the packs bucket and both edge tables in a vault locked in compliance
// mode, encrypted with its own key, and copies each one to a vault in the
// copy region with the same lock; the plan's targets are the very names
// the storage and edge stacks create.
func TestProdBacksUpPacksAndTablesToALockedVaultInTwoRegions(t *testing.T) {
	cfg, err := envs.Load("prod", envs.Overrides{})
	require.NoError(t, err)
	doc := stack(t, "prod-state").Doc

	regions := map[string]string{"": cfg.Region}
	for _, p := range doc.Get("provider.aws").Array() {
		regions[p.Get("alias").String()] = p.Get("region").String()
	}
	vaults := map[string]gjson.Result{}
	doc.Get("resource.aws_backup_vault").ForEach(func(k, v gjson.Result) bool {
		vaults[k.String()] = v
		return true
	})
	require.Len(t, vaults, 2)
	seen := map[string]bool{}
	for id, v := range vaults {
		region := regions[strings.TrimPrefix(v.Get("provider").String(), "aws.")]
		seen[region] = true
		assert.Equal(t, naming.New(cfg.Org, cfg.Env, cfg.Region).BackupVault(), v.Get("name").String())
		assert.True(t, v.Get("lifecycle.prevent_destroy").Bool(), id)
		assert.Regexp(t, `^\$\{aws_kms_key\.`, v.Get("kms_key_arn").String(), "%s: encrypted with a key of ours", id)
		var lock gjson.Result
		for _, l := range resources(doc, "aws_backup_vault_lock_configuration") {
			if l.Get("backup_vault_name").String() == "${aws_backup_vault."+id+".name}" {
				lock = l
			}
		}
		require.True(t, lock.Exists(), "%s has a lock", id)
		assert.Equal(t, v.Get("provider").String(), lock.Get("provider").String(), "the lock is in the vault's region")
		assert.Equal(t, int64(envs.BackupMinRetentionDays), lock.Get("min_retention_days").Int())
		assert.Equal(t, int64(envs.BackupMaxRetentionDays), lock.Get("max_retention_days").Int())
		assert.Equal(t, int64(stacks.BackupLockChangeableDays), lock.Get("changeable_for_days").Int(), "compliance mode after the grace days")
	}
	assert.Equal(t, map[string]bool{cfg.Region: true, cfg.Backup.CopyRegion: true}, seen, "one vault per region")

	plans := resources(doc, "aws_backup_plan")
	require.Len(t, plans, 1)
	rule := plans[0].Get("rule.0")
	assert.Equal(t, stacks.BackupSchedule, rule.Get("schedule").String())
	assert.Equal(t, "${aws_backup_vault.backup-vault.name}", rule.Get("target_vault_name").String())
	assert.Equal(t, int64(cfg.Backup.RetentionDays), rule.Get("lifecycle.delete_after").Int())
	assert.Equal(t, "${aws_backup_vault.backup-copy-vault.arn}", rule.Get("copy_action.0.destination_vault_arn").String())
	assert.Equal(t, int64(cfg.Backup.RetentionDays), rule.Get("copy_action.0.lifecycle.delete_after").Int())

	sel := resources(doc, "aws_backup_selection")
	require.Len(t, sel, 1)
	var targets []string
	for _, r := range sel[0].Get("resources").Array() {
		targets = append(targets, r.String())
	}
	var packs string
	for _, b := range resources(stack(t, "prod-storage").Doc, "aws_s3_bucket") {
		if strings.HasPrefix(b.Get("bucket").String(), "spatial-packs-") {
			packs = b.Get("bucket").String()
		}
	}
	want := []string{"arn:aws:s3:::" + packs}
	for _, id := range []string{"prod-edge", "prod-marketplace"} {
		for _, tbl := range resources(stack(t, id).Doc, "aws_dynamodb_table") {
			want = append(want, "arn:aws:dynamodb:"+cfg.Region+":${data.aws_caller_identity.caller.account_id}:table/"+tbl.Get("name").String())
		}
	}
	assert.ElementsMatch(t, want, targets, "the selection names every table the edge and marketplace stacks create, and the packs bucket")

	roles := resources(doc, "aws_iam_role")
	require.Len(t, roles, 1)
	assert.Equal(t, "spatialprops-prod-backup", roles[0].Get("name").String())
	// A human-deployed service role off the workload path: the CI deploy
	// role can neither create nor change a role outside /workload/
	// (TestIAMDeployRoleCannotTouchRolesItDidNotCreate), so it needs no
	// boundary, and the boundary grants no AWS Backup to any role CI makes.
	assert.False(t, roles[0].Get("permissions_boundary").Exists(), "AWS Backup's role is not a workload role")
	assert.NotEqual(t, "/workload/", roles[0].Get("path").String(), "off the path CI may write")
	trust := doc.Get("data.aws_iam_policy_document.backup-trust.statement.0")
	assert.Equal(t, "backup.amazonaws.com", trust.Get("principals.0.identifiers.0").String())
	assert.Equal(t, "aws:SourceAccount", trust.Get("condition.0.variable").String(), "no confused deputy from another account")
}

// boundaryActions are the actions the env's workload boundary admits.
func boundaryActions(t *testing.T, env string) []string {
	var out []string
	stack(t, env+"-state").Doc.Get("data.aws_iam_policy_document").ForEach(func(k, d gjson.Result) bool {
		if strings.HasPrefix(k.String(), "workload-boundary") {
			d.Get("statement").ForEach(func(_, st gjson.Result) bool {
				for _, a := range st.Get("actions").Array() {
					out = append(out, a.String())
				}
				return true
			})
		}
		return true
	})
	require.NotEmpty(t, out, env)
	return out
}

func TestOnlyProdHasBackups(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		for _, a := range boundaryActions(t, env) {
			assert.False(t, strings.HasPrefix(a, "backup:") || strings.HasPrefix(a, "events:"),
				"%s: no role CI creates may use AWS Backup or EventBridge (%s)", env, a)
		}
	}
	for _, env := range []string{"dev", "staging"} {
		doc := stack(t, env+"-state").Doc
		assert.False(t, doc.Get("resource.aws_backup_vault").Exists(), env)
		assert.Len(t, doc.Get("provider.aws").Array(), 1, "%s: no second region", env)
	}
}
