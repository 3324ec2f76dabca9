package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/spatialprops/spatialprops-infra/internal/awscatalog"
	"github.com/spatialprops/spatialprops-infra/internal/ops/cost"
	"github.com/spatialprops/spatialprops-infra/internal/suggest"
)

func newCostCmd() *cobra.Command {
	var env, outdir, compareRef, compareDir string
	var asJSON, summary, markdown bool
	c := &cobra.Command{
		Use:   "cost --env <env>",
		Short: "Monthly cost estimate from the synthesized stacks (no AWS credentials needed)",
		Long: "Reads cdktf.out/stacks/<env>-*/cdk.tf.json and prices every resource with the pinned table in\n" +
			"internal/ops/cost/prices.go (" + cost.PriceRegion + " only, with its source and date; stacks synthesized for another\n" +
			"region are refused). Usage-priced items are listed with unit prices; resource types the table does not\n" +
			"know are reported as unpriced, and a node type it does not know fails the command (the total would be\n" +
			"too low). cdktf.out must come from the env file as it is now (`ENV=<env> make synth`).",
		Example: "  make synth && spctl cost --env prod\n" +
			"  spctl cost --env dev --json | jq .totalMonthlyUsd\n" +
			"  make synth && spctl cost --env dev --compare origin/main   # per-stack change against main's synth",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadEnv(env)
			if err != nil {
				return err
			}
			if err := checkSynthesized(cfg, outdir, true); err != nil {
				return err
			}
			if compareRef != "" || compareDir != "" {
				return compareCost(cmd, env, outdir, compareRef, compareDir, asJSON, markdown)
			}
			docs, ids, err := cost.Load(outdir, env)
			if err != nil {
				return err
			}
			est, err := cost.Compute(env, docs, ids)
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				b, err := est.JSON()
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			case summary:
				est.WriteSummary(cmd.OutOrStdout())
			default:
				est.WriteText(cmd.OutOrStdout())
			}
			if len(est.UnknownNodeTypes) > 0 {
				return unknownNodeTypes(cfg.File(), est)
			}
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

// unknownNodeTypes explains a node type the price table lacks: most often
// a typo or a type EC2 does not have (then it says so and suggests one),
// otherwise a real type whose price must be added.
func unknownNodeTypes(file string, est *cost.Estimate) error {
	cat := awscatalog.Default()
	var lines []string
	for _, t := range est.UnknownNodeTypes {
		why := fmt.Sprintf("is an EC2 instance type without a price in internal/ops/cost/prices.go: add its %s on-demand price", est.Region)
		if !cat.IsInstanceType(t) {
			why = "is probably wrong: EC2 has no such instance type" + suggest.DidYouMean(t, cat.TypesIn(est.Region))
		} else if cat.OfferedIn(est.Region, t) == "" {
			why = fmt.Sprintf("is probably wrong: %s does not offer it", est.Region)
		}
		lines = append(lines, fmt.Sprintf("node type %q (cluster.nodeGroup.instanceTypes in %s) %s", t, file, why))
	}
	return fmt.Errorf("the total leaves out the nodes:\n%s", strings.Join(lines, "\n"))
}
