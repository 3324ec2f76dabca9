package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/spatialprops/spatialprops-infra/internal/ops/cost"
)

func newCostCmd() *cobra.Command {
	var env, outdir string
	var asJSON, summary bool
	c := &cobra.Command{
		Use:   "cost --env <env>",
		Short: "Monthly cost estimate from the synthesized stacks (no AWS credentials needed)",
		Long: "Reads cdktf.out/stacks/<env>-*/cdk.tf.json and prices every resource with the pinned table in\n" +
			"internal/ops/cost/prices.go (ap-southeast-2, with its source and date). Usage-priced items are\n" +
			"listed with unit prices; resource types the table does not know are reported as unpriced.",
		Example: "  make synth && spctl cost --env prod",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := loadEnv(env); err != nil {
				return err
			}
			docs, ids, err := cost.Load(outdir, env)
			if errors.Is(err, cost.ErrNotSynthesized) {
				return fmt.Errorf("%w", err)
			}
			if err != nil {
				return err
			}
			est, err := cost.Compute(env, docs, ids)
			if err != nil {
				return err
			}
			if asJSON {
				b, err := est.JSON()
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			if summary {
				est.WriteSummary(cmd.OutOrStdout())
				return nil
			}
			est.WriteText(cmd.OutOrStdout())
			return nil
		},
	}
	c.Flags().StringVar(&env, "env", "", "environment: dev, staging or prod")
	c.Flags().StringVar(&outdir, "outdir", "cdktf.out", "the synth output directory")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	c.Flags().BoolVar(&summary, "summary", false, "one line per stack and the total")
	return c
}
