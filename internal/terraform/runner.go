package terraform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MinVersion is the oldest Terraform the stacks run on: S3 native locking
// (use_lockfile) arrived in 1.10.
const MinVersion = "1.10"

// Runner runs terraform with a fixed environment and records everything it
// prints, so a failure can show the lines that matter.
type Runner struct {
	// Bin is the terraform executable.
	Bin string
	// Env is the complete environment of every terraform process.
	Env []string
	// Transcript, when set, receives every command and its full output.
	Transcript io.Writer
	// DebugLog, when set, names the file a command's debug log is appended
	// to (TF_LOG_PATH, with the core and the providers at debug level: every
	// AWS request they send), or "" for none. The emulated deploy records
	// the AWS calls of each stack this way (internal/awscalls).
	DebugLog func(dir string, args []string) string
}

// env is the environment of one command: Env, plus the debug log settings
// when DebugLog asks for them.
func (r *Runner) env(dir string, args []string) []string {
	if r.DebugLog == nil {
		return r.Env
	}
	path := r.DebugLog(dir, args)
	if path == "" {
		return r.Env
	}
	return append(append([]string(nil), r.Env...), "TF_LOG_CORE=debug", "TF_LOG_PROVIDER=debug", "TF_LOG_PATH="+path)
}

// NewRunner finds terraform on PATH and checks its version.
func NewRunner(env []string) (*Runner, string, error) {
	bin, err := exec.LookPath("terraform")
	if err != nil {
		return nil, "", errors.New("terraform is not on PATH")
	}
	r := &Runner{Bin: bin, Env: env}
	out, _, err := r.Run(context.Background(), "", "version", "-json")
	if err != nil {
		return nil, "", fmt.Errorf("terraform version: %w", err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return nil, "", fmt.Errorf("terraform version -json: %w", err)
	}
	if !AtLeast(v.Version, MinVersion) {
		return nil, v.Version, fmt.Errorf("terraform %s is older than %s, which S3 native locking needs", v.Version, MinVersion)
	}
	return r, v.Version, nil
}

// AtLeast compares dotted versions numerically ("1.11.4" >= "1.10").
func AtLeast(version, min string) bool {
	a, b := strings.Split(version, "."), strings.Split(min, ".")
	for i := range b {
		if i >= len(a) {
			return false
		}
		x, _ := strconv.Atoi(strings.TrimLeft(a[i], "v"))
		y, _ := strconv.Atoi(b[i])
		if x != y {
			return x > y
		}
	}
	return true
}

// Run executes terraform in dir and returns its combined output and exit
// code. err is set for a non-zero exit, with the output's last lines.
//
// When ctx ends (a timeout, SIGINT or SIGTERM to stackrun) terraform gets
// SIGINT, as from Ctrl-C: it stops after the resource in progress, writes
// its state and releases the state lock, so a rerun converges instead of
// meeting a held lock. It is killed only if it has not exited InterruptGrace
// later.
func (r *Runner) Run(ctx context.Context, dir string, args ...string) (string, int, error) {
	cmd := exec.CommandContext(ctx, r.Bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = InterruptGrace
	cmd.Dir = dir
	cmd.Env = r.env(dir, args)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	out := buf.String()
	if r.Transcript != nil {
		fmt.Fprintf(r.Transcript, "\n$ (cd %s && terraform %s)\n%s", dir, strings.Join(args, " "), out)
	}
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return out, -1, err
		}
		code = ee.ExitCode()
		return out, code, fmt.Errorf("terraform %s exited %d:\n%s", args[0], code, Tail(out, 25))
	}
	return out, 0, nil
}

// InterruptGrace is how long an interrupted terraform may take to save its
// state and release its lock before it is killed.
var InterruptGrace = 2 * time.Minute

// Tail returns the last n non-empty lines of s.
func Tail(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Warnings returns the titles of Terraform's warnings in out ("Warning: ...").
func Warnings(out string) []string {
	var w []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimLeft(l, "│╷ ")
		if t, ok := strings.CutPrefix(l, "Warning: "); ok {
			w = append(w, t)
		}
	}
	return w
}

// Stack is one synthesized stack directory.
type Stack struct {
	ID  string
	Dir string
	// Providers are the provider types its required_providers name.
	Providers []string
}

// ReadStack reads cdktf.out/stacks/<id>/cdk.tf.json for what it needs.
func ReadStack(dir string) (Stack, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "cdk.tf.json"))
	if err != nil {
		return Stack{}, err
	}
	var doc struct {
		Terraform struct {
			RequiredProviders map[string]json.RawMessage `json:"required_providers"`
		} `json:"terraform"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return Stack{}, fmt.Errorf("%s: %w", dir, err)
	}
	s := Stack{ID: filepath.Base(dir), Dir: dir}
	for p := range doc.Terraform.RequiredProviders {
		s.Providers = append(s.Providers, p)
	}
	sort.Strings(s.Providers)
	return s, nil
}

// Missing returns the providers s needs that m does not hold.
func (s Stack) Missing(m *Mirror) []string {
	var out []string
	for _, p := range s.Providers {
		if !m.Has(p) {
			out = append(out, p)
		}
	}
	return out
}

// Step is one timed phase of one stack, for progress lines and summaries.
type Step struct {
	Stack, Phase string
	Took         time.Duration
	// OK is false when the phase failed.
	OK bool
	// Detail says what happened ("29 added", "no changes", the error).
	Detail string
}

// Print writes the step as one progress line:
// "dev-network          apply     ok      24.1s  29 added, 0 changed, 0 destroyed".
func (s Step) Print(w io.Writer) {
	result := "ok"
	if !s.OK {
		result = "FAILED"
	}
	fmt.Fprintf(w, "%-20s %-9s %-6s %6.1fs  %s\n", s.Stack, s.Phase, result, s.Took.Seconds(), firstLine(s.Detail))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}
