// Command spctl is the operator CLI of spatialprops-infra: verify a live
// environment against the guide's exit checklist, tear a non-production
// environment down in the guide's order, roll the edge additions back, and
// estimate what an environment costs. Names come from envs/ and
// constructs/naming, the same code the stacks are built from.
//
// Exit codes: 0 all good, 1 a check or the work failed, 2 bad usage;
// verify adds 3 (AWS credentials), 4 (region), 5 (cluster unreachable) and
// 6 (checks not run); any command stopped by SIGINT or SIGTERM exits 130
// or 143 (128 + the signal's number).
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

// exitCode ends the command with this status; the command has already
// said why.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// interrupted is the cause of a context ended by a signal.
type interrupted struct{ sig os.Signal }

func (i *interrupted) Error() string { return "interrupted by " + signalName(i.sig) }

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// interruptedBy names the signal that ended ctx, or "".
func interruptedBy(ctx context.Context) (string, int) {
	var in *interrupted
	if errors.As(context.Cause(ctx), &in) {
		n := 1
		if s, ok := in.sig.(syscall.Signal); ok {
			n = int(s)
		}
		return signalName(in.sig), 128 + n
	}
	return "", 0
}

func main() {
	// The first SIGINT or SIGTERM cancels the command's context (every
	// call it makes ends, what it did is reported); a second one, with the
	// default handling restored, ends the process at once.
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		signal.Stop(sigs)
		cancel(&interrupted{sig: s})
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes spctl with args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ue usageError
	var ec exitCode
	if name, code := interruptedBy(ctx); name != "" {
		if err != nil && !errors.Is(err, errFailed) && !errors.As(err, &ec) {
			fmt.Fprintf(stderr, "error: %v\n", err)
		}
		fmt.Fprintf(stderr, "spctl: interrupted by %s: stopped; exit %d (rerunning the same command is safe)\n", name, code)
		return code
	}
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ec):
		return int(ec)
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
		Short:         "Operate Spatial Properties environments: verify, teardown, edge rollback, cost",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newVerifyCmd(), newTeardownCmd(), newEdgeCmd(), newCostCmd())
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
