// Package natstest applies the edge stream definitions — the exact JSON the
// edge stack's Job hands to `nats stream add` — to a real NATS server of
// the deployed version (2.11), with the deployed max_payload, and checks
// the behaviour agents rely on.
package natstest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// startServer runs JetStream with the chart's max_payload on a random
// loopback port, as the edge stack configures it.
func startServer(t *testing.T) *nats.Conn {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		MaxPayload: int32(edge.MaxEnvelopeBytes), NoSigs: true,
	})
	require.NoError(t, err)
	go s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second), "nats-server did not start")
	t.Cleanup(s.Shutdown)
	nc, err := nats.Connect(s.ClientURL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

// applyStreams decodes each definition strictly into JetStream's own
// StreamConfig (a misspelt field fails here, not in production) and adds it.
func applyStreams(t *testing.T, js nats.JetStreamContext) map[string]*nats.StreamConfig {
	t.Helper()
	streams, err := edge.Streams(edge.MaxEnvelopeBytes, 1)
	require.NoError(t, err)
	files, err := edge.StreamConfigs(streams)
	require.NoError(t, err)
	out := map[string]*nats.StreamConfig{}
	for name, body := range files {
		var cfg nats.StreamConfig
		dec := json.NewDecoder(strings.NewReader(body))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&cfg), name)
		info, err := js.AddStream(&cfg)
		require.NoError(t, err, name)
		// applying the same definition again is a no-op, as the Job does on re-runs
		_, err = js.AddStream(&cfg)
		require.NoError(t, err, "re-applying %s", name)
		out[info.Config.Name] = &info.Config
	}
	return out
}

func TestEdgeStreamsOnARealServer(t *testing.T) {
	nc := startServer(t)
	js, err := nc.JetStream()
	require.NoError(t, err)
	applied := applyStreams(t, js)

	require.Contains(t, applied, "EDGE")
	require.Contains(t, applied, "BEACONS")
	require.Contains(t, applied, "SECURITY")
	assert.Equal(t, int32(51200), applied["EDGE"].MaxMsgSize)
	assert.Equal(t, nats.FileStorage, applied["EDGE"].Storage)
	assert.Equal(t, 72*time.Hour, applied["EDGE"].MaxAge)
	assert.Equal(t, 2*time.Minute, applied["EDGE"].Duplicates)

	// a beacon update lands in BEACONS, a replay alert in SECURITY
	ack, err := js.Publish(edge.SubjectBeaconUpdated, []byte(`{"beacon":"b-1","packet":"p-9"}`))
	require.NoError(t, err)
	assert.Equal(t, "BEACONS", ack.Stream)
	ack, err = js.Publish(edge.SubjectReplayDetected, []byte(`{"device":"d-7"}`))
	require.NoError(t, err)
	assert.Equal(t, "SECURITY", ack.Stream)
}

func TestEnvelopeLimitIsEnforced(t *testing.T) {
	nc := startServer(t)
	js, err := nc.JetStream()
	require.NoError(t, err)
	applyStreams(t, js)

	// a 40 KB hint is within the envelope: accepted
	_, err = js.Publish(edge.SubjectPeerSync, bytes.Repeat([]byte("x"), 40*1024))
	require.NoError(t, err)
	// over the 50 KB envelope: refused before it reaches the stream
	_, err = js.Publish(edge.SubjectPeerSync, bytes.Repeat([]byte("x"), 60*1024))
	require.Error(t, err)
	assert.ErrorIs(t, err, nats.ErrMaxPayload)
}

func TestRetriedUplinksAreDeduplicated(t *testing.T) {
	nc := startServer(t)
	js, err := nc.JetStream()
	require.NoError(t, err)
	applyStreams(t, js)

	for i := 0; i < 3; i++ { // an uplink retrying the same hint after timeouts
		_, err := js.Publish(edge.SubjectPeerSync, []byte(`{"hint":"h-1"}`), nats.MsgId("hint-h-1"))
		require.NoError(t, err)
	}
	info, err := js.StreamInfo("EDGE")
	require.NoError(t, err)
	assert.Equal(t, uint64(1), info.State.Msgs, "the duplicate window keeps one copy")
}
