// Command stackrun runs Terraform over the synthesized stacks:
//
//	stackrun validate [-out cdktf.out]      terraform init + validate of every stack whose providers are mirrored
//	stackrun bootstrap -env dev             apply <env>-state, then migrate its state into its own bucket
//	stackrun e2e -env dev                   emulated deploy of the env's AWS-side stacks to moto_server
//	stackrun with-moto [-grace 10s] -- CMD  run CMD with MOTO_ENDPOINT set to a fresh moto_server
//
// The Makefile calls it (`make validate`, `make bootstrap`, `make e2e`).
// Where Terraform or a provider mirror is missing, validate and e2e print one
// loud SKIPPED line and exit 0, unless REQUIRE_E2E=1 (set by .ci/run), which
// turns the skip into a failure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
)

// requireEnv turns "cannot run here" into a failure (CI sets it).
const requireEnv = "REQUIRE_E2E"

// errSkipped marks a command that could not run on this machine.
var errSkipped = errors.New("skipped")

// runCtx ends at the first SIGINT or SIGTERM: the terraform a command is
// running gets SIGINT (it saves its state and releases its lock), the
// command stops, its deferred cleanup (moto_server) runs, and stackrun exits
// 128+signal. A second signal ends stackrun at once.
var runCtx, signalled = signalContext()

func signalContext() (context.Context, func() os.Signal) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	var got atomic.Value
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		got.Store(s)
		signal.Stop(sigs)
		cancel()
	}()
	return ctx, func() os.Signal { s, _ := got.Load().(os.Signal); return s }
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "validate":
		err = runValidate(args)
	case "bootstrap":
		err = runBootstrap(args)
	case "e2e":
		err = runE2E(args)
	case "with-moto":
		err = runWithMoto(args)
	case "-h", "--help", "help":
		usage()
		return
	default:
		fmt.Fprintf(os.Stderr, "stackrun: unknown command %q\n", cmd)
		usage()
		os.Exit(2)
	}
	var status exitStatus
	if sig, ok := signalled().(syscall.Signal); ok && !errors.As(err, &status) {
		if err != nil {
			fmt.Fprintf(os.Stderr, "error: %v\n", err)
		}
		fmt.Fprintf(os.Stderr, "stackrun %s: interrupted by %s; rerunning is safe\n", os.Args[1], sig)
		os.Exit(128 + int(sig))
	}
	switch {
	case errors.As(err, &status):
		os.Exit(int(status))
	case errors.Is(err, errSkipped):
		if os.Getenv(requireEnv) == "1" {
			fmt.Fprintf(os.Stderr, "%s=1: a skipped run is a failure here\n", requireEnv)
			os.Exit(1)
		}
	case err != nil:
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  stackrun validate [-out cdktf.out]        init (offline, from the provider mirror) and validate every stack
  stackrun bootstrap -env <env> [-out cdktf.out]
                                            apply <env>-state and migrate its state into its own bucket
  stackrun e2e -env <env> [-keep]           apply the env's AWS-side stacks to moto_server, re-plan, destroy
  stackrun with-moto [-grace 10s] -- <command> [args]
                                            run a command with MOTO_ENDPOINT set to a fresh moto_server;
                                            SIGINT/SIGTERM reach the command's process group, then both
                                            stop; exit status is the command's, or 128+signal
`)
}

// exitStatus ends stackrun with this status and no further message: the
// command already said what happened (with-moto passes on its command's
// status, or 128+signal when it was interrupted).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// repoRoot is where the Makefile runs us; generated files go under it.
func repoRoot() string {
	wd, _ := os.Getwd()
	return wd
}

// newFlags builds a flag set whose errors exit 2, as usage errors should.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("stackrun "+name, flag.ExitOnError)
	return fs
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
