package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spatialprops/spatialprops-infra/internal/terraform"
)

// stdout is where progress lines go.
var stdout = os.Stdout

// runBootstrap applies <env>-state against the real account in the
// environment's credentials and leaves its state in its own bucket.
func runBootstrap(args []string) error {
	fs := newFlags("bootstrap")
	env := fs.String("env", os.Getenv("ENV"), "environment whose state stack to bootstrap")
	out := fs.String("out", "cdktf.out", "synthesized output holding stacks/<env>-state")
	_ = fs.Parse(args)
	if *env == "" {
		fmt.Fprintln(os.Stderr, "set ENV, e.g. make bootstrap ENV=dev")
		os.Exit(2)
	}
	tc, reason, err := setup(false)
	if err != nil {
		return err
	}
	if reason != "" {
		return fmt.Errorf("cannot bootstrap: %s", reason)
	}
	dir := filepath.Join(*out, "stacks", *env+"-state")
	if _, err := os.Stat(filepath.Join(dir, "cdk.tf.json")); err != nil {
		return fmt.Errorf("%s is not synthesized: run `ENV=%s make synth` first", dir, *env)
	}
	local := absPath(filepath.Join("bootstrap", *env+"-state.tfstate"))
	fmt.Printf("bootstrap: %s with terraform %s\n", filepath.Base(dir), tc.version)
	ctx, cancel := context.WithTimeout(runCtx, 30*time.Minute)
	defer cancel()
	if _, err := terraform.Bootstrap(ctx, tc.runner, absPath(dir), local, stdout); err != nil {
		return err
	}
	fmt.Printf("bootstrap: %s-state keeps its state in its own bucket; every later stack deploys with `make deploy STACK=%s-<stack>`\n", *env, *env)
	return nil
}
