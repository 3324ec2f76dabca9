// Package restore brings data back from what the stores already keep:
// object versions (the packs, stac, loki and tempo buckets), point-in-time
// recovery (the beacons and device-ledger tables) and the state bucket's
// versions (Terraform state). Nothing here deletes history: a restored
// object is a new current version, a restored table is copied back into
// the live one, a restored state file is a new version written under the
// stack's lock. docs/recovery.md is the runbook.
package restore

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// Options are the operator's safety choices, the same for every restore.
type Options struct {
	// Confirm must equal the env name (typed back) unless DryRun.
	Confirm string
	// BreakGlass is required, on top of Confirm, to change prod: a restore
	// writes live data outside CI's review, so it must be deliberate.
	BreakGlass bool
	// DryRun plans and changes nothing.
	DryRun bool
}

// ErrRefused is a restore the safety rules forbid (exit code 2).
var ErrRefused = errors.New("refused")

// Check applies the safety rules before anything is read or written.
func Check(cfg *envs.Config, o Options) error {
	if o.DryRun {
		return nil
	}
	if o.Confirm != cfg.Env {
		return fmt.Errorf("%w: type the env name back to confirm: --confirm %s (or look first with --dry-run)", ErrRefused, cfg.Env)
	}
	if cfg.IsProd() && !o.BreakGlass {
		return fmt.Errorf("%w: prod needs --break-glass as well: a restore changes live data outside CI's review; run it with the break-glass role and record why (docs/recovery.md)", ErrRefused)
	}
	return nil
}

// BucketKinds are the buckets `restore objects` works on. Not the pki
// bucket (an old CRL would un-revoke certificates: ACM PCA rewrites it),
// not dtn (restoring forwarded envelopes would send them twice), not logs
// (access logs are evidence; nothing should rewrite them).
var BucketKinds = []string{"packs", "stac", "loki", "tempo"}

// Bucket returns the name of one of BucketKinds in cfg's env.
func Bucket(cfg *envs.Config, kind string) (string, error) {
	if !slices.Contains(BucketKinds, kind) {
		return "", fmt.Errorf("--bucket %q: restore works on %s", kind, strings.Join(BucketKinds, ", "))
	}
	return names(cfg).DataBucket(kind), nil
}

// Tables are the tables `restore table` works on, by the name the
// operator types; the value derives the table name.
var Tables = map[string]func(naming.Names) string{
	"beacons":       naming.Names.BeaconTable,
	"device-ledger": naming.Names.DeviceLedgerTable,
	"devices":       naming.Names.DevicesTable,
	"entitlements":  naming.Names.EntitlementsTable,
}

// Table returns the DynamoDB table name of one of Tables in cfg's env.
func Table(cfg *envs.Config, which string) (string, error) {
	f, ok := Tables[which]
	if !ok {
		known := make([]string, 0, len(Tables))
		for k := range Tables {
			known = append(known, k)
		}
		sort.Strings(known)
		return "", fmt.Errorf("--table %q: restore works on %s", which, strings.Join(known, ", "))
	}
	return f(names(cfg)), nil
}

func names(cfg *envs.Config) naming.Names { return naming.New(cfg.Org, cfg.Env, cfg.Region) }
