package replay

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func msg(device, nonce string, at time.Time) edge.SyncMessage {
	return edge.SyncMessage{Device: device, Nonce: nonce, SentAt: at}
}

// The replay window, the key rule: a nonce reused by the same device
// within the window is a replay; another device may use the same nonce; a
// message older than the window is stale whatever its nonce; one from
// further ahead than the skew is refused too; nonces are forgotten once
// their messages would be stale anyway.
func TestReplayWindow(t *testing.T) {
	now := t0
	d := &Detector{Window: 5 * time.Minute, Skew: 30 * time.Second, Now: func() time.Time { return now }}
	assert.Equal(t, "", d.Check(msg("dev-1", "nonce-0000000000000001", now)))
	assert.Equal(t, edge.ReplayNonceReused, d.Check(msg("dev-1", "nonce-0000000000000001", now)))
	assert.Equal(t, "", d.Check(msg("dev-2", "nonce-0000000000000001", now)), "nonces are per device")
	now = t0.Add(4 * time.Minute)
	assert.Equal(t, edge.ReplayNonceReused, d.Check(msg("dev-1", "nonce-0000000000000001", t0.Add(4*time.Minute))), "still inside the window")
	assert.Equal(t, edge.ReplayStale, d.Check(msg("dev-1", "nonce-0000000000000002", now.Add(-5*time.Minute-time.Second))), "just outside the window")
	assert.Equal(t, "", d.Check(msg("dev-1", "nonce-0000000000000003", now.Add(-5*time.Minute+time.Second))), "just inside the window")
	assert.Equal(t, edge.ReplayFuture, d.Check(msg("dev-1", "nonce-0000000000000004", now.Add(31*time.Second))))
	assert.Equal(t, "", d.Check(msg("dev-1", "nonce-0000000000000005", now.Add(29*time.Second))), "within the skew")
	// 6 minutes later the first nonce is forgotten, but its message is stale
	now = t0.Add(10 * time.Minute)
	assert.Equal(t, edge.ReplayStale, d.Check(msg("dev-1", "nonce-0000000000000001", t0)))
}

// natsServer is an embedded server with JetStream and the SECURITY
// stream, as the edge stack configures it.
//
// The returned connection is the detector's: user security-detector with
// the permissions the callout grants it (edge.ServicePermissions) and its
// own reply inbox, as main.go connects. admin (no limits) sets up the
// streams and plays the agents.
func natsServer(t *testing.T) (*server.Server, *nats.Conn) {
	t.Helper()
	p := edge.ServicePermissions()[edge.UserSecurityDetector]
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true,
		Users: []*server.User{
			{Username: "admin", Password: "admin"},
			{Username: edge.UserSecurityDetector, Password: "detector", Permissions: &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: p.PublishAllow, Deny: p.PublishDeny},
				Subscribe: &server.SubjectPermission{Allow: p.SubscribeAllow, Deny: p.SubscribeDeny},
			}},
		}})
	require.NoError(t, err)
	go s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second))
	t.Cleanup(s.Shutdown)
	admin, err := nats.Connect(s.ClientURL(), nats.UserInfo("admin", "admin"))
	require.NoError(t, err)
	t.Cleanup(admin.Close)
	nc, err := nats.Connect(s.ClientURL(), nats.UserInfo(edge.UserSecurityDetector, "detector"),
		nats.CustomInboxPrefix(edge.ServiceInboxPrefix(edge.UserSecurityDetector)))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(admin)
	require.NoError(t, err)
	streams, err := edge.Streams(edge.MaxEnvelopeBytes, 1)
	require.NoError(t, err)
	for _, st := range streams {
		_, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: st.Name, Subjects: st.Subjects, MaxMsgSize: int32(st.MaxMsgSize), MaxAge: st.MaxAge})
		require.NoError(t, err)
	}
	return s, nc
}

// GIVEN the detector on a real NATS server WHEN a device resends a message
// THEN an alert lands on the SECURITY stream and the counter the alert
// reads goes up; a fresh message raises nothing; a malformed one is
// counted, not alerted.
func TestReplayRaisesAnAlertOnTheSecurityStream(t *testing.T) {
	_, nc := natsServer(t)
	now := time.Now().UTC()
	ks := kittest.New("edge-sync", 0)
	w := &Watcher{NC: nc, Detector: &Detector{Window: 5 * time.Minute, Skew: 30 * time.Second, Now: time.Now}, Log: ks.Log, PublishTimeout: 5 * time.Second}
	w.Register(prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	time.Sleep(200 * time.Millisecond)

	agent, err := nats.Connect(nc.ConnectedUrl(), nats.UserInfo("admin", "admin"))
	require.NoError(t, err)
	defer agent.Close()
	send := func(m edge.SyncMessage) {
		b, _ := json.Marshal(m)
		require.NoError(t, agent.Publish(edge.SubjectPeerSync, b))
	}
	send(msg("dev-7", "fresh-nonce-000000001", now))
	send(msg("dev-7", "fresh-nonce-000000001", now))
	require.NoError(t, agent.Publish(edge.SubjectPeerSync, []byte(`{"device":"dev-7"}`)))
	require.NoError(t, agent.Flush())

	js, _ := jetstream.New(agent)
	require.Eventually(t, func() bool {
		st, err := js.Stream(context.Background(), edge.StreamSecurity)
		if err != nil {
			return false
		}
		info, err := st.Info(context.Background())
		return err == nil && info.State.Msgs == 1
	}, 5*time.Second, 50*time.Millisecond, "one alert on stream SECURITY")
	st, _ := js.Stream(context.Background(), edge.StreamSecurity)
	raw, err := st.GetLastMsgForSubject(context.Background(), edge.SubjectReplayDetected)
	require.NoError(t, err)
	var alert edge.ReplayAlert
	require.NoError(t, json.Unmarshal(raw.Data, &alert))
	assert.Equal(t, "dev-7", alert.Device)
	assert.Equal(t, edge.ReplayNonceReused, alert.Reason)
	require.Eventually(t, func() bool { return testutil.ToFloat64(w.messages.WithLabelValues("malformed")) == 1 }, 2*time.Second, 20*time.Millisecond)
	assert.Equal(t, 1.0, testutil.ToFloat64(w.detected.WithLabelValues(edge.ReplayNonceReused)))
	assert.Equal(t, 1.0, testutil.ToFloat64(w.messages.WithLabelValues("fresh")))
	assert.Zero(t, testutil.ToFloat64(w.failed), "the acknowledgements reached the detector's own inbox")
	cancel()
	require.NoError(t, <-done)
}

// GIVEN the detector's user on the default reply inbox THEN its publish
// acknowledgement is refused by its permissions: why main.go connects
// with the user's own inbox prefix.
func TestTheDetectorNeedsItsOwnInbox(t *testing.T) {
	s, _ := natsServer(t)
	nc, err := nats.Connect(s.ClientURL(), nats.UserInfo(edge.UserSecurityDetector, "detector"))
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = js.Publish(ctx, edge.SubjectReplayDetected, []byte(`{}`))
	require.Error(t, err, "no acknowledgement can reach _INBOX.> for this user")
}
