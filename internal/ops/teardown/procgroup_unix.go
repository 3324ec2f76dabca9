//go:build unix

package teardown

import (
	"os/exec"
	"syscall"
	"time"
)

// stopGroupOnCancel runs cmd in its own process group and, when its
// context ends, sends SIGINT to the whole group (npx → node → terraform,
// helm), as Ctrl-C would: terraform then saves its state and releases its
// lock. The group is killed only if it has not exited grace later.
func stopGroupOnCancel(cmd *exec.Cmd, grace time.Duration) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	cmd.WaitDelay = grace
}
