package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/ops/awsenv"
	"github.com/spatialprops/spatialprops-infra/internal/ops/restore"
	"github.com/spatialprops/spatialprops-infra/internal/ops/wait"
)

// restoreFlags are the safety flags every restore shares.
type restoreFlags struct {
	env, confirm, to           string
	dryRun, breakGlass, asJSON bool
}

func (f *restoreFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.env, "env", "", "environment: dev, staging or prod (prod also needs --break-glass)")
	c.Flags().StringVar(&f.confirm, "confirm", "", "the env name typed back, e.g. --confirm dev")
	c.Flags().BoolVar(&f.breakGlass, "break-glass", false, "required in prod: you are changing live data outside CI (docs/recovery.md)")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "say what would be restored and change nothing")
	c.Flags().BoolVar(&f.asJSON, "json", false, "print the plan and result as JSON on stdout (progress lines go to stderr)")
}

// output is where a restore's progress lines go: stdout, or stderr when
// stdout carries the JSON result.
func (f *restoreFlags) output(cmd *cobra.Command) io.Writer {
	if f.asJSON {
		return cmd.ErrOrStderr()
	}
	return cmd.OutOrStdout()
}

// result prints v as JSON on stdout when --json is set.
func (f *restoreFlags) result(cmd *cobra.Command, v any) error {
	if !f.asJSON {
		return nil
	}
	return writeJSON(cmd.OutOrStdout(), v)
}

// load checks the env and the safety rules, and parses --to (required
// unless optional).
func (f *restoreFlags) load(optionalTo bool) (*envs.Config, time.Time, error) {
	cfg, err := loadEnv(f.env)
	if err != nil {
		return nil, time.Time{}, err
	}
	var at time.Time
	switch {
	case f.to != "":
		if at, err = time.Parse(time.RFC3339, f.to); err != nil {
			return nil, at, usagef("--to %q: give a time as RFC 3339, e.g. 2026-12-07T09:30:00Z", f.to)
		}
		if at.After(time.Now()) {
			return nil, at, usagef("--to %s is in the future", f.to)
		}
	case !optionalTo:
		return nil, at, usagef("--to is required: the time to restore to, e.g. --to 2026-12-07T09:30:00Z (just before the accident)")
	}
	if err := restore.Check(cfg, restore.Options{Confirm: f.confirm, BreakGlass: f.breakGlass, DryRun: f.dryRun}); err != nil {
		if errors.Is(err, restore.ErrRefused) {
			return nil, at, usageError{err}
		}
		return nil, at, err
	}
	return cfg, at, nil
}

func newRestoreCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "restore",
		Short: "Bring data back: S3 objects from their versions, a table from PITR, a stack's Terraform state",
		Long: "Each restore writes new current data and deletes no history; each needs the env name typed back\n" +
			"with --confirm (or --dry-run to look first), and prod also needs --break-glass. Runbook, RPO and RTO\n" +
			"per store: docs/recovery.md.",
	}
	c.AddCommand(newRestoreObjectsCmd(), newRestoreTableCmd(), newRestoreStateCmd())
	return c
}

