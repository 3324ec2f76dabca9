// Package replay is edge-sync's replay detector: it reads every
// edge.peer.sync message, and a message whose nonce the same device used
// within the window, or whose timestamp is older than the window (or
// further in the future than the clock skew allows), is a replay: it
// publishes a security.replay.detected alert (stream SECURITY) and counts
// it in edge_replay_detected_total{reason}, the series the
// EdgeReplayDetected alert reads.
//
// Nonces are remembered for one window. A message older than the window
// is refused by its timestamp, so remembering longer adds nothing; after a
// restart the memory is empty, and only a replay of a message from the
// last window could pass once (the limit is stated in
// docs/edge-sync-security.md).
package replay

import (
	"sync"
	"time"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// Detector remembers nonces per device for one window.
type Detector struct {
	// Window is how old a message may be, and how long a nonce is remembered.
	Window time.Duration
	// Skew is how far in the future a sender's clock may run.
	Skew time.Duration
	Now  func() time.Time

	mu     sync.Mutex
	seen   map[string]time.Time // device + "/" + nonce -> first seen
	checks int
}

// Check returns "" for a fresh message, or the replay reason.
func (d *Detector) Check(m edge.SyncMessage) string {
	now := d.Now()
	switch {
	case m.SentAt.Before(now.Add(-d.Window)):
		return edge.ReplayStale
	case m.SentAt.After(now.Add(d.Skew)):
		return edge.ReplayFuture
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen == nil {
		d.seen = map[string]time.Time{}
	}
	d.checks++
	if d.checks%1024 == 0 {
		for k, at := range d.seen {
			if at.Before(now.Add(-d.Window - d.Skew)) {
				delete(d.seen, k)
			}
		}
	}
	key := m.Device + "/" + m.Nonce
	if at, ok := d.seen[key]; ok && !at.Before(now.Add(-d.Window-d.Skew)) {
		return edge.ReplayNonceReused
	}
	d.seen[key] = now
	return ""
}

// Remembered is how many nonces the detector holds.
func (d *Detector) Remembered() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.seen)
}
