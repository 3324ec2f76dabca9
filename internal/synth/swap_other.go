//go:build !linux

package synth

import "errors"

var errExchangeUnsupported = errors.New("atomic exchange is not supported here")

// exchange is Linux-only; elsewhere swap renames the old output aside
// first, and the next run puts it back if the process dies in between.
func exchange(a, b string) error { return errExchangeUnsupported }
