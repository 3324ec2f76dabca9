//go:build unix

package synth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockOutput takes an exclusive lock on a file beside the output folder
// (".cdktf.out.lock") and returns its release. A second synth of the same
// folder waits here, saying so, instead of racing the first: with two
// writers the last swap would win and the loser's cleanup could fail half
// way. The kernel drops the lock when the process exits, however it exits.
func lockOutput(abs, dir string) (unlock func(), err error) {
	path := filepath.Join(filepath.Dir(abs), leftoverPrefix(abs)+"lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, os.ErrPermission) {
		if ro, roErr := os.Open(path); roErr == nil { // flock works on a read-only descriptor too
			f, err = ro, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot lock %s for synthesis (%w); make the folder that holds it writable", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); errors.Is(err, syscall.EWOULDBLOCK) {
		fmt.Fprintf(os.Stderr, "waiting for another synth of %s to finish (lock %s)\n", dir, path)
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("cannot lock %s for synthesis: %w", dir, err)
		}
	} else if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot lock %s for synthesis: %w", dir, err)
	}
	return func() { f.Close() }, nil
}

// writable reports whether this process may create and remove entries in
// the folder path (access(2) with W_OK, which honours the real user).
func writable(path string) error {
	return syscall.Access(path, 0x2)
}
