// Command edge-sync runs the replay detector (package replay) on the
// service kit: it subscribes to edge.peer.sync as NATS service user
// security-detector (the only user that may publish
// security.replay.detected) and raises an alert for every replayed or
// stale message.
//
// Configuration (environment), beside the kit's PORT, OPS_PORT, ...:
//
//	NATS_URL                                   tls://nats.edge-nats.svc:4222
//	NATS_CA_FILE, NATS_CERT_FILE, NATS_KEY_FILE  the security-detector client certificate
//	REPLAY_WINDOW                              how old a message may be (default 5m)
//	CLOCK_SKEW                                 how far ahead a sender's clock may run (default 30s)
package main

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/services/edge-sync/replay"
	"github.com/spatialprops/spatialprops-infra/services/kit"
)

func main() { kit.Program{Name: "edge-sync", Setup: setup}.Main() }

func setup(_ context.Context, env *kit.Env, s *kit.Service) error {
	url := env.Required("NATS_URL", "the edge-sync NATS server, e.g. tls://nats.edge-nats.svc:4222")
	ca, cert, key := env.String("NATS_CA_FILE", ""), env.String("NATS_CERT_FILE", ""), env.String("NATS_KEY_FILE", "")
	det := &replay.Detector{
		Window: env.Duration("REPLAY_WINDOW", 5*time.Minute, 10*time.Second, 24*time.Hour),
		Skew:   env.Duration("CLOCK_SKEW", 30*time.Second, 0, 10*time.Minute),
		Now:    time.Now,
	}
	if (ca == "") != (cert == "") || (cert == "") != (key == "") {
		env.Fail(errors.New("NATS_CA_FILE, NATS_CERT_FILE and NATS_KEY_FILE go together (all three, or none for a plaintext nats:// URL)"))
	}
	if env.Err() != nil {
		return nil
	}
	// Replies (JetStream's publish acknowledgements) come back on the
	// security-detector user's own inbox, the only one its permissions let
	// it read (edge.ServicePermissions).
	opts := []nats.Option{nats.Name("edge-sync"), nats.Timeout(5 * time.Second), nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1), nats.ReconnectWait(2 * time.Second),
		nats.CustomInboxPrefix(edge.ServiceInboxPrefix(edge.UserSecurityDetector))}
	if cert != "" {
		opts = append(opts, nats.RootCAs(ca), nats.ClientCert(cert, key))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return err
	}
	w := &replay.Watcher{NC: nc, Detector: det, Log: s.Log, PublishTimeout: 5 * time.Second}
	w.Register(s.Metrics)
	s.ReadyWhen("nats", func(context.Context) error {
		if !nc.IsConnected() {
			return errors.New("not connected to " + url)
		}
		return nil
	})
	s.Go("watch", func(ctx context.Context) error {
		defer nc.Close()
		return w.Run(ctx)
	})
	return nil
}
