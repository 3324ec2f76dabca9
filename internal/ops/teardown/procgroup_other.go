//go:build !unix

package teardown

import (
	"os/exec"
	"time"
)

// stopGroupOnCancel keeps exec's default (kill the process) where process
// groups do not exist.
func stopGroupOnCancel(cmd *exec.Cmd, grace time.Duration) { cmd.WaitDelay = grace }
