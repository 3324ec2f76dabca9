package terraform

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// Process is a terraform command running in the background, for callers
// that act while it runs (the emulated deploy interrupts an apply part way).
type Process struct {
	cmd  *exec.Cmd
	args []string
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
	r    *Runner
	dir  string
}

// Start runs terraform in dir without waiting; onLine sees every line of
// its combined output as it is printed, with the process to act on.
func (r *Runner) Start(ctx context.Context, dir string, onLine func(p *Process, line string), args ...string) (*Process, error) {
	cmd := exec.CommandContext(ctx, r.Bin, args...)
	cmd.Dir = dir
	cmd.Env = r.env(dir, args)
	ownGroup(cmd)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &Process{cmd: cmd, args: args, done: make(chan struct{}), r: r, dir: dir}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if onLine != nil {
				onLine(p, sc.Text())
			}
		}
		_, _ = io.Copy(io.Discard, pr)
		close(p.done)
	}()
	go func() {
		_ = cmd.Wait()
		pw.Close()
	}()
	return p, nil
}

// Signal sends sig to terraform and its provider plugins, as a terminal's
// Ctrl-C reaches the whole foreground process group (the plugins ignore
// SIGINT; terraform stops them). A SIGKILL then leaves no plugin behind.
func (p *Process) Signal(sig os.Signal) error { return signalGroup(p.cmd, sig) }

// Wait waits for the process and returns its output and exit code, as Run.
func (p *Process) Wait() (string, int, error) {
	<-p.done
	p.mu.Lock()
	out := p.out.String()
	p.mu.Unlock()
	if p.r.Transcript != nil {
		fmt.Fprintf(p.r.Transcript, "\n$ (cd %s && terraform %s)\n%s", p.dir, strings.Join(p.args, " "), out)
	}
	if p.cmd.ProcessState == nil {
		return out, -1, errors.New("terraform did not start")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		return out, code, fmt.Errorf("terraform %s exited %d (%s):\n%s", p.args[0], code, p.cmd.ProcessState, Tail(out, 25))
	}
	return out, 0, nil
}
