package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/spatialprops/spatialprops-infra/internal/ops/cost"
)

func newCostCmd() *cobra.Command {
	var env, outdir, compareRef, compareDir string
	var asJSON, summary, markdown bool
	c := &cobra.Command{
		Use:   "cost --env <env>",
		Short: "Monthly cost estimate from the synthesized stacks (no AWS credentials needed)",
		Long: "Reads cdktf.out/stacks/<env>-*/cdk.tf.json and prices every resource with the pinned table in\n" +
			"internal/ops/cost/prices.go (ap-southeast-2, with its source and date). Usage-priced items are\n" +
			"listed with unit prices; resource types the table does not know are reported as unpriced.",
		Example: "  make synth && spctl cost --env prod\n" +
			"  make synth && spctl cost --env dev --compare origin/main   # per-stack change against main's synth",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := loadEnv(env); err != nil {
				return err
			}
			if compareRef != "" || compareDir != "" {
				return compareCost(cmd, env, outdir, compareRef, compareDir, asJSON, markdown)
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
	c.Flags().StringVar(&compareRef, "compare", "", "git ref to compare with: synthesized in a temporary worktree, then per-stack changes against --outdir")
	c.Flags().StringVar(&compareDir, "compare-outdir", "", "an existing synth output to compare with, instead of --compare")
	c.Flags().BoolVar(&markdown, "markdown", false, "with --compare: print a Markdown table (for a pull-request comment)")
	c.MarkFlagsMutuallyExclusive("compare", "compare-outdir")
	return c
}

// compareSynthTimeout bounds the synth of the compared ref (all of one
// env's stacks; a cold Go build cache makes it slow).
const compareSynthTimeout = 30 * time.Minute

func compareCost(cmd *cobra.Command, env, outdir, ref, baseDir string, asJSON, markdown bool) error {
	base := baseDir
	if ref != "" {
		ctx, cancel := context.WithTimeout(cmd.Context(), compareSynthTimeout)
		defer cancel()
		fmt.Fprintf(cmd.ErrOrStderr(), "synthesizing %s at %s in a temporary worktree (up to %s)...\n", env, ref, compareSynthTimeout)
		dir, cleanup, err := cost.SynthRef(ctx, ".", ref, env, cost.GoRunSynth)
		defer cleanup()
		if err != nil {
			return err
		}
		baseDir, base = dir, ref
	}
	cmp, err := cost.CompareDirs(baseDir, outdir, env, base, outdir)
	if err != nil {
		return err
	}
	switch {
	case asJSON:
		b, err := json.MarshalIndent(cmp, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), string(b))
	case markdown:
		cmp.WriteMarkdown(cmd.OutOrStdout())
	default:
		cmp.WriteText(cmd.OutOrStdout())
	}
	return nil
}
