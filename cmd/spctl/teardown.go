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
	var env, confirm, progressDir string
	var includeState, dryRun, restart bool
	var timeout time.Duration
	var kf kubeFlags
	c := &cobra.Command{
		Use:   "teardown --env <env> --confirm <env>",
		Short: "Tear a non-production environment down in the guide's cleanup order",
		Long: "Order: Helm releases; namespaces (the load balancer controller goes last, so it can delete its\n" +
			"load balancers); disable the CloudFront distribution, wait until Deployed, delete it with its ETag;\n" +
			"empty every object version and delete marker of the buckets; `cdktf destroy` of each stack in\n" +
			"reverse deploy order. The state stack stays unless --include-state. prod is refused; every other\n" +
			"env needs its name typed back with --confirm. Finished steps are recorded in the progress file,\n" +
			"so after an interruption the same command resumes.",
		Example: "  spctl teardown --env dev --dry-run\n  spctl teardown --env dev --confirm dev",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadEnv(env)
			if err != nil {
				return err
			}
			o := teardown.Options{Confirm: confirm, IncludeState: includeState, DryRun: dryRun,
				ProgressFile: filepath.Join(progressDir, "teardown-"+cfg.Env+".json")}
			if err := teardown.Check(cfg, o); err != nil {
				if errors.Is(err, teardown.ErrRefused) {
					return usageError{err}
				}
				return err
			}
			if restart && !dryRun {
				_ = os.Remove(o.ProgressFile)
			}
			out := cmd.OutOrStdout()
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
			return teardown.Run(cmd.Context(), out, cfg.Env, teardown.Plan(cfg, d, o), o)
		},
	}
	c.Flags().StringVar(&env, "env", "", "environment: dev or staging (prod is refused)")
	c.Flags().StringVar(&confirm, "confirm", "", "the env name typed back, e.g. --confirm dev")
	c.Flags().BoolVar(&includeState, "include-state", false, "also destroy the state stack (bucket and lock table) last")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "list the steps and change nothing")
	c.Flags().BoolVar(&restart, "restart", false, "forget recorded progress and run every step again")
	c.Flags().StringVar(&progressDir, "progress-dir", ".spctl", "where the resume record teardown-<env>.json is kept")
	c.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "limit for each wait (namespace deletion, CloudFront deploy)")
	kf.add(c)
	return c
}
