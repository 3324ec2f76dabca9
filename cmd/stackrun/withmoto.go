package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
)

// runWithMoto starts one moto_server on a free loopback port, runs the
// command with MOTO_ENDPOINT set to it, and stops the server afterwards,
// whatever the command's outcome. `make test` wraps its Go test runs in it
// so every package shares one emulator.
func runWithMoto(args []string) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: stackrun with-moto -- <command> [args...]")
		os.Exit(2)
	}
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
	fmt.Printf("moto_server: %s for this run (MOTO_ENDPOINT)\n", server.URL)

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), motoserver.EnvVar+"="+server.URL)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Ctrl-C reaches the child through the terminal; we only outlive it to
	// stop the server.
	signal.Ignore(syscall.SIGINT)
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		server.Stop()
		os.Exit(ee.ExitCode())
	}
	return err
}
