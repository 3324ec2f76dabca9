package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// Watcher subscribes to edge.peer.sync and raises replay alerts.
type Watcher struct {
	NC       *nats.Conn
	Detector *Detector
	Log      *slog.Logger
	// PublishTimeout bounds each alert's publish and its stream ack.
	PublishTimeout time.Duration

	js       jetstream.JetStream
	messages *prometheus.CounterVec
	detected *prometheus.CounterVec
	failed   prometheus.Counter
}

// Register adds edge_sync_messages_total{result},
// edge_replay_detected_total{reason} and edge_replay_alert_failures_total.
func (w *Watcher) Register(reg prometheus.Registerer) {
	w.messages = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edge_sync_messages_total",
		Help: "edge.peer.sync messages checked, by result (fresh, replay, malformed)."}, []string{"result"})
	w.detected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "edge_replay_detected_total",
		Help: "Replays detected on edge.peer.sync, by reason; each was published on security.replay.detected."}, []string{"reason"})
	w.failed = prometheus.NewCounter(prometheus.CounterOpts{Name: "edge_replay_alert_failures_total",
		Help: "Replay alerts that could not be published to the SECURITY stream."})
	for _, r := range []string{"fresh", "replay", "malformed"} {
		w.messages.WithLabelValues(r)
	}
	for _, r := range []string{edge.ReplayNonceReused, edge.ReplayStale, edge.ReplayFuture} {
		w.detected.WithLabelValues(r)
	}
	reg.MustRegister(w.messages, w.detected, w.failed)
}

// Run subscribes until ctx ends. Each message is checked in order on one
// goroutine; alerts are published to JetStream and wait for the SECURITY
// stream's ack, each within PublishTimeout.
func (w *Watcher) Run(ctx context.Context) error {
	js, err := jetstream.New(w.NC)
	if err != nil {
		return err
	}
	w.js = js
	msgs := make(chan *nats.Msg, 1024)
	sub, err := w.NC.ChanSubscribe(edge.SubjectPeerSync, msgs)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", edge.SubjectPeerSync, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-msgs:
			w.Handle(ctx, m.Data)
		}
	}
}

// Handle checks one message and raises an alert for a replay.
func (w *Watcher) Handle(ctx context.Context, data []byte) {
	m, err := edge.ParseSyncMessage(data)
	if err != nil {
		w.messages.WithLabelValues("malformed").Inc()
		w.Log.WarnContext(ctx, "malformed peer sync message", "bytes", len(data), "reason", err.Error())
		return
	}
	reason := w.Detector.Check(m)
	if reason == "" {
		w.messages.WithLabelValues("fresh").Inc()
		return
	}
	w.messages.WithLabelValues("replay").Inc()
	w.detected.WithLabelValues(reason).Inc()
	w.Log.WarnContext(ctx, "replay detected", "device", m.Device, "reason", reason, "sentAt", m.SentAt)
	if err := w.alert(ctx, edge.ReplayAlert{Device: m.Device, Nonce: m.Nonce, Reason: reason, SentAt: m.SentAt, DetectedAt: w.Detector.Now().UTC()}); err != nil {
		w.failed.Inc()
		w.Log.ErrorContext(ctx, "replay alert not published", "device", m.Device, "error", err.Error())
	}
}

func (w *Watcher) alert(ctx context.Context, a edge.ReplayAlert) error {
	if w.js == nil {
		return errors.New("not running")
	}
	body, _ := json.Marshal(a)
	ctx, cancel := context.WithTimeout(ctx, w.PublishTimeout)
	defer cancel()
	msg := nats.NewMsg(edge.SubjectReplayDetected)
	msg.Data = body
	// The message id makes a redelivered alert a duplicate the stream drops.
	_, err := w.js.PublishMsg(ctx, msg, jetstream.WithMsgID(a.Device+"/"+a.Nonce+"/"+a.Reason), jetstream.WithExpectStream(edge.StreamSecurity))
	return err
}