func newRestoreObjectsCmd() *cobra.Command {
	var f restoreFlags
	var bucket, prefix, key string
	c := &cobra.Command{
		Use:   "objects --env <env> --bucket <kind> (--prefix P | --key K) --to <time> --confirm <env>",
		Short: "Put deleted or overwritten objects back as they were at a time (S3 versions)",
		Long: "For every key under --prefix (or exactly --key), the version current at --to is copied back as the\n" +
			"new current version when the key has been deleted or overwritten since. Keys created since are kept\n" +
			"and listed. Buckets: " + strings.Join(restore.BucketKinds, ", ") + ". Running it again changes nothing.",
		Example: "  spctl restore objects --env prod --bucket packs --prefix published/open/parcels/3/ \\\n" +
			"    --to 2026-12-07T09:30:00Z --dry-run\n" +
			"  spctl restore objects --env dev --bucket packs --key published/open/parcels/3/parcels.pmtiles \\\n" +
			"    --to 2026-12-07T09:30:00Z --confirm dev",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("prefix") == (key != "") {
				return usagef("give --prefix (every key under it; --prefix \"\" for the whole bucket) or --key (one key), not both")
			}
			cfg, at, err := f.load(false)
			if err != nil {
				return err
			}
			name, err := restore.Bucket(cfg, bucket)
			if err != nil {
				return usagef("%v", err)
			}
			ctx, out := cmd.Context(), f.output(cmd)
			s3c, err := s3Client(cmd, cfg)
			if err != nil {
				return err
			}
			plan, err := restore.PlanObjects(ctx, s3c, name, restore.Selector{Prefix: prefix, Key: key}, at)
			if err != nil {
				return err
			}
			plan.Print(out)
			type result struct {
				Plan     *restore.ObjectsPlan
				DryRun   bool
				Restored int
			}
			if f.dryRun || len(plan.Restore) == 0 {
				return f.result(cmd, result{Plan: plan, DryRun: f.dryRun})
			}
			n, err := plan.Apply(ctx, out, s3c)
			if err != nil {
				return fmt.Errorf("%w (%d of %d restored before it; run the same command again to finish)", err, n, len(plan.Restore))
			}
			fmt.Fprintf(out, "restored %d object(s) in s3://%s as of %s\n", n, name, at.UTC().Format(time.RFC3339))
			return f.result(cmd, result{Plan: plan, Restored: n})
		},
	}
	f.add(c)
	c.Flags().StringVar(&f.to, "to", "", "restore to how the objects were at this time (RFC 3339)")
	c.Flags().StringVar(&bucket, "bucket", "", "bucket kind: "+strings.Join(restore.BucketKinds, ", "))
	c.Flags().StringVar(&prefix, "prefix", "", "every key under this prefix, e.g. published/open/parcels/3/ (\"\" for the whole bucket)")
	c.Flags().StringVar(&key, "key", "", "exactly this key")
	return c
}

func newRestoreTableCmd() *cobra.Command {
	var f restoreFlags
	var table, fromTable string
	var overwrite, keep bool
	var timeout time.Duration
	known := make([]string, 0, len(restore.Tables))
	for k := range restore.Tables {
		known = append(known, k)
	}
	slices.Sort(known)
	c := &cobra.Command{
		Use:   "table --env <env> --table <name> --to <time> --confirm <env>",
		Short: "Restore a table from point-in-time recovery into a new table and copy it back",
		Long: "PITR restores the table as it was at --to into <table>-restore-<time>; its items are then written\n" +
			"back into the live table: missing items always, items that differ only with --overwrite (never one\n" +
			"that would un-revoke a certificate), items past their TTL never. Items written since --to are kept.\n" +
			"The restored table is deleted afterwards unless --keep-restored. Tables: " + strings.Join(known, ", ") + ".\n" +
			"Interrupted, the same command resumes from the restored table. --from-table copies back from a\n" +
			"table restored by other means (an AWS Backup recovery point) instead, and needs no --to.",
		Example: "  spctl restore table --env prod --table device-ledger --to 2026-12-07T09:30:00Z --dry-run\n" +
			"  spctl restore table --env dev --table beacons --to 2026-12-07T09:30:00Z --overwrite --confirm dev",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fromTable != "" && f.to != "" {
				return usagef("give --to (restore from PITR) or --from-table (copy back an already restored table), not both")
			}
			cfg, at, err := f.load(fromTable != "")
			if err != nil {
				return err
			}
			name, err := restore.Table(cfg, table)
			if err != nil {
				return usagef("%v", err)
			}
			ac, err := awsenv.Load(cmd.Context(), cfg.Region)
			if err != nil {
				return err
			}
			rep, err := restore.RestoreTable(cmd.Context(), f.output(cmd), dynamodb.NewFromConfig(ac), name, at, restore.TableOptions{
				Overwrite: overwrite, KeepRestored: keep, DryRun: f.dryRun, FromTable: fromTable, Timeout: timeout, Wait: wait.Options{Interval: 15 * time.Second},
			})
			if err != nil {
				return err
			}
			return f.result(cmd, rep)
		},
	}
	f.add(c)
	c.Flags().StringVar(&f.to, "to", "", "restore to how the table was at this time (RFC 3339, inside the PITR window)")
	c.Flags().StringVar(&table, "table", "", "table: "+strings.Join(known, ", "))
	c.Flags().BoolVar(&overwrite, "overwrite", false, "also replace live items that differ from their restored version")
	c.Flags().BoolVar(&keep, "keep-restored", false, "leave the restored table in place for inspection")
	c.Flags().StringVar(&fromTable, "from-table", "", "copy back from this already restored table (e.g. from an AWS Backup recovery point) instead of PITR")
	c.Flags().DurationVar(&timeout, "timeout", time.Hour, "how long to wait for the restored table")
	return c
}

