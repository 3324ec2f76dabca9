package envs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBackupIsOnInProdOnlyWithItsDefaults(t *testing.T) {
	cfgs, err := LoadSelected(Overrides{})
	require.NoError(t, err)
	for _, c := range cfgs {
		assert.Equal(t, c.IsProd(), c.Backup.Enabled, c.Env)
	}
	prod, err := Load("prod", Overrides{})
	require.NoError(t, err)
	assert.Equal(t, "ap-southeast-4", prod.Backup.CopyRegion, "copies stay in Australia")
	assert.Equal(t, DefaultBackupRetentionDays, prod.Backup.RetentionDays)
}

func TestBackupBadValuesAreRefused(t *testing.T) {
	on := func(extra string) string { return validDev + "backup:\n  enabled: true\n" + extra }
	for name, tc := range map[string]struct{ doc, want string }{
		"no copy region":     {on(""), "backup.copyRegion: is required with backup.enabled"},
		"own region":         {on("  copyRegion: ap-southeast-2\n"), `backup.copyRegion: "ap-southeast-2" is the env's own region`},
		"not a region":       {on("  copyRegion: melbourne\n"), `backup.copyRegion: "melbourne" is not an AWS region`},
		"retention too low":  {on("  copyRegion: ap-southeast-4\n  retentionDays: 3\n"), "backup.retentionDays: 3 must be between 7 and 365, the vault lock's bounds"},
		"retention too high": {on("  copyRegion: ap-southeast-4\n  retentionDays: 400\n"), "backup.retentionDays: 400 must be between 7 and 365"},
		"settings while off": {validDev + "backup:\n  copyRegion: ap-southeast-4\n", "backup.enabled: is false, so backup.copyRegion and backup.retentionDays have no effect"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("envs/dev.yaml", []byte(tc.doc), Overrides{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	cfg, err := Parse("envs/dev.yaml", []byte(on("  copyRegion: ap-southeast-4\n  retentionDays: 90\n")), Overrides{})
	require.NoError(t, err)
	assert.Equal(t, 90, cfg.Backup.RetentionDays)
}
