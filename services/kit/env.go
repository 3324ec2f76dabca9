package kit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Env reads a service's settings from its environment and collects every
// problem, so a misconfigured pod logs one line per bad variable (name,
// value, what is expected) instead of stopping at the first.
type Env struct {
	get  func(string) string
	errs []error
}

// NewEnv reads variables through get (os.Getenv in main, a map in tests).
func NewEnv(get func(string) string) *Env { return &Env{get: get} }

// String returns the variable, or def when it is unset or empty.
func (e *Env) String(name, def string) string {
	if v := strings.TrimSpace(e.get(name)); v != "" {
		return v
	}
	return def
}

// Required returns the variable; when it is unset, the error says what it
// is (why), e.g. "the DTN outbox queue URL (edge stack output dtn_queue_url)".
func (e *Env) Required(name, why string) string {
	v := strings.TrimSpace(e.get(name))
	if v == "" {
		e.errs = append(e.errs, fmt.Errorf("%s is required: %s", name, why))
	}
	return v
}

// Int returns the variable as an integer between lo and hi, or def.
func (e *Env) Int(name string, def, lo, hi int) int {
	raw := strings.TrimSpace(e.get(name))
	if raw == "" {
		return def
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < lo || v > hi {
		e.errs = append(e.errs, fmt.Errorf("%s=%q must be a whole number from %d to %d", name, raw, lo, hi))
		return def
	}
	return v
}

// Duration returns the variable as a Go duration ("15s", "5m") between lo
// and hi, or def.
func (e *Env) Duration(name string, def, lo, hi time.Duration) time.Duration {
	raw := strings.TrimSpace(e.get(name))
	if raw == "" {
		return def
	}
	v, err := time.ParseDuration(raw)
	if err != nil || v < lo || v > hi {
		e.errs = append(e.errs, fmt.Errorf("%s=%q must be a duration from %s to %s (e.g. %s)", name, raw, lo, hi, def))
		return def
	}
	return v
}

// List returns the comma-separated variable as trimmed, non-empty items.
func (e *Env) List(name string) []string {
	var out []string
	for _, s := range strings.Split(e.get(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Fail records a problem found while interpreting the settings.
func (e *Env) Fail(err error) { e.errs = append(e.errs, err) }

// Err is every problem found so far, or nil.
func (e *Env) Err() error { return errors.Join(e.errs...) }
