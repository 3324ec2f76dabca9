package wait

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeClock advances only when the waiter sleeps, so timeouts are exact.
type fakeClock struct{ now time.Time }

func (c *fakeClock) opts() Options {
	return Options{Interval: 5 * time.Second, Now: func() time.Time { return c.now },
		Sleep: func(_ context.Context, d time.Duration) error { c.now = c.now.Add(d); return nil }}
}

// GIVEN a condition that never holds WHEN the timeout passes THEN Until
// stops with a TimeoutError carrying the last status, after printing
// elapsed/timeout on every poll.
func TestUntilTimesOutWithLastStatus(t *testing.T) {
	c := &fakeClock{now: time.Unix(0, 0)}
	var out bytes.Buffer
	polls := 0
	err := Until(context.Background(), &out, "queue drained", 12*time.Second, c.opts(), func(context.Context) (bool, string, error) {
		polls++
		return false, "2 in flight", nil
	})
	var te *TimeoutError
	if !errors.As(err, &te) || te.Status != "2 in flight" {
		t.Fatalf("want TimeoutError with last status, got %v", err)
	}
	if polls != 4 { // at 0s, 5s, 10s, 15s (>= 12s) -> stop
		t.Fatalf("polls = %d, want 4", polls)
	}
	if !strings.Contains(out.String(), "elapsed 15s / timeout 12s") {
		t.Fatalf("progress lines must show elapsed and timeout:\n%s", out.String())
	}
}

// GIVEN a condition that holds on the third poll THEN Until returns nil.
func TestUntilReturnsWhenDone(t *testing.T) {
	c := &fakeClock{now: time.Unix(0, 0)}
	n := 0
	err := Until(context.Background(), &bytes.Buffer{}, "x", time.Minute, c.opts(), func(context.Context) (bool, string, error) {
		n++
		return n == 3, "n", nil
	})
	if err != nil || n != 3 {
		t.Fatalf("err=%v n=%d", err, n)
	}
}

// GIVEN a poll error THEN waiting stops at once with that error.
func TestUntilStopsOnError(t *testing.T) {
	c := &fakeClock{now: time.Unix(0, 0)}
	boom := errors.New("access denied")
	err := Until(context.Background(), &bytes.Buffer{}, "x", time.Minute, c.opts(), func(context.Context) (bool, string, error) {
		return false, "", boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want the poll error, got %v", err)
	}
}
