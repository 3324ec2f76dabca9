package main

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/spatialprops/spatialprops-infra/internal/ops/awsenv"
	"github.com/spatialprops/spatialprops-infra/internal/ops/teardown"
	"github.com/spatialprops/spatialprops-infra/internal/ops/wait"
)

func newTeardownCmd() *cobra.Command {
	var env, confirm, progressDir, outdir string
	var includeState, dryRun, restart, breakGlass, asJSON bool
	var timeout time.Duration
	var kf kubeFlags
	c := &cobra.Command{
		Use:   "teardown --env <env> --confirm <env>",
		Short: "Tear a non-production environment down in the guide's cleanup order",
		Long: "Order: Helm releases; namespaces (the load balancer controller goes last, so it can delete its\n" +
			"load balancers); disable the CloudFront distribution, wait until Deployed, delete it with its ETag;\n" +
			"empty every object version and delete marker of the buckets; `cdktf destroy` of each stack in\n" +
			"reverse deploy order. The state stack stays unless --include-state. Every env needs its name typed\n" +
			"back with --confirm; prod is refused unless --break-glass is also given (an audited emergency only,\n" +
			"docs/spctl-teardown.md). Names come from envs/<env>.yaml as it is now; if cdktf.out was synthesized\n" +
			"from other values, spctl refuses until `ENV=<env> make synth` has run. Finished steps are recorded in\n" +
			"the progress file, so after an interruption the same command resumes.",
		Example: "  spctl teardown --env dev --dry-run\n  spctl teardown --env dev --confirm dev",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadEnv(env)
			if err != nil {
				return err
			}
			if err := confirmDestructive(cfg.Env, confirm, breakGlass, dryRun, "tearing down", "spctl teardown --env "+cfg.Env); err != nil {
				return err
			}
			if err := checkSynthesized(cfg, outdir, false); err != nil {
				return err
			}
			o := teardown.Options{Confirm: confirm, IncludeState: includeState, DryRun: dryRun, BreakGlass: breakGlass,
				ProgressFile: filepath.Join(progressDir, "teardown-"+cfg.Env+".json")}
			if err := teardown.Check(cfg, o); err != nil {
				if errors.Is(err, teardown.ErrRefused) {
					return refusal{err}
				}
				return err
			}
			if restart && !dryRun {
				_ = os.Remove(o.ProgressFile)
			}
			out := cmd.OutOrStdout()
			if asJSON { // progress goes to stderr; stdout holds one JSON document
				out = cmd.ErrOrStderr()
			}
			d := teardown.Deps{Out: out, Timeout: timeout, Wait: wait.Options{Interval: 15 * time.Second}}
			if !dryRun {
				ac, err := awsenv.Load(cmd.Context(), cfg.Region)
				if err != nil {
					return err
				}
				east := ac.Copy()
				east.Region = "us-east-1"
				kube, _ := kf.clients()
				if kube == nil {
					return errors.New("no cluster access for the Helm and namespace steps: aws eks update-kubeconfig --name " + cfg.Org + "-" + cfg.Env + "-eks (or --kubeconfig)")
				}
				wd, _ := os.Getwd()
				d.Helm = teardown.HelmCLI{Kubeconfig: kf.kubeconfig, Context: kf.context}
				d.Kube = kube
				d.CloudFront = cloudfront.NewFromConfig(east)
				d.S3 = s3.NewFromConfig(ac, func(o *s3.Options) { o.UsePathStyle = awsenv.PathStyle(ac) })
				d.CDKTF = teardown.CDKTFCLI{Dir: wd, Out: out}
			}
			steps := teardown.Plan(cfg, d, o)
			runErr := teardown.Run(cmd.Context(), out, cfg.Env, steps, o)
			if !asJSON {
				return runErr
			}
			statuses, err := teardown.Statuses(cfg.Env, steps, o)
			if err != nil {
				return errors.Join(runErr, err)
			}
			report := struct {
				Env    string                `json:"env"`
				DryRun bool                  `json:"dryRun"`
				Steps  []teardown.StepStatus `json:"steps"`
				Error  string                `json:"error,omitempty"`
			}{Env: cfg.Env, DryRun: dryRun, Steps: statuses}
			if runErr != nil {
				report.Error = runErr.Error()
			}
			if err := writeJSON(cmd.OutOrStdout(), report); err != nil {
				return err
			}
			return runErr
		},
	}
	c.Flags().StringVar(&env, "env", "", "environment: dev or staging (prod only with --break-glass)")
	c.Flags().StringVar(&confirm, "confirm", "", "the env name typed back, e.g. --confirm dev (every env; not needed with --dry-run)")
	c.Flags().BoolVar(&breakGlass, "break-glass", false, "allow prod, for an audited emergency only (with --confirm prod); see docs/spctl-teardown.md")
	c.Flags().BoolVar(&asJSON, "json", false, "print the steps and whether each is done as JSON on stdout (progress goes to stderr)")
	c.Flags().StringVar(&outdir, "outdir", "cdktf.out", "the synth output, checked to be from the current env files")
	c.Flags().BoolVar(&includeState, "include-state", false, "also destroy the state stack (bucket and lock table) last")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "list the steps and change nothing")
	c.Flags().BoolVar(&restart, "restart", false, "forget recorded progress and run every step again")
	c.Flags().StringVar(&progressDir, "progress-dir", ".spctl", "where the resume record teardown-<env>.json is kept")
	c.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "limit for each wait (namespace deletion, CloudFront deploy)")
	kf.add(c)
	return c
}
