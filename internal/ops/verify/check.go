// Package verify runs the guide's E1 exit checklist (E1.1–E1.5) and the
// edge pieces that exist against a live environment, one result per check,
// each failure with its reason and the matching fix from the guide's
// "Common Pitfalls".
package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Check is one item of the checklist.
type Check struct {
	// ID is stable for machines, e.g. "e1.2/packs/versioning".
	ID string `json:"id"`
	// Section is the guide's section: E1.1 … E1.5 or Edge.
	Section string `json:"section"`
	// Title says what is checked, in the checklist's words.
	Title string `json:"title"`
	// Fix is the remedy shown when the check fails.
	Fix string `json:"-"`
	// Cluster marks a check that needs the Kubernetes API: it is not run
	// when the cluster did not answer the preflight.
	Cluster bool `json:"-"`
	// Run returns a short detail on success, the reason it failed, or a
	// NotRunError when it could not look.
	Run func(ctx context.Context) (detail string, err error) `json:"-"`
}

// Status is a check's outcome.
type Status string

// The three outcomes. "not run" means the check could not observe what it
// checks (no access, no answer, a prerequisite missing): it says nothing
// about the environment, and never carries a fix that guesses a cause.
const (
	Passed Status = "passed"
	Failed Status = "failed"
	NotRun Status = "not run"
)

// Result is the outcome of one check.
type Result struct {
	ID      string `json:"id"`
	Section string `json:"section"`
	Title   string `json:"title"`
	// OK is Status == passed (kept for scripts written before Status).
	OK     bool   `json:"ok"`
	Status Status `json:"status"`
	// Detail is what was found (passed, failed) or why the check could not
	// look (not run).
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Report is every result of one run.
type Report struct {
	Env    string `json:"env"`
	Passed int    `json:"passed"`
	Failed int    `json:"failed"`
	NotRun int    `json:"notRun"`
	// Problem is what the preflight found that stops some or all checks
	// (credentials, region, cluster); nil when nothing did.
	Problem *Problem `json:"problem,omitempty"`
	// Interrupted names the signal that ended the run early, if any.
	Interrupted string   `json:"interrupted,omitempty"`
	Results     []Result `json:"results"`
}

// Exit codes of `spctl verify`, documented in docs/spctl-verify.md and in
// the command's help.
const (
	ExitOK          = 0 // every check ran and passed
	ExitFailed      = 1 // a check ran and found something wrong
	ExitCredentials = 3 // no AWS credentials, expired or rejected: nothing checked
	ExitRegion      = 4 // AWS does not answer in the region, or the env is not in it: nothing checked
	ExitCluster     = 5 // the cluster's API is unreachable or refuses us: in-cluster checks not run
	ExitNotRun      = 6 // some checks could not run (none failed)
)

// OK reports whether every check ran and passed.
func (r *Report) OK() bool { return r.Failed == 0 && r.NotRun == 0 && r.Problem == nil }

// ExitCode is the command's exit status for this report. A preflight
// problem comes first (it is the first thing to fix, and what it blocked
// is "not run"), then a failure, then checks that could not run. An
// interruption is the caller's (128+signal).
func (r *Report) ExitCode() int {
	switch {
	case r.Problem != nil:
		return r.Problem.Code
	case r.Failed > 0:
		return ExitFailed
	case r.NotRun > 0:
		return ExitNotRun
	}
	return ExitOK
}

// NotRunError is a check that could not look: it says why.
type NotRunError struct{ Reason string }

func (e *NotRunError) Error() string { return e.Reason }

// notRunf returns a NotRunError.
func notRunf(format string, args ...any) error {
	return &NotRunError{Reason: fmt.Sprintf(format, args...)}
}

// DefaultCheckTimeout bounds one check when Options.CheckTimeout is 0.
const DefaultCheckTimeout = 30 * time.Second

// Options tune Run.
type Options struct {
	// CheckTimeout bounds each check (all its calls); a check still
	// waiting then is reported not run. 0 means DefaultCheckTimeout.
	CheckTimeout time.Duration
	// Problem is the preflight's finding: with a credentials or region
	// problem no check runs; with a cluster problem the in-cluster checks
	// do not.
	Problem *Problem
	// Interrupted, when ctx ends early, names the cause ("SIGINT").
	Interrupted func() string
}

// Run executes checks in order; a failing check never stops the others.
// Each check runs under its own deadline, and Run returns as soon as a
// check's deadline or ctx passes even if the check ignores its context:
// the rest are then reported not run.
func Run(ctx context.Context, env string, checks []Check, opts ...Options) *Report {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	rep := &Report{Env: env, Problem: o.Problem, Results: make([]Result, 0, len(checks))}
	for _, c := range checks {
		res := Result{ID: c.ID, Section: c.Section, Title: c.Title}
		var detail string
		var err error
		switch {
		case ctx.Err() != nil:
			err = notRunf("interrupted before this check%s", interruptedBy(o))
		case o.Problem != nil && (o.Problem.Code != ExitCluster || c.Cluster):
			err = &NotRunError{Reason: o.Problem.Short}
		default:
			detail, err = runBounded(ctx, c, o.CheckTimeout)
			if err != nil && ctx.Err() != nil {
				err = notRunf("interrupted%s: %v", interruptedBy(o), err)
			}
		}
		var nr *NotRunError
		switch {
		case err == nil:
			res.OK, res.Status, res.Detail = true, Passed, detail
			rep.Passed++
		case errors.As(err, &nr):
			res.Status, res.Detail = NotRun, err.Error()
			rep.NotRun++
		default:
			res.Status, res.Detail, res.Fix = Failed, err.Error(), c.Fix
			rep.Failed++
		}
		rep.Results = append(rep.Results, res)
	}
	if ctx.Err() != nil {
		rep.Interrupted = strings.TrimPrefix(interruptedBy(o), " by ")
		if rep.Interrupted == "" {
			rep.Interrupted = ctx.Err().Error()
		}
	}
	return rep
}

func interruptedBy(o Options) string {
	if o.Interrupted != nil {
		if s := o.Interrupted(); s != "" {
			return " by " + s
		}
	}
	return ""
}

// runBounded runs one check under its deadline and gives up waiting for it
// when the deadline passes (a call that ignores its context cannot hold
// the run).
func runBounded(ctx context.Context, c Check, timeout time.Duration) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type answer struct {
		detail string
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		d, err := safeRun(cctx, c)
		done <- answer{d, err}
	}()
	select {
	case a := <-done:
		if a.err != nil && cctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			return "", notRunf("no answer within %s: %v", timeout, a.err)
		}
		return a.detail, a.err
	case <-cctx.Done():
		if ctx.Err() != nil {
			return "", notRunf("stopped: %v", ctx.Err())
		}
		return "", notRunf("no answer within %s", timeout)
	}
}

