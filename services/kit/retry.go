package kit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Retry bounds one outbound call: every attempt has its own deadline, the
// number of attempts is capped, and the waits between them grow
// exponentially with full jitter (a random wait up to the cap), so a fleet
// of clients that failed together does not retry together.
type Retry struct {
	// Attempts is the total number of tries (at least 1).
	Attempts int
	// PerCall is the deadline of each attempt.
	PerCall time.Duration
	// Base is the backoff cap before the second attempt; it doubles per
	// attempt up to Max.
	Base, Max time.Duration
}

// DefaultRetry: 3 attempts of at most 5 s each, waits up to 0.2 s then 0.4 s.
// The worst case is about 15.6 s, inside every caller's own deadline.
var DefaultRetry = Retry{Attempts: 3, PerCall: 5 * time.Second, Base: 200 * time.Millisecond, Max: 2 * time.Second}

type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// Permanent marks an error that another attempt cannot fix (a refusal, a
// 4xx answer); Do returns it at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Do calls fn until it succeeds, returns a Permanent error, the attempts
// are used up, or ctx ends. The returned error says how many attempts ran.
func (r Retry) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	attempts := max(r.Attempts, 1)
	for attempt := 1; ; attempt++ {
		call, cancel := context.WithTimeout(ctx, r.PerCall)
		err := fn(call)
		cancel()
		if err == nil {
			return nil
		}
		if IsPermanent(err) || attempt >= attempts || ctx.Err() != nil {
			return fmt.Errorf("after %d attempt(s): %w", attempt, err)
		}
		limit := min(r.Max, r.Base<<(attempt-1))
		wait := time.Duration(rand.Int64N(int64(limit) + 1))
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %d attempt(s): %w (then %w)", attempt, err, ctx.Err())
		case <-time.After(wait):
		}
	}
}
