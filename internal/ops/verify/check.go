// Package verify runs the guide's E1 exit checklist (E1.1–E1.5) and the
// edge pieces that exist against a live environment, one result per check,
// each failure with its reason and the matching fix from the guide's
// "Common Pitfalls".
package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
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
	// Run returns a short detail on success or the reason it failed.
	Run func(ctx context.Context) (detail string, err error) `json:"-"`
}

// Result is the outcome of one check.
type Result struct {
	ID      string `json:"id"`
	Section string `json:"section"`
	Title   string `json:"title"`
	OK      bool   `json:"ok"`
	// Detail is what was found (success) or the reason (failure).
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Report is every result of one run.
type Report struct {
	Env     string   `json:"env"`
	Passed  int      `json:"passed"`
	Failed  int      `json:"failed"`
	Results []Result `json:"results"`
}

// OK reports whether every check passed.
func (r *Report) OK() bool { return r.Failed == 0 }

// Run executes checks in order; a failing check never stops the others.
func Run(ctx context.Context, env string, checks []Check) *Report {
	rep := &Report{Env: env, Results: make([]Result, 0, len(checks))}
	for _, c := range checks {
		detail, err := safeRun(ctx, c)
		res := Result{ID: c.ID, Section: c.Section, Title: c.Title, OK: err == nil, Detail: detail}
		if err != nil {
			res.Detail, res.Fix = err.Error(), c.Fix
			rep.Failed++
		} else {
			rep.Passed++
		}
		rep.Results = append(rep.Results, res)
	}
	return rep
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

// WriteText prints one line per check (✅/❌), the reason and fix under a
// failure, and a summary line.
func (r *Report) WriteText(w io.Writer) {
	section := ""
	for _, res := range r.Results {
		if res.Section != section {
			section = res.Section
			fmt.Fprintf(w, "%s\n", section)
		}
		mark := "✅"
		if !res.OK {
			mark = "❌"
		}
		fmt.Fprintf(w, "  %s %s — %s\n", mark, res.Title, res.Detail)
		if !res.OK && res.Fix != "" {
			fmt.Fprintf(w, "       fix: %s\n", strings.ReplaceAll(res.Fix, "\n", "\n            "))
		}
	}
	fmt.Fprintf(w, "%s: %d passed, %d failed\n", r.Env, r.Passed, r.Failed)
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
