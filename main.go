// Command spatialprops-infra synthesizes the Terraform JSON of every stack
// of the selected environments (ENV, or all of dev, staging and prod).
//
// It is the app that `cdktf synth|diff|deploy` runs (cdktf.json), and what
// `make synth` runs directly. Invalid configuration or a guardrail violation
// prints one line per problem and leaves cdktf.out untouched; ENV=<env>
// replaces only that env's stacks. With --list it validates and prints the
// stack ids in deploy order without writing anything.
//
// main is composition only: the env files compiled in, the stacks of each
// env, and internal/synth, which does the rest.
package main

import (
	"os"

	"github.com/aws/constructs-go/constructs/v10"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/synth"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

func main() {
	synth.IsolateTemp()
	os.Exit(synth.Main(synth.Options{
		Args: os.Args[1:], Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr,
		Envs: envs.Embedded(),
		Build: func(app constructs.Construct, cfg *envs.Config) error {
			_, err := stacks.NewEnvironment(app, cfg)
			return err
		},
		// The repository's side (environments, OIDC subject template)
		// spans every env: synthesized when all of them are, kept as it
		// was by a one-env synth.
		BuildShared: stacks.NewGitHubStack,
	}))
}
