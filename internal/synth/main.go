// Package synth is the machinery behind the app's main: it loads the env
// configs, builds the stacks the caller wires, and writes cdktf.out
// atomically under a lock (synth.go), or only lists the stacks (--list).
// It keeps jsii's scratch folders out of $TMPDIR (IsolateTemp).
package synth

import (
	"flag"
	"fmt"
	"io"
	"io/fs"

	"github.com/aws/constructs-go/constructs/v10"

	"github.com/spatialprops/spatialprops-infra/envs"
)

// Options are what the app's main wires in.
type Options struct {
	Args   []string
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	// Envs holds the env files: envs.Embedded() in the app.
	Envs fs.FS
	// Build adds every stack of cfg's environment to app.
	Build func(app constructs.Construct, cfg *envs.Config) error
	// BuildShared, when set, adds the stacks that belong to no single env
	// (ids without an "<env>-" prefix). It runs only when every env is
	// selected; a one-env synth keeps those stacks as they were.
	BuildShared func(app constructs.Construct, cfgs []*envs.Config) error
}

// Main runs the app and returns its exit code: 0 written (or listed), 1 a
// configuration or synthesis error (nothing written), 2 bad usage, 130 or
// 143 interrupted (the previous output stays whole).
func Main(o Options) int {
	flags := flag.NewFlagSet("spatialprops-infra", flag.ContinueOnError)
	flags.SetOutput(o.Stderr)
	list := flags.Bool("list", false, "validate the configuration and print the stack ids in deploy order; writes nothing")
	if err := flags.Parse(o.Args); err != nil {
		return 2
	}
	ov := envs.OverridesFromEnv(o.Getenv)
	cfgs, err := envs.LoadSelectedFrom(o.Envs, ov)
	if err != nil {
		return fail(o.Stderr, "configuration is invalid; nothing was written", err)
	}
	defer guardScratch(o.Getenv(scratchVar), o.Stderr)()
	build := func(app constructs.Construct) error {
		for _, cfg := range cfgs {
			if err := o.Build(app, cfg); err != nil {
				return fmt.Errorf("%s: %w", cfg.File(), err)
			}
		}
		if o.BuildShared != nil && len(cfgs) == len(envs.Order) {
			return o.BuildShared(app, cfgs)
		}
		return nil
	}
	if *list {
		ids, err := listStacks(build)
		if err != nil {
			return fail(o.Stderr, "configuration is invalid; nothing was written", err)
		}
		for _, id := range ids {
			fmt.Fprintln(o.Stdout, id)
		}
		return 0
	}
	var only []string
	if ov.Env != "" {
		only = []string{ov.Env}
	}
	records := map[string][]byte{}
	for _, cfg := range cfgs {
		if records[cfg.Env], err = envs.Record(cfg); err != nil {
			return fail(o.Stderr, "synthesis failed; nothing was written", err)
		}
	}
	written, err := synthesize(outdir(o.Getenv), only, records, build)
	if err != nil {
		return fail(o.Stderr, "synthesis failed; nothing was written", err)
	}
	for _, id := range written {
		fmt.Fprintln(o.Stdout, "synthesized", id)
	}
	return 0
}

func fail(w io.Writer, summary string, err error) int {
	fmt.Fprintf(w, "error: %s:\n%v\n", summary, err)
	return 1
}
