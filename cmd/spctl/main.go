// Command spctl is the operator CLI of spatialprops-infra: verify a live
// environment against the guide's exit checklist, tear a non-production
// environment down in the guide's order, roll the edge additions back,
// estimate what an environment costs, and restore data from versions, PITR
// and state history. Names come from envs/ and
// constructs/naming, the same code the stacks are built from.
//
// Exit codes: 0 all good, 1 a check or the work failed, 2 bad usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/spatialprops/spatialprops-infra/envs"
)

// usageError is bad usage: exit code 2.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// failedError means the command ran and found failures (exit 1) and has
// already said so; main prints nothing more.
var errFailed = errors.New("failed")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes spctl with args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue) || isCobraUsage(err):
		fmt.Fprintf(stderr, "error: %v\nRun 'spctl --help' for usage.\n", err)
		return 2
	case errors.Is(err, errFailed):
		return 1
	default:
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "spctl",
		Short:         "Operate Spatial Properties environments: verify, teardown, edge rollback, cost, restore",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newVerifyCmd(), newTeardownCmd(), newEdgeCmd(), newCostCmd(), newRestoreCmd())
	return root
}

// isCobraUsage recognises cobra's own argument errors (unknown command).
func isCobraUsage(err error) bool {
	msg := err.Error()
	return len(msg) > 15 && (msg[:15] == "unknown command" || msg[:14] == "unknown flag: ")
}

// loadEnv loads envs/<env>.yaml with the session's ORG and AWS_REGION
// overrides; --env wins over ENV.
func loadEnv(env string) (*envs.Config, error) {
	if env == "" {
		return nil, usagef("--env is required (one of %v)", envs.Names())
	}
	ov := envs.OverridesFromEnv(os.Getenv)
	ov.Env = env
	cfg, err := envs.Load(env, ov)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return cfg, nil
}
