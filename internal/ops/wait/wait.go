// Package wait polls a condition with visible progress: what is awaited,
// its current status, the time elapsed and the timeout, one line per poll,
// so an operator at 3 a.m. can tell a slow step from a hung one.
package wait

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Poll is one look at the awaited condition: done, a short status for the
// progress line ("3 visible, 1 in flight"), or an error that stops waiting.
type Poll func(ctx context.Context) (done bool, status string, err error)

// Options tune Until. Zero values mean: Interval 10s, Now time.Now,
// Sleep a context-aware sleep.
type Options struct {
	Interval time.Duration
	Now      func() time.Time
	Sleep    func(ctx context.Context, d time.Duration) error
}

// TimeoutError says what was still pending when the timeout passed.
type TimeoutError struct {
	What    string
	Status  string
	Timeout time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("timed out after %s waiting for %s (last status: %s)", e.Timeout, e.What, e.Status)
}

// Until polls until done, an error, ctx's end or timeout, writing a
// progress line to out after every poll.
func Until(ctx context.Context, out io.Writer, what string, timeout time.Duration, opts Options, poll Poll) error {
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	start := opts.Now()
	for {
		done, status, err := poll(ctx)
		elapsed := opts.Now().Sub(start).Round(time.Second)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		fmt.Fprintf(out, "  … %s: %s (elapsed %s / timeout %s)\n", what, status, elapsed, timeout)
		if done {
			return nil
		}
		if opts.Now().Sub(start) >= timeout {
			return &TimeoutError{What: what, Status: status, Timeout: timeout}
		}
		if err := opts.Sleep(ctx, opts.Interval); err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
