// Command spatialprops-infra synthesizes the Terraform JSON of every stack
// of the selected environments (ENV, or all of dev, staging and prod).
//
// It is the app that `cdktf synth|diff|deploy` runs (cdktf.json), and what
// `make synth` runs directly. Invalid configuration or a guardrail violation
// prints one line per problem and leaves cdktf.out untouched.
//
// With --list it validates the configuration, builds every stack, and
// prints the stack ids in deploy order without writing anything: the
// Makefile's aggregate targets loop over that list.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/aws/constructs-go/constructs/v10"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

func main() {
	list := flag.Bool("list", false, "validate the configuration and print the stack ids in deploy order; writes nothing")
	flag.Parse()

	cfgs, err := envs.LoadSelected(envs.OverridesFromEnv(os.Getenv))
	if err != nil {
		fail("configuration is invalid; nothing was written", err)
	}
	build := func(app constructs.Construct) error {
		for _, cfg := range cfgs {
			if _, err := stacks.NewEnvironment(app, cfg); err != nil {
				return fmt.Errorf("%s: %w", cfg.File(), err)
			}
		}
		// The repository's side (environments, OIDC subject template) spans
		// every env: synthesized when all of them are.
		if len(cfgs) == len(envs.Order) {
			return stacks.NewGitHubStack(app, cfgs)
		}
		return nil
	}
	if *list {
		ids, err := listStacks(build)
		if err != nil {
			fail("configuration is invalid; nothing was written", err)
		}
		for _, id := range ids {
			fmt.Println(id)
		}
		return
	}
	written, err := synthesize(outdir(), build)
	if err != nil {
		fail("synthesis failed; nothing was written", err)
	}
	for _, id := range written {
		fmt.Println("synthesized", id)
	}
}

func fail(summary string, err error) {
	fmt.Fprintf(os.Stderr, "error: %s:\n%v\n", summary, err)
	os.Exit(1)
}
