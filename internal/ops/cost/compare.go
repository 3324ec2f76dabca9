package cost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Change is one priced line that differs between two estimates.
type Change struct {
	Resource string  `json:"resource"`
	Before   float64 `json:"beforeUsd"`
	After    float64 `json:"afterUsd"`
}

// StackDelta is one stack's monthly subtotal before and after.
type StackDelta struct {
	ID      string   `json:"id"`
	Before  float64  `json:"beforeUsd"`
	After   float64  `json:"afterUsd"`
	Changes []Change `json:"changes,omitempty"`
}

// Delta is After - Before.
func (s StackDelta) Delta() float64 { return s.After - s.Before }

// Comparison is the per-stack difference between two synths of one env.
type Comparison struct {
	Env    string       `json:"env"`
	Base   string       `json:"base"` // what Before was synthesized from
	Head   string       `json:"head"`
	Stacks []StackDelta `json:"stacks"`
	Before float64      `json:"beforeUsd"`
	After  float64      `json:"afterUsd"`
}

// cent is the smallest difference worth reporting.
const cent = 0.005

// Compare lines up the stacks of two estimates of the same env (head's
// deploy order, then stacks only base has) and the priced lines that
// changed within each.
func Compare(base, head *Estimate, baseLabel, headLabel string) *Comparison {
	c := &Comparison{Env: head.Env, Base: baseLabel, Head: headLabel, Before: base.Total, After: head.Total}
	before := map[string]Stack{}
	for _, s := range base.Stacks {
		before[s.ID] = s
	}
	seen := map[string]bool{}
	for _, s := range head.Stacks {
		seen[s.ID] = true
		b := before[s.ID]
		c.Stacks = append(c.Stacks, StackDelta{ID: s.ID, Before: b.Subtotal, After: s.Subtotal, Changes: changes(b.Lines, s.Lines)})
	}
	for _, s := range base.Stacks {
		if !seen[s.ID] {
			c.Stacks = append(c.Stacks, StackDelta{ID: s.ID, Before: s.Subtotal, Changes: changes(s.Lines, nil)})
		}
	}
	return c
}

