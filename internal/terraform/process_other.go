//go:build !unix

package terraform

import (
	"os"
	"os/exec"
)

func ownGroup(*exec.Cmd) {}

// signalGroup signals the command only: no process groups here.
func signalGroup(cmd *exec.Cmd, sig os.Signal) error { return cmd.Process.Signal(sig) }
