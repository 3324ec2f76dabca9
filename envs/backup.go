package envs

import (
	"github.com/spatialprops/spatialprops-infra/internal/awscatalog"
	"github.com/spatialprops/spatialprops-infra/internal/suggest"
)

// Backup switches AWS Backup: a vault locked in compliance mode, holding a
// daily recovery point of the packs bucket and of the beacons and
// device-ledger tables, each copied to a vault in CopyRegion. Versioning
// and PITR live in the same account, region and keys as the data; this
// copy does not (docs/recovery.md says why prod has it).
type Backup struct {
	// Enabled creates the vaults, the plan and its role in the state stack.
	// Default: false.
	Enabled bool `yaml:"enabled"`
	// CopyRegion is where every recovery point is copied, e.g.
	// ap-southeast-4 (Melbourne) for ap-southeast-2, so the copy stays in
	// Australia. Required when enabled; must differ from region.
	CopyRegion string `yaml:"copyRegion"`
	// RetentionDays keeps each recovery point, in both regions. Default: 35
	// (PITR's window). Between BackupMinRetentionDays and
	// BackupMaxRetentionDays, the bounds the vault lock enforces.
	RetentionDays int `yaml:"retentionDays"`
}

// The vault lock's bounds: nobody, root included, can delete a recovery
// point younger than the minimum or keep one longer than the maximum.
const (
	BackupMinRetentionDays     = 7
	BackupMaxRetentionDays     = 365
	DefaultBackupRetentionDays = 35
)

func applyBackupDefaults(c *Config) {
	if c.Backup.Enabled {
		setInt(&c.Backup.RetentionDays, DefaultBackupRetentionDays)
	}
}

func validateBackup(p *problems, c *Config) {
	b := c.Backup
	if !b.Enabled {
		if b.CopyRegion != "" || b.RetentionDays != 0 {
			p.add("backup.enabled", "is false, so backup.copyRegion and backup.retentionDays have no effect; set enabled: true or remove them")
		}
		return
	}
	switch {
	case b.CopyRegion == "":
		p.add("backup.copyRegion", "is required with backup.enabled: the region that holds the copies, e.g. ap-southeast-4")
	case !isRegion(b.CopyRegion):
		p.add("backup.copyRegion", "%q is not an AWS region%s", b.CopyRegion,
			or(suggest.DidYouMean(b.CopyRegion, awscatalog.Default().Regions()), "; use e.g. ap-southeast-4"))
	case b.CopyRegion == c.Region:
		p.add("backup.copyRegion", "%q is the env's own region: a copy there survives nothing the original does not", b.CopyRegion)
	}
	if b.RetentionDays < BackupMinRetentionDays || b.RetentionDays > BackupMaxRetentionDays {
		p.add("backup.retentionDays", "%d must be between %d and %d, the vault lock's bounds", b.RetentionDays, BackupMinRetentionDays, BackupMaxRetentionDays)
	}
}