func changes(before, after []Line) []Change {
	sum := func(lines []Line) map[string]float64 {
		m := map[string]float64{}
		for _, l := range lines {
			m[l.Resource] += l.Monthly
		}
		return m
	}
	b, a := sum(before), sum(after)
	var out []Change
	for r := range a {
		if math.Abs(a[r]-b[r]) >= cent {
			out = append(out, Change{Resource: r, Before: b[r], After: a[r]})
		}
	}
	for r := range b {
		if _, ok := a[r]; !ok && b[r] >= cent {
			out = append(out, Change{Resource: r, Before: b[r]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Resource < out[j].Resource })
	return out
}

// Changed reports whether any stack's subtotal moved by a cent or more.
func (c *Comparison) Changed() bool {
	for _, s := range c.Stacks {
		if math.Abs(s.Delta()) >= cent || len(s.Changes) > 0 {
			return true
		}
	}
	return false
}

func signed(v float64) string {
	if math.Abs(v) < cent {
		return "0.00"
	}
	return fmt.Sprintf("%+.2f", v)
}

// WriteText prints one line per stack, the priced lines that changed
// under it, and the totals.
func (c *Comparison) WriteText(w io.Writer) {
	fmt.Fprintf(w, "Monthly fixed cost of %s: %s -> %s (USD)\n", c.Env, c.Base, c.Head)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "stack\t    before\t     after\t    change\n")
	for _, s := range c.Stacks {
		fmt.Fprintf(tw, "%s\t%10.2f\t%10.2f\t%10s\n", s.ID, s.Before, s.After, signed(s.Delta()))
		for _, ch := range s.Changes {
			fmt.Fprintf(tw, "  %s\t%10.2f\t%10.2f\t%10s\n", ch.Resource, ch.Before, ch.After, signed(ch.After-ch.Before))
		}
	}
	fmt.Fprintf(tw, "TOTAL\t%10.2f\t%10.2f\t%10s\n", c.Before, c.After, signed(c.After-c.Before))
	tw.Flush()
	if !c.Changed() {
		fmt.Fprintln(w, "No change in fixed monthly cost.")
	}
}

// WriteMarkdown prints the same as a Markdown table, for a PR comment.
func (c *Comparison) WriteMarkdown(w io.Writer) {
	fmt.Fprintf(w, "### Monthly fixed cost of `%s`: %.2f → %.2f USD (%s)\n\n", c.Env, c.Before, c.After, signed(c.After-c.Before))
	fmt.Fprintf(w, "`%s` → `%s`, priced by `spctl cost` with its pinned ap-southeast-2 table (usage-priced items are not included).\n\n", c.Base, c.Head)
	if !c.Changed() {
		fmt.Fprintln(w, "No change in fixed monthly cost.")
		return
	}
	fmt.Fprintln(w, "| stack | before | after | change |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for _, s := range c.Stacks {
		if math.Abs(s.Delta()) < cent && len(s.Changes) == 0 {
			continue
		}
		fmt.Fprintf(w, "| %s | %.2f | %.2f | %s |\n", s.ID, s.Before, s.After, signed(s.Delta()))
		for _, ch := range s.Changes {
			fmt.Fprintf(w, "| &nbsp;&nbsp;`%s` | %.2f | %.2f | %s |\n", strings.ReplaceAll(ch.Resource, "|", "\\|"), ch.Before, ch.After, signed(ch.After-ch.Before))
		}
	}
	fmt.Fprintf(w, "| **total** | %.2f | %.2f | **%s** |\n", c.Before, c.After, signed(c.After-c.Before))
}

// SynthFunc synthesizes the env of the checkout in dir into dir/cdktf.out.
type SynthFunc func(ctx context.Context, dir, env string) error

// GoRunSynth is what `make synth` runs (`go run .` with ENV set), with the
// Node end-of-life banner and jsii's chatter kept out of the output; on
// failure the error carries the last lines of it.
func GoRunSynth(ctx context.Context, dir, env string) error {
	cmd := exec.CommandContext(ctx, "go", "run", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ENV="+env)
	out, err := cmd.CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return fmt.Errorf("synth in %s: %w: %s", dir, err, strings.Join(lines[max(0, len(lines)-5):], "\n"))
	}
	return nil
}

// SynthRef checks ref out of the repository at repo into a temporary git
// worktree, synthesizes env there with synth and returns the worktree's
// cdktf.out; cleanup removes the worktree (call it even on error). The
// checkout's node_modules and .gen (the generated provider bindings) are
// linked into the worktree when ref pins the same npm packages, so no
// second `npm ci` or binding generation runs; otherwise synth in the
// worktree generates its own. The whole call is bounded by ctx.
func SynthRef(ctx context.Context, repo, ref, env string, synth SynthFunc) (outdir string, cleanup func(), err error) {
	cleanup = func() {}
	if strings.HasPrefix(ref, "-") {
		return "", cleanup, fmt.Errorf("--compare %q: a git ref cannot start with '-'", ref)
	}
	// Absolute, so the links into the worktree do not point at themselves.
	if repo, err = filepath.Abs(repo); err != nil {
		return "", cleanup, err
	}
	git := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", repo}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return out, fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return out, nil
	}
	commit, err := git("rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		return "", cleanup, fmt.Errorf("--compare %q: not a commit in %s (fetch it first, e.g. git fetch origin main)", ref, repo)
	}
	tmp, err := os.MkdirTemp("", "spctl-cost-compare-")
	if err != nil {
		return "", cleanup, err
	}
	wt := filepath.Join(tmp, "src")
	cleanup = func() {
		// A fresh context: the caller's may have expired, and the worktree
		// must still be unregistered.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = exec.CommandContext(ctx, "git", "-C", repo, "worktree", "remove", "--force", wt).Run()
		_ = os.RemoveAll(tmp)
		_ = exec.CommandContext(ctx, "git", "-C", repo, "worktree", "prune").Run()
	}
	if _, err := git("worktree", "add", "--detach", wt, strings.TrimSpace(string(commit))); err != nil {
		return "", cleanup, err
	}
	if samePins(repo, wt) {
		for _, d := range []string{"node_modules", ".gen"} {
			if _, err := os.Stat(filepath.Join(repo, d)); err == nil {
				if err := os.Symlink(filepath.Join(repo, d), filepath.Join(wt, d)); err != nil {
					return "", cleanup, err
				}
			}
		}
	}
	if err := synth(ctx, wt, env); err != nil {
		return "", cleanup, err
	}
	return filepath.Join(wt, "cdktf.out"), cleanup, nil
}

// samePins reports whether two checkouts pin the same npm packages, so one
// node_modules and one set of generated bindings serve both.
func samePins(a, b string) bool {
	for _, f := range []string{"package.json", "package-lock.json"} {
		x, errA := os.ReadFile(filepath.Join(a, f))
		y, errB := os.ReadFile(filepath.Join(b, f))
		if errA != nil || errB != nil || string(x) != string(y) {
			return false
		}
	}
	return true
}

// ErrNoStacks is returned by CompareDirs when neither side has the env.
var ErrNoStacks = errors.New("neither synth has stacks of the env")

// CompareDirs estimates env in two synth outputs and compares them. A side
// without any stack of env counts as empty (a PR that adds the first
// stack of an env, or removes the last), unless both are empty.
func CompareDirs(baseDir, headDir, env, baseLabel, headLabel string) (*Comparison, error) {
	est := func(dir string) (*Estimate, bool, error) {
		docs, ids, err := Load(dir, env)
		if errors.Is(err, ErrNotSynthesized) {
			return &Estimate{Env: env}, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		e, err := Compute(env, docs, ids)
		return e, true, err
	}
	base, okBase, err := est(baseDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", baseLabel, err)
	}
	head, okHead, err := est(headDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", headLabel, err)
	}
	if !okBase && !okHead {
		return nil, fmt.Errorf("%w %s (%s, %s)", ErrNoStacks, env, baseDir, headDir)
	}
	return Compare(base, head, baseLabel, headLabel), nil
}