func newRestoreStateCmd() *cobra.Command {
	var f restoreFlags
	var stack, versionID string
	c := &cobra.Command{
		Use:   "state --env <env> --stack <env>-<stack> [--version-id V | --to <time>] --confirm <env>",
		Short: "Put an earlier version of a stack's Terraform state back, under the stack's lock",
		Long: "Without --version-id or --to, the version before the current one. The stack's lock is taken as\n" +
			"Terraform takes it (<key>.tflock, written only if absent), so a running plan or apply makes this\n" +
			"refuse (and name the holder), and no plan or apply starts while the state is being written. A\n" +
			"version that is not a Terraform state, or from another state's lineage, is refused. Afterwards,\n" +
			"`make diff STACK=<stack>` shows what the restored state and the real resources disagree on.",
		Example: "  spctl restore state --env dev --stack dev-network --dry-run\n" +
			"  spctl restore state --env dev --stack dev-network --confirm dev",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if versionID != "" && f.to != "" {
				return usagef("give --version-id or --to, not both")
			}
			cfg, at, err := f.load(true)
			if err != nil {
				return err
			}
			component, ok := strings.CutPrefix(stack, cfg.Env+"-")
			if !ok || !slices.Contains(naming.DeployOrder, component) {
				return usagef("--stack %q: give one of %s's stacks, e.g. %s-network", stack, cfg.Env, cfg.Env)
			}
			n := naming.New(cfg.Org, cfg.Env, cfg.Region)
			s3c, err := s3Client(cmd, cfg)
			if err != nil {
				return err
			}
			out := f.output(cmd)
			rep, err := restore.RestoreState(cmd.Context(), out, s3c, n.StateBucket(), n.StateKey(component), restore.StateOptions{
				VersionID: versionID, At: at, DryRun: f.dryRun, Who: who(),
			})
			if err != nil {
				return err
			}
			if rep.Written {
				fmt.Fprintf(out, "state of %s restored (serial %d of the restored version; Terraform counts on from it). Next: make diff STACK=%s\n", stack, rep.WasThen, stack)
			}
			return f.result(cmd, rep)
		},
	}
	f.add(c)
	c.Flags().StringVar(&f.to, "to", "", "restore the version that was current at this time (RFC 3339)")
	c.Flags().StringVar(&stack, "stack", "", "stack id, e.g. dev-network")
	c.Flags().StringVar(&versionID, "version-id", "", "restore exactly this version of the state file")
	return c
}

// s3Client is the env's S3 client (path-style against an emulator).
func s3Client(cmd *cobra.Command, cfg *envs.Config) (*s3.Client, error) {
	ac, err := awsenv.Load(cmd.Context(), cfg.Region)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(ac, func(o *s3.Options) { o.UsePathStyle = awsenv.PathStyle(ac) }), nil
}

// who is "user@host", as Terraform writes it into a lock.
func who() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}