// safeRun turns a panic in one check (an unexpected nil in an API answer)
// into that check's failure instead of losing the whole report.
func safeRun(ctx context.Context, c Check) (detail string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("check crashed: %v", r)
		}
	}()
	return c.Run(ctx)
}

// WriteText prints the preflight problem first, then one line per check
// (✅ passed, ❌ failed, ⏭ not run), the fix under a failure, and a summary.
func (r *Report) WriteText(w io.Writer) {
	if r.Problem != nil {
		fmt.Fprintf(w, "%s\n", r.Problem.Message)
		if r.Problem.Code != ExitCluster {
			return // nothing was checked: the one line says why
		}
	}
	section := ""
	for _, res := range r.Results {
		if res.Section != section {
			section = res.Section
			fmt.Fprintf(w, "%s\n", section)
		}
		mark := map[Status]string{Passed: "✅", Failed: "❌", NotRun: "⏭ "}[res.Status]
		label := ""
		if res.Status == NotRun {
			label = "not run: "
		}
		fmt.Fprintf(w, "  %s %s — %s%s\n", mark, res.Title, label, res.Detail)
		if res.Status == Failed && res.Fix != "" {
			fmt.Fprintf(w, "       fix: %s\n", strings.ReplaceAll(res.Fix, "\n", "\n            "))
		}
	}
	fmt.Fprintf(w, "%s: %d passed, %d failed, %d not run", r.Env, r.Passed, r.Failed, r.NotRun)
	if r.Interrupted != "" {
		fmt.Fprintf(w, " (interrupted by %s)", r.Interrupted)
	}
	fmt.Fprintln(w)
	if r.Problem != nil {
		fmt.Fprintf(w, "%s\n", r.Problem.Message)
	}
}

// WriteJSON prints the report for machines.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// failf is a check failure with a formatted reason.
func failf(format string, args ...any) error { return fmt.Errorf(format, args...) }
