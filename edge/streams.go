// Package edge models the Edge Sync contract of the edge additions: the
// subjects and JetStream streams agents exchange hints, claims and beacon
// updates on, and the limits that keep those exchanges small.
//
// The edge stack (stacks/edge.go) deploys these streams into NATS JetStream
// in namespace edge-sync; edge/natstest applies them to a real nats-server.
// Nothing here is specific to the marketplace, which is not built yet.
package edge

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Subjects named by the edge additions.
const (
	SubjectPeerSync       = "edge.peer.sync"
	SubjectBeaconUpdated  = "edge.beacon.updated"
	SubjectReplayDetected = "security.replay.detected"
)

// Device subject spaces. A device publishes its own peer-sync messages on
// edge.peer.sync.<id> and exchanges everything else addressed to or from it
// on edge.device.<id>.> (identity.go); those trees are captured by wildcard
// stream subjects, the only wildcards a stream may hold (DeviceTrees).
const (
	SubjectPeerSyncTree = SubjectPeerSync + ".>"
	SubjectDeviceTree   = "edge.device.>"
)

// DeviceTrees are the wildcard subjects a stream may capture: each is one
// device's own space, expanded over every device.
var DeviceTrees = []string{SubjectPeerSyncTree, SubjectDeviceTree}

// MaxEnvelopeBytes is the hard ceiling for hint/claim payloads (50 KB): small
// enough for satellite and LPWAN uplinks.
const MaxEnvelopeBytes = 50 * 1024

// Stream is one JetStream stream.
type Stream struct {
	Name     string
	Subjects []string
	// MaxMsgSize rejects larger messages at publish time.
	MaxMsgSize int
	// MaxAge bounds how long undelivered messages wait (store-and-forward).
	MaxAge time.Duration
	// Replicas is the JetStream replication factor (1 in dev, 3 in prod).
	Replicas int
}

// Stream names. Each subject has a stream of its own, so JetStream's
// per-stream metrics (message counts, bytes, consumer lag) measure one kind
// of traffic each: the beacon-updates dashboard reads BEACONS alone.
const (
	StreamEdge     = "EDGE"
	StreamBeacons  = "BEACONS"
	StreamSecurity = "SECURITY"
	// StreamDevices keeps what is addressed to or sent by one device
	// (edge.device.<id>.>) while it is offline on a DTN uplink.
	StreamDevices = "DEVICES"
)

// Streams returns the edge streams for an environment: peer sync in EDGE
// (the shared subject and every device's edge.peer.sync.<id>), beacon
// updates in BEACONS, per-device traffic in DEVICES, replay alerts in
// SECURITY (kept longer, for forensics).
func Streams(envelopeMaxBytes int, replicas int) ([]Stream, error) {
	if envelopeMaxBytes < 1 || envelopeMaxBytes > MaxEnvelopeBytes {
		return nil, fmt.Errorf("edge: envelopeMaxBytes=%d must be between 1 and %d (50 KB)", envelopeMaxBytes, MaxEnvelopeBytes)
	}
	if replicas != 1 && replicas != 3 && replicas != 5 {
		return nil, fmt.Errorf("edge: replicas=%d must be 1, 3 or 5 (JetStream needs an odd quorum)", replicas)
	}
	out := []Stream{
		{Name: StreamEdge, Subjects: []string{SubjectPeerSync, SubjectPeerSyncTree}, MaxMsgSize: envelopeMaxBytes, MaxAge: 72 * time.Hour, Replicas: replicas},
		{Name: StreamBeacons, Subjects: []string{SubjectBeaconUpdated}, MaxMsgSize: envelopeMaxBytes, MaxAge: 72 * time.Hour, Replicas: replicas},
		{Name: StreamDevices, Subjects: []string{SubjectDeviceTree}, MaxMsgSize: envelopeMaxBytes, MaxAge: 72 * time.Hour, Replicas: replicas},
		{Name: StreamSecurity, Subjects: []string{SubjectReplayDetected}, MaxMsgSize: envelopeMaxBytes, MaxAge: 30 * 24 * time.Hour, Replicas: replicas},
	}
	return out, validate(out)
}

// validate refuses streams whose subjects overlap: JetStream rejects a
// second stream capturing a subject the first already owns. Wildcards are
// refused except the per-device trees (DeviceTrees).
func validate(streams []Stream) error {
	type owned struct{ subject, stream string }
	var seen []owned
	for _, s := range streams {
		for _, subj := range s.Subjects {
			if strings.ContainsAny(subj, "*>") && !slices.Contains(DeviceTrees, subj) {
				return fmt.Errorf("edge: stream %s subject %q: use exact subjects, wildcards capture traffic meant for others", s.Name, subj)
			}
			for _, o := range seen {
				if subjectsOverlap(o.subject, subj) {
					return fmt.Errorf("edge: subject %q is in both %s and %s", subj, o.stream, s.Name)
				}
			}
			seen = append(seen, owned{subj, s.Name})
		}
	}
	return nil
}

// subjectsOverlap reports whether some subject matches both a and b, with
// NATS's rules: '*' matches one token, a final '>' one or more.
func subjectsOverlap(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(at) && i < len(bt); i++ {
		if at[i] == ">" || bt[i] == ">" {
			return true
		}
		if at[i] != bt[i] && at[i] != "*" && bt[i] != "*" {
			return false
		}
	}
	return len(at) == len(bt)
}
