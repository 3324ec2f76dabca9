//go:build unix

package synth

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/aws/jsii-runtime-go"
)

// tempPrefix names the private scratch folder of one run in $TMPDIR:
// "spatialprops-synth-scratch-<pid>-<random>", holding scratchMarker. Only
// folders with both are ever swept: other tools (the tests among them) use
// similar names for folders that are not ours to remove.
const (
	tempPrefix    = "spatialprops-synth-scratch-"
	scratchMarker = ".spatialprops-synth-scratch"
)

// scratchVar tells the re-executed process which scratch folder is its own.
const scratchVar = "SPATIALPROPS_SYNTH_SCRATCH"

// IsolateTemp gives the run a scratch folder of its own and re-executes
// the binary with TMPDIR pointing at it, so that everything the jsii
// runtime writes (its own copy, jsii-runtime.*, about 2 MB, and the Node
// kernel's jsii-kernel-* folders) lands there instead of in the user's
// $TMPDIR, where nothing removed it. It has to re-execute because the jsii
// runtime starts while packages initialize, before main can change TMPDIR;
// that first runtime is closed (removing its files) before the exec, which
// keeps the process id. Main removes the folder on the way out, on SIGINT
// and on SIGTERM; a run killed outright (SIGKILL) cannot, so every run
// first removes the folders of runs whose process is gone. Call it first
// in main. If the exec fails, the run goes on unisolated.
func IsolateTemp() {
	if os.Getenv(scratchVar) != "" {
		return
	}
	base := os.TempDir()
	sweepDeadRuns(base)
	dir, err := os.MkdirTemp(base, tempPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return
	}
	if err := os.WriteFile(filepath.Join(dir, scratchMarker), nil, 0o600); err != nil {
		os.RemoveAll(dir)
		return
	}
	exe, err := os.Executable()
	if err == nil {
		jsii.Close()
		var env []string
		for _, kv := range os.Environ() { // execve keeps duplicates; the first would win
			if !strings.HasPrefix(kv, "TMPDIR=") && !strings.HasPrefix(kv, scratchVar+"=") {
				env = append(env, kv)
			}
		}
		env = append(env, "TMPDIR="+dir, scratchVar+"="+dir)
		err = syscall.Exec(exe, os.Args, env) // returns only when it failed
	}
	fmt.Fprintf(os.Stderr, "note: synth runs without its own scratch folder (%v); jsii may leave files in %s\n", err, base)
	os.RemoveAll(dir)
}

// guardScratch removes the scratch folder dir when the run ends: the
// returned done stops the jsii runtime (so Node writes nothing more) and
// removes it; SIGINT and SIGTERM remove it and exit 130 or 143.
func guardScratch(dir string, stderr io.Writer) (done func()) {
	if dir == "" || !strings.HasPrefix(filepath.Base(dir), tempPrefix) {
		return func() { jsii.Close() }
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	stop := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			os.RemoveAll(dir)
			fmt.Fprintf(stderr, "interrupted (%v): nothing was written; the previous output is unchanged\n", s)
			code := 130
			if s == syscall.SIGTERM {
				code = 143
			}
			os.Exit(code)
		case <-stop:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(stop)
		jsii.Close()
		os.RemoveAll(dir)
	}
}

// sweepDeadRuns removes the scratch folders of runs that no longer exist.
func sweepDeadRuns(base string) {
	found, _ := filepath.Glob(filepath.Join(base, tempPrefix+"*"))
	for _, f := range found {
		pidText, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(f), tempPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Lstat(filepath.Join(f, scratchMarker)); err != nil {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(f)
		}
	}
}
