package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/internal/ops/awsenv"
	"github.com/spatialprops/spatialprops-infra/internal/ops/rollback"
	"github.com/spatialprops/spatialprops-infra/internal/ops/wait"
)

func newRollbackCmd() *cobra.Command {
	var env, caArn, exportDir, confirm string
	var cohorts []string
	var drainTimeout time.Duration
	var skipDrain, dryRun, breakGlass, asJSON bool
	var kf kubeFlags
	c := &cobra.Command{
		Use:   "rollback --env <env> [--cohort C ...] [--ca-arn ARN]",
		Short: "Roll the edge additions back: bridge off, DTN drained, cohorts revoked, beacons exported",
		Long: "In the guide's order: 1) disable the P2P bridge: remove the NATS leaf-node remote from the chart's\n" +
			"ConfigMap edge-nats/nats-config and restart statefulset/nats (nats-server cannot drop a remote on reload);\n" +
			"2) wait until the DTN outbox has no visible\n" +
			"and no in-flight message; 3) revoke, at the private CA, every live certificate the device ledger\n" +
			"<org>-<env>-device-ledger lists for the named cohorts and mark them revoked; 4) export the beacon\n" +
			"registry <org>-<env>-beacons per venue as JSON Lines to the logs bucket under\n" +
			"exports/beacons/<venue>/<timestamp>.jsonl (and --export-dir). Every env needs its name typed back\n" +
			"with --confirm (not with --dry-run); prod also needs --break-glass, for an audited emergency only.",
		Example: "  spctl edge rollback --env staging --dry-run\n" +
			"  spctl edge rollback --env staging --confirm staging --cohort venue-perth-2026q4 \\\n" +
			"    --ca-arn arn:aws:acm-pca:ap-southeast-2:111122223333:certificate-authority/abcd --export-dir ./beacons",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadEnv(env)
			if err != nil {
				return err
			}
			if !cfg.Edge.Enabled {
				return usagef("edge.enabled is false in %s: %s has no edge stack to roll back", cfg.File(), cfg.Env)
			}
			if len(cohorts) > 0 && caArn == "" {
				return usagef("--cohort needs --ca-arn (the private CA that issued the device certificates)")
			}
			if err := confirmDestructive(cfg.Env, confirm, breakGlass, dryRun, "rolling the edge back in", "spctl edge rollback --env "+cfg.Env); err != nil {
				return err
			}
			n := naming.New(cfg.Org, cfg.Env, cfg.Region)
			out := cmd.OutOrStdout()
			if asJSON { // progress goes to stderr; stdout holds one JSON document
				out = cmd.ErrOrStderr()
			}
			steps := []string{
				"1/4 disable the P2P bridge",
				fmt.Sprintf("2/4 drain %v (timeout %s)", n.DTNQueues(), drainTimeout),
				fmt.Sprintf("3/4 revoke cohorts %v via %s", cohorts, n.DeviceLedgerTable()),
				fmt.Sprintf("4/4 export %s per venue to s3://%s/exports/beacons/", n.BeaconTable(), n.DataBucket("logs")),
			}
			if dryRun {
				for _, s := range steps {
					fmt.Fprintf(out, "%s (dry run: nothing done)\n", s)
				}
				if asJSON {
					return writeJSON(cmd.OutOrStdout(), rollbackReport{Env: cfg.Env, DryRun: true, Steps: steps})
				}
				return nil
			}
			ctx := cmd.Context()
			ac, err := awsenv.Load(ctx, cfg.Region)
			if err != nil {
				return err
			}
			kube, _ := kf.clients()
			if kube == nil {
				return errors.New("no cluster access to disable the P2P bridge: aws eks update-kubeconfig --name " + n.Cluster())
			}
			fmt.Fprintln(out, steps[0])
			msg, err := rollback.NATSBridge{Kube: kube, Namespace: naming.NamespaceNATS, Release: naming.ReleaseNATS, Now: time.Now}.Disable(ctx)
			if err != nil {
				return fmt.Errorf("disable the P2P bridge: %w (nothing else was done)", err)
			}
			fmt.Fprintf(out, "  %s\n", msg)

			fmt.Fprintln(out, steps[1])
			q := sqs.NewFromConfig(ac)
			if skipDrain {
				fmt.Fprintln(out, "  skipped (--skip-drain): undelivered envelopes stay in the queue")
			} else {
				for _, queue := range n.DTNQueues() {
					if err := rollback.Drain(ctx, out, q, queue, drainTimeout, wait.Options{Interval: 10 * time.Second}); err != nil {
						return fmt.Errorf("%w\nThe bridge is off. Rerun to keep waiting, or add --skip-drain to revoke and export now", err)
					}
				}
			}

			fmt.Fprintln(out, steps[2])
			db := dynamodb.NewFromConfig(ac)
			if len(cohorts) == 0 {
				fmt.Fprintln(out, "  no --cohort given: nothing revoked")
			} else {
				revoked, err := rollback.RevokeCohorts(ctx, out, db, acmpca.NewFromConfig(ac), n.DeviceLedgerTable(), caArn, cohorts, time.Now())
				if err != nil {
					return fmt.Errorf("%w\nRevoked and marked in the ledger before the error: %v. "+
						"Run the same command again: it skips what the ledger marks, and a certificate the CA already revoked is marked and passed", err, revoked)
				}
			}

			fmt.Fprintln(out, steps[3])
			s3c := s3.NewFromConfig(ac, func(o *s3.Options) { o.UsePathStyle = awsenv.PathStyle(ac) })
			stamp := time.Now().UTC().Format("20060102T150405Z")
			counts, err := rollback.ExportBeacons(ctx, out, db, s3c, n.BeaconTable(), n.DataBucket("logs"), stamp, exportDir, 0)
			if err != nil {
				return err
			}
			total := 0
			for _, c := range counts {
				total += c
			}
			fmt.Fprintf(out, "edge rollback of %s done: %d beacons exported from %d venues\n", cfg.Env, total, len(counts))
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rollbackReport{Env: cfg.Env, Steps: steps, Done: true, BeaconsByVenue: counts})
			}
			return nil
		},
	}
	c.Flags().StringVar(&env, "env", "", "environment: dev, staging or prod")
	c.Flags().StringSliceVar(&cohorts, "cohort", nil, "device cohort whose certificates are revoked (repeatable)")
	c.Flags().StringVar(&caArn, "ca-arn", "", "ARN of the ACM private CA that issued the device certificates")
	c.Flags().StringVar(&exportDir, "export-dir", "", "also write <venue>.jsonl files here")
	c.Flags().DurationVar(&drainTimeout, "drain-timeout", 15*time.Minute, "how long to wait for the DTN queues to drain")
	c.Flags().BoolVar(&skipDrain, "skip-drain", false, "do not wait for the DTN queues (after a drain timeout)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "list the steps and change nothing")
	c.Flags().StringVar(&confirm, "confirm", "", "the env name typed back, e.g. --confirm staging (every env; not needed with --dry-run)")
	c.Flags().BoolVar(&breakGlass, "break-glass", false, "allow prod, for an audited emergency only (with --confirm prod); see docs/spctl-edge-rollback.md")
	c.Flags().BoolVar(&asJSON, "json", false, "print the steps and the export counts as JSON on stdout (progress goes to stderr)")
	kf.add(c)
	return c
}

// rollbackReport is `edge rollback --json`.
type rollbackReport struct {
	Env            string         `json:"env"`
	DryRun         bool           `json:"dryRun"`
	Steps          []string       `json:"steps"`
	Done           bool           `json:"done"`
	BeaconsByVenue map[string]int `json:"beaconsByVenue,omitempty"`
}
