package edge

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStreamsCarryTheEdgeSubjectsAndEnvelopeLimit(t *testing.T) {
	streams, err := Streams(MaxEnvelopeBytes, 3)
	require.NoError(t, err)
	subjects := map[string]string{}
	for _, s := range streams {
		assert.Equal(t, 51200, s.MaxMsgSize, "hint/claim payloads are capped at 50 KB")
		assert.Equal(t, 3, s.Replicas)
		for _, subj := range s.Subjects {
			subjects[subj] = s.Name
		}
	}
	assert.Equal(t, map[string]string{
		"edge.peer.sync": "EDGE", "edge.peer.sync.>": "EDGE", "edge.beacon.updated": "BEACONS",
		"edge.device.>": "DEVICES", "security.replay.detected": "SECURITY",
	}, subjects)
	assert.Equal(t, 30*24*time.Hour, streams[3].MaxAge, "replay alerts are kept for investigation")
}

func TestStreamsRejectBadLimits(t *testing.T) {
	_, err := Streams(60*1024, 1)
	require.EqualError(t, err, "edge: envelopeMaxBytes=61440 must be between 1 and 51200 (50 KB)")
	_, err = Streams(1024, 2)
	require.EqualError(t, err, "edge: replicas=2 must be 1, 3 or 5 (JetStream needs an odd quorum)")
}

func TestOverlappingSubjectsAreRefused(t *testing.T) {
	err := validate([]Stream{{Name: "A", Subjects: []string{"edge.peer.sync"}}, {Name: "B", Subjects: []string{"edge.peer.sync"}}})
	require.EqualError(t, err, `edge: subject "edge.peer.sync" is in both A and B`)
	err = validate([]Stream{{Name: "A", Subjects: []string{"edge.>"}}})
	require.EqualError(t, err, `edge: stream A subject "edge.>": use exact subjects, wildcards capture traffic meant for others`)
	// the device trees are the only wildcards, and may not overlap an exact subject
	err = validate([]Stream{{Name: "A", Subjects: []string{"edge.device.x.up"}}, {Name: "B", Subjects: []string{SubjectDeviceTree}}})
	require.EqualError(t, err, `edge: subject "edge.device.>" is in both A and B`)
	// "edge.peer.sync.>" needs a token after sync, so it and "edge.peer.sync" never overlap
	assert.NoError(t, validate([]Stream{{Name: "A", Subjects: []string{SubjectPeerSync, SubjectPeerSyncTree}}}))
}
