package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
)

// defaultGrace is how long with-moto waits for its command to exit after
// passing on SIGINT or SIGTERM before it kills the command's process group.
const defaultGrace = 10 * time.Second

// runWithMoto starts one moto_server on a free loopback port, runs the
// command with MOTO_ENDPOINT set to it, and stops the server afterwards,
// whatever the command's outcome. `make test` wraps its Go test runs in it
// so every package shares one emulator.
//
// The command runs in its own process group. SIGINT or SIGTERM sent to
// with-moto (Ctrl-C, a CI timeout, kill) is passed on to that whole group
// (so `go test` and the test binaries it started stop too); after the grace
// period the group is killed. Then the server is stopped and with-moto exits
// 128+signal (130 for SIGINT, 143 for SIGTERM). Nothing it started outlives it.
func runWithMoto(args []string) error {
	fs := flag.NewFlagSet("stackrun with-moto", flag.ContinueOnError)
	grace := fs.Duration("grace", defaultGrace, "after passing on SIGINT/SIGTERM, wait this long for the command before killing it")
	if err := fs.Parse(args); err != nil {
		os.Exit(2)
	}
	args = fs.Args()
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: stackrun with-moto [-grace 10s] -- <command> [args...]")
		os.Exit(2)
	}
	// Catch the signals before anything is started, so none is lost
	// between starting the server and starting the command.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	logf, err := os.CreateTemp("", "moto-*.log")
	if err != nil {
		return err
	}
	defer os.Remove(logf.Name())
	server, err := motoserver.Start(motoserver.Options{LoadManagedPolicies: true, Log: logf})
	if err != nil {
		return err
	}
	defer server.Stop()
	select {
	case sig := <-sigs:
		return interrupted(sig, "before the command started")
	default:
	}
	fmt.Printf("moto_server: %s for this run (MOTO_ENDPOINT)\n", server.URL)

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), motoserver.EnvVar+"="+server.URL)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var got os.Signal
	select {
	case err = <-done:
	case got = <-sigs:
		fmt.Fprintf(os.Stderr, "stackrun with-moto: %s: passing it on to %s (process group %d), waiting up to %s\n", got, args[0], cmd.Process.Pid, *grace)
		_ = syscall.Kill(-cmd.Process.Pid, got.(syscall.Signal))
		select {
		case <-done:
		case <-time.After(*grace):
			fmt.Fprintf(os.Stderr, "stackrun with-moto: %s still running after %s: killing its process group\n", args[0], *grace)
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		case again := <-sigs:
			fmt.Fprintf(os.Stderr, "stackrun with-moto: second %s: killing %s's process group\n", again, args[0])
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	// Whatever the command left behind in its group goes with it.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	if got != nil {
		server.Stop()
		return interrupted(got, "the command and moto_server are stopped")
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitStatus(ee.ExitCode())
	}
	return err
}

// interrupted says what was stopped and ends with-moto the way a shell
// reports a command ended by sig: exit status 128+signal number.
func interrupted(sig os.Signal, what string) error {
	fmt.Fprintf(os.Stderr, "stackrun with-moto: interrupted by %s: %s\n", sig, what)
	if s, ok := sig.(syscall.Signal); ok {
		return exitStatus(128 + int(s))
	}
	return exitStatus(1)
}
