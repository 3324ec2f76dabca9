package edge

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// SyncMessage is what every edge.peer.sync message carries for replay
// detection: the sending device, a nonce it never uses twice, and when it
// sent the message. The rest of the message (the hint or claim) is the
// agents' business and is not read here.
type SyncMessage struct {
	Device string    `json:"device"`
	Nonce  string    `json:"nonce"`
	SentAt time.Time `json:"sentAt"`
}

var nonceRe = regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`)

// ErrBadSyncMessage is wrapped by ParseSyncMessage.
var ErrBadSyncMessage = errors.New("not a peer sync message")

// ParseSyncMessage reads the replay fields of a peer sync message.
func ParseSyncMessage(data []byte) (SyncMessage, error) {
	var m SyncMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%w: %v", ErrBadSyncMessage, err)
	}
	switch {
	case !ValidDeviceID(m.Device):
		return m, fmt.Errorf("%w: device %q", ErrBadSyncMessage, m.Device)
	case !nonceRe.MatchString(m.Nonce):
		return m, fmt.Errorf("%w: nonce must be 16-128 characters of A-Z a-z 0-9 _ -", ErrBadSyncMessage)
	case m.SentAt.IsZero():
		return m, fmt.Errorf("%w: sentAt is required", ErrBadSyncMessage)
	}
	return m, nil
}

// ReplayAlert is what the detector publishes on security.replay.detected.
type ReplayAlert struct {
	Device     string    `json:"device"`
	Nonce      string    `json:"nonce"`
	Reason     string    `json:"reason"`
	SentAt     time.Time `json:"sentAt"`
	DetectedAt time.Time `json:"detectedAt"`
}

// Replay reasons.
const (
	ReplayNonceReused = "nonce_reused"
	ReplayStale       = "stale"
	ReplayFuture      = "future"
)
