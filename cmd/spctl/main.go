// Command spctl is the operator CLI of spatialprops-infra: verify a live
// environment against the guide's exit checklist, tear a non-production
// environment down in the guide's order, roll the edge additions back,
// estimate what an environment costs, and restore data from versions, PITR
// and state history. Names come from the env files on disk (envs/, read at
// run time) and constructs/naming, the same code the stacks are built from.
//
// Exit codes are listed in exitCodes and printed by every --help.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// exitCodes are spctl's exit statuses, shown in every command's --help;
// verify adds its own (verifyExitCodes) and shows that table instead.
var exitCodes = []struct {
	code int
	what string
}{
	{0, "success: every check passed, or the work is done"},
	{1, "a check failed or the work failed (the output says which and why)"},
	{2, "bad usage or a refusal: a wrong flag, or a safety rule said no (the output says what to run instead)"},
	{130, "interrupted by SIGINT (Ctrl-C); rerunning the same command is safe"},
	{143, "interrupted by SIGTERM; rerunning the same command is safe"},
}

// usageError is bad usage: exit 2, with a pointer to the command's help.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// refusal is a safety rule saying no: exit 2, and the message itself says
// why and what to run instead (no generic help pointer).
type refusal struct{ error }

func refusef(format string, args ...any) error { return refusal{fmt.Errorf(format, args...)} }

// errFailed means the command ran and found failures (exit 1) and has
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
	cmd, err := root.ExecuteContextC(ctx)
	var ue usageError
	var ec exitCode
	var rf refusal
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
	case errors.As(err, &rf):
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 2
	case errors.As(err, &ue) || isCobraUsage(err):
		fmt.Fprintf(stderr, "error: %v\nRun '%s --help' for the flags and an example.\n", err, cmd.CommandPath())
		return 2
	case errors.Is(err, errFailed):
		return 1
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "error: interrupted: %v\n", err)
		return 130
	default:
		fmt.Fprintf(stderr, "error: %v\n", err)
		return 1
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "spctl",
		Short:         "Operate Spatial Properties environments: verify, teardown, edge rollback, cost, restore, PKI ceremony",
		Long:          "Operate Spatial Properties environments. Run it from the repository root: it reads the env files\n(envs/<env>.yaml) and the synthesized stacks (cdktf.out) at run time, never a copy built into it.",
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("spctl {{.Version}}\n")
	root.SetUsageTemplate(root.UsageTemplate() + exitStatusHelp())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringVar(&configDir, "config-dir", defaultConfigDir, "folder holding the env files <env>.yaml, read at run time")
	root.AddCommand(newVerifyCmd(), newTeardownCmd(), newEdgeCmd(), newCostCmd(), newRestoreCmd(), newPKICmd())
	return root
}

func exitStatusHelp() string {
	var b strings.Builder
	b.WriteString("\nExit status:\n")
	for _, e := range exitCodes {
		fmt.Fprintf(&b, "  %-4d %s\n", e.code, e.what)
	}
	return b.String()
}

// revision is set by `make spctl` (-ldflags -X main.revision=...) for
// builds Go cannot stamp itself (a git worktree).
var revision string

// version is the module version and VCS revision spctl was built from.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown build)"
	}
	v, rev, when, dirty := info.Main.Version, "", "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", with uncommitted changes"
			}
		}
	}
	if rev == "" && revision != "" {
		return fmt.Sprintf("%s (commit %s)", v, revision)
	}
	if rev == "" {
		return v + " (no VCS information in this build)"
	}
	return fmt.Sprintf("%s (commit %.12s, %s%s)", v, rev, when, dirty)
}

// isCobraUsage recognises cobra's own argument errors (unknown command).
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag: ", "unknown shorthand flag", "accepts ", "invalid argument", "flag needs an argument"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// writeJSON prints v for machines, indented, on one document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// confirmDestructive is the rule for every command that changes or removes
// something: the env's name typed back (--confirm <env>) in every env, and
// in prod also --break-glass, which is for an audited emergency only.
// --dry-run needs neither. what names the action ("tear down", ...).
func confirmDestructive(env, confirm string, breakGlass, dryRun bool, what, example string) error {
	if dryRun {
		return nil
	}
	if env == "prod" && !breakGlass {
		return refusef("%s prod is refused: prod changes go through review and deploy (docs/cicd.md). In an audited emergency, add --break-glass --confirm prod; look first with --dry-run", what)
	}
	if confirm != env {
		return refusef("%s %s needs its name typed back: %s --confirm %s (look first with --dry-run)", what, env, example, env)
	}
	return nil
}
