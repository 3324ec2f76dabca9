package natstest

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/services/nats-auth/callout"
)

// bed is one environment's trust set-up in miniature: a root, a device CA
// (with OCSP) and a service CA under it, the callout's account key, and a
// nats-server started from edge.ServerConfig (the blocks the chart gets)
// with the real auth callout (services/nats-auth/callout) answering it.
type bed struct {
	t                     *testing.T
	dir                   string
	root, device, service *pki
	issuer                nkeys.KeyPair
	s                     *server.Server
	wsPort                int
}

func newBed(t *testing.T) *bed {
	t.Helper()
	dir := t.TempDir()
	root := newPKI(t, dir, "root")
	b := &bed{t: t, dir: dir, root: root,
		device: newCA(t, dir, "device-ca", root, true), service: newCA(t, dir, "service-ca", root, false)}
	var err error
	b.issuer, err = nkeys.CreateAccount()
	require.NoError(t, err)
	return b
}

// config renders the server config; mutate, when set, breaks it on purpose.
func (b *bed) config(opts edge.SecurityOptions, l edge.ServerListeners, routeCert *edge.TLSFiles, mutate func(map[string]any)) string {
	t := b.t
	pub, err := b.issuer.PublicKey()
	require.NoError(t, err)
	opts.CalloutIssuer = pub
	crt, key, _ := b.service.issue(fmt.Sprintf("server-%d", time.Now().UnixNano()), pkix.Name{CommonName: "nats.edge-nats.svc"}, "",
		x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	l.StoreDir = filepath.Join(t.TempDir(), "js")
	l.RouteCert = routeCert
	body, err := edge.ServerConfig(l, edge.ServerFiles{CertFile: crt, KeyFile: key, ServiceCA: b.service.caFile, DeviceCA: b.device.caFile}, opts)
	require.NoError(t, err)
	if mutate != nil {
		var m map[string]any
		require.NoError(t, json.Unmarshal(body, &m))
		mutate(m)
		body, err = edge.MarshalConf(m)
		require.NoError(t, err)
	}
	path := filepath.Join(t.TempDir(), "nats.conf")
	require.NoError(t, os.WriteFile(path, body, 0o600))
	return path
}

func runServer(t *testing.T, path string) *server.Server {
	t.Helper()
	o, err := server.ProcessConfigFile(path)
	body, _ := os.ReadFile(path)
	require.NoError(t, err, string(body))
	o.NoSigs = true
	s, err := server.NewServer(o)
	require.NoError(t, err)
	go s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second), "nats-server did not start")
	t.Cleanup(s.Shutdown)
	return s
}

// start runs the server and the callout. decide, when set, replaces the
// callout's rules (to show a test would notice a broken callout).
func (b *bed) start(opts edge.SecurityOptions, mutate func(map[string]any), decide func(string, [][]*x509.Certificate) (edge.Grant, error)) *server.Server {
	t := b.t
	b.wsPort = freePort(t)
	b.s = runServer(t, b.config(opts, edge.ServerListeners{Client: "127.0.0.1:-1", AgentsWS: b.wsPort}, nil, mutate))
	b.startCallout(b.s, decide)
	return b.s
}

func (b *bed) startCallout(s *server.Server, decide func(string, [][]*x509.Certificate) (edge.Grant, error)) {
	t := b.t
	cc, ck := b.service.serviceCert(edge.UserAuthCallout)
	nc, err := nats.Connect(s.ClientURL(), nats.RootCAs(b.root.caFile), nats.ClientCert(cc, ck), nats.MaxReconnects(0), nats.Timeout(5*time.Second))
	require.NoError(t, err, "the callout connects as its static user")
	t.Cleanup(nc.Close)
	r := &callout.Responder{Issuer: b.issuer, Anchors: edge.CalloutAnchors{Device: b.device.cert, Service: b.service.cert}, Decide: decide}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = callout.Serve(ctx, nc, r) }()
	require.Eventually(t, func() bool { return s.NumSubscriptions() > 0 && nc.IsConnected() }, 5*time.Second, 20*time.Millisecond)
	// the subscription reaches the server before the first client does
	require.NoError(t, nc.Flush())
	time.Sleep(50 * time.Millisecond)
}

type client struct {
	nc   *nats.Conn
	errs chan error
}

func dial(url, rootCA, cert, key, inbox string) (*client, error) {
	c := &client{errs: make(chan error, 16)}
	opts := []nats.Option{nats.ClientCert(cert, key), nats.RootCAs(rootCA),
		nats.MaxReconnects(0), nats.Timeout(5 * time.Second),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { c.errs <- err })}
	if inbox != "" {
		opts = append(opts, nats.CustomInboxPrefix(inbox))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, err
	}
	c.nc = nc
	return c, nil
}

// asDevice connects through the agents' (websocket) listener with the
// device's own inbox prefix, as an agent does.
func (b *bed) asDevice(cert, key, id string) (*client, error) {
	return dial(fmt.Sprintf("wss://127.0.0.1:%d", b.wsPort), b.root.caFile, cert, key, edge.DeviceInboxPrefix(id))
}

// asService connects on the in-cluster client port.
func (b *bed) asService(cert, key, user string) (*client, error) {
	return dial(b.s.ClientURL(), b.root.caFile, cert, key, edge.ServiceInboxPrefix(user))
}

func (b *bed) mustDevice(id string) *client {
	b.t.Helper()
	c, k, _ := b.device.deviceCert(id, "cohort-a")
	cl, err := b.asDevice(c, k, id)
	require.NoError(b.t, err)
	b.t.Cleanup(cl.nc.Close)
	return cl
}

func (b *bed) mustService(user string) *client {
	b.t.Helper()
	c, k := b.service.serviceCert(user)
	cl, err := b.asService(c, k, user)
	require.NoError(b.t, err)
	b.t.Cleanup(cl.nc.Close)
	return cl
}

// permissionDenied waits for the server's async permissions violation.
func (c *client) permissionDenied(t *testing.T, subject string) {
	t.Helper()
	select {
	case err := <-c.errs:
		assert.Contains(t, err.Error(), "Permissions Violation")
		assert.Contains(t, err.Error(), subject)
	case <-time.After(3 * time.Second):
		t.Fatalf("no permissions violation for %s", subject)
	}
}

// violation reports the first async error within d, nil if none came.
func (c *client) violation(d time.Duration) error {
	select {
	case err := <-c.errs:
		return err
	case <-time.After(d):
		return nil
	}
}

func TestDevicesAndServicesOnARealServer(t *testing.T) {
	b := newBed(t)
	b.start(edge.SecurityOptions{}, nil, nil)

	// stream-admin creates the streams, as the stream-setup Job does
	admin := b.mustService(edge.UserStreamAdmin)
	ajs, err := admin.nc.JetStream()
	require.NoError(t, err)
	applyStreams(t, ajs)

	devA, devB := b.mustDevice("dev-a"), b.mustDevice("dev-b")
	ajsA, err := devA.nc.JetStream()
	require.NoError(t, err)

	t.Run("a device publishes in its own space, with a JetStream ack on its own inbox", func(t *testing.T) {
		ack, err := ajsA.Publish("edge.device.dev-a.telemetry", []byte(`{"battery":93}`))
		require.NoError(t, err)
		assert.Equal(t, edge.StreamDevices, ack.Stream)
		ack, err = ajsA.Publish(edge.DevicePeerSyncSubject("dev-a"), []byte(`{"hint":"h-1"}`))
		require.NoError(t, err)
		assert.Equal(t, edge.StreamEdge, ack.Stream)
	})

	t.Run("a device cannot publish another device's subjects", func(t *testing.T) {
		sub, err := devB.nc.SubscribeSync("edge.device.dev-b.>")
		require.NoError(t, err)
		require.NoError(t, devB.nc.Flush())
		require.NoError(t, devA.nc.Publish("edge.device.dev-b.command", []byte(`{"unlock":true}`)))
		require.NoError(t, devA.nc.Flush())
		devA.permissionDenied(t, "edge.device.dev-b.command")
		_, err = sub.NextMsg(500 * time.Millisecond)
		assert.ErrorIs(t, err, nats.ErrTimeout, "dev-b must not receive what dev-a sent to its subjects")
		require.NoError(t, devA.nc.Publish(edge.DevicePeerSyncSubject("dev-b"), []byte(`{}`)))
		require.NoError(t, devA.nc.Flush())
		devA.permissionDenied(t, edge.DevicePeerSyncSubject("dev-b"))
	})

	t.Run("a device cannot announce a beacon update", func(t *testing.T) {
		require.NoError(t, devA.nc.Publish(edge.SubjectBeaconUpdated, []byte(`{"beacon":"b-1"}`)))
		require.NoError(t, devA.nc.Flush())
		devA.permissionDenied(t, edge.SubjectBeaconUpdated)
		info, err := ajs.StreamInfo(edge.StreamBeacons)
		require.NoError(t, err)
		assert.Zero(t, info.State.Msgs, "the announcement must not reach BEACONS")
	})

	t.Run("a device cannot read another device's subjects or another user's replies", func(t *testing.T) {
		for _, subj := range []string{"edge.device.dev-b.>", "_INBOX.>", edge.DeviceInboxPrefix("dev-b") + ".>", edge.ServiceInboxPrefix(edge.UserStreamAdmin) + ".>", edge.SubjectPeerSync} {
			_, err := devA.nc.SubscribeSync(subj)
			require.NoError(t, err)
			require.NoError(t, devA.nc.Flush())
			devA.permissionDenied(t, subj)
		}
		// positive control: dev-b's own ack still reaches dev-b
		bjs, err := devB.nc.JetStream()
		require.NoError(t, err)
		_, err = bjs.Publish("edge.device.dev-b.telemetry", []byte(`{}`))
		require.NoError(t, err)
	})

	t.Run("a device cannot raise a replay alert or delete a stream", func(t *testing.T) {
		require.NoError(t, devA.nc.Publish(edge.SubjectReplayDetected, []byte(`{}`)))
		require.NoError(t, devA.nc.Flush())
		devA.permissionDenied(t, edge.SubjectReplayDetected)
		err := ajsA.DeleteStream(edge.StreamEdge, nats.MaxWait(2*time.Second))
		require.Error(t, err)
		devA.permissionDenied(t, "$JS.API.STREAM.DELETE.EDGE")
		_, err = ajs.StreamInfo(edge.StreamEdge)
		require.NoError(t, err, "EDGE must still exist")
	})

	t.Run("the security detector raises a replay alert; beacon-rotate announces", func(t *testing.T) {
		djs, err := b.mustService(edge.UserSecurityDetector).nc.JetStream()
		require.NoError(t, err)
		ack, err := djs.Publish(edge.SubjectReplayDetected, []byte(`{"packet":"p-1"}`))
		require.NoError(t, err)
		assert.Equal(t, edge.StreamSecurity, ack.Stream)
		rjs, err := b.mustService(edge.UserBeaconRotate).nc.JetStream()
		require.NoError(t, err)
		ack, err = rjs.Publish(edge.SubjectBeaconUpdated, []byte(`{"beacon":"b-2"}`))
		require.NoError(t, err)
		assert.Equal(t, edge.StreamBeacons, ack.Stream)
	})

	t.Run("a certificate from the service CA is refused as a device", func(t *testing.T) {
		// the service CA's certificate carrying a device's SAN: the agents'
		// listener trusts only the device CA, so the handshake fails
		c, k, _ := b.service.issue("fake-device", pkix.Name{CommonName: "dev-c"}, edge.DeviceURISAN("dev-c"), x509.ExtKeyUsageClientAuth)
		_, err := b.asDevice(c, k, "dev-c")
		require.Error(t, err, "agents' listener")
		// and on the in-cluster port the callout refuses a device SAN
		_, err = b.asService(c, k, "dev-c")
		require.Error(t, err, "client port")
		assert.Contains(t, strings.ToLower(err.Error()), "authorization violation")
	})

	t.Run("a certificate from the device CA is refused as a service", func(t *testing.T) {
		// a device CA certificate claiming the system user: the callout
		// refuses it on the agents' listener, TLS on the client port
		c, k, _ := b.device.issue("fake-system", pkix.Name{CommonName: "system"}, edge.ServiceUserName(edge.UserSystem), x509.ExtKeyUsageClientAuth)
		_, err := b.asDevice(c, k, "system")
		require.Error(t, err, "agents' listener")
		assert.Contains(t, strings.ToLower(err.Error()), "authorization violation")
		_, err = b.asService(c, k, edge.UserSystem)
		require.Error(t, err, "client port")
		// and a real device certificate on the in-cluster port
		dc, dk, _ := b.device.deviceCert("dev-d", "cohort-a")
		_, err = b.asService(dc, dk, "dev-d")
		require.Error(t, err)
	})

	t.Run("a certificate straight from the root is refused everywhere", func(t *testing.T) {
		c, k, _ := b.root.deviceCert("dev-e", "cohort-a")
		_, err := b.asDevice(c, k, "dev-e")
		require.Error(t, err)
		_, err = b.asService(c, k, "dev-e")
		require.Error(t, err)
	})

	t.Run("a revoked device certificate is refused through OCSP", func(t *testing.T) {
		c, k, serial := b.device.deviceCert("dev-r", "cohort-b")
		b.device.revoke(serial)
		_, err := b.asDevice(c, k, "dev-r")
		require.Error(t, err)
	})

	t.Run("an unknown service user is refused", func(t *testing.T) {
		c, k := b.service.serviceCert("stranger")
		_, err := b.asService(c, k, "stranger")
		require.Error(t, err)
	})

	t.Run("the system user lands in SYS", func(t *testing.T) {
		sys := b.mustService(edge.UserSystem)
		resp, err := sys.nc.Request("$SYS.REQ.SERVER.PING", nil, 3*time.Second)
		require.NoError(t, err, "only a SYS user gets an answer")
		assert.Contains(t, string(resp.Data), `"server"`)
	})
}

// TestBreakingTheConfigIsCaught removes one safeguard at a time and shows
// the checks above would notice: each broken set-up lets through what the
// real one refuses.
func TestBreakingTheConfigIsCaught(t *testing.T) {
	fullRights := func(string, [][]*x509.Certificate) (edge.Grant, error) {
		return edge.Grant{Account: edge.AccountEdge, Name: "anyone"}, nil
	}
	cases := []struct {
		name   string
		mutate func(map[string]any)
		decide func(string, [][]*x509.Certificate) (edge.Grant, error)
		probe  func(t *testing.T, b *bed) error
	}{
		{"without ocsp_peer on the agents' listener a revoked device connects",
			func(m map[string]any) { delete(m["websocket"].(map[string]any)["tls"].(map[string]any), "ocsp_peer") }, nil,
			func(t *testing.T, b *bed) error {
				c, k, serial := b.device.deviceCert("dev-r", "cohort-b")
				b.device.revoke(serial)
				cl, err := b.asDevice(c, k, "dev-r")
				if err == nil {
					cl.nc.Close()
				}
				return err
			}},
		{"with the service CA trusted on the agents' listener a service certificate completes the handshake",
			func(m map[string]any) {
				ws := m["websocket"].(map[string]any)["tls"].(map[string]any)
				ws["ca_file"] = m["tls"].(map[string]any)["ca_file"]
			}, fullRights,
			func(t *testing.T, b *bed) error {
				c, k, _ := b.service.issue("fake-device", pkix.Name{CommonName: "dev-c"}, edge.DeviceURISAN("dev-c"), x509.ExtKeyUsageClientAuth)
				cl, err := b.asDevice(c, k, "dev-c")
				if err == nil {
					cl.nc.Close()
				}
				return err
			}},
		{"a callout that grants the account's full rights lets a device announce beacons",
			nil, fullRights,
			func(t *testing.T, b *bed) error {
				c, k, _ := b.device.deviceCert("dev-p", "cohort-a")
				cl, err := b.asDevice(c, k, "dev-p")
				require.NoError(t, err)
				defer cl.nc.Close()
				require.NoError(t, cl.nc.Publish(edge.SubjectBeaconUpdated, nil))
				require.NoError(t, cl.nc.Flush())
				return cl.violation(time.Second)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBed(t)
			b.start(edge.SecurityOptions{}, tc.mutate, tc.decide)
			assert.NoError(t, tc.probe(t, b), "the broken set-up must let this through, else the real test proves nothing")
		})
	}
}

// cluster starts a server whose cluster block is rendered by edge.ServerConfig
// (RouteTLS, RouteAuthorization), routing to routes; routeCert is its route
// certificate and mutate breaks its config.
// JetStream is off here: a clustered JetStream waits for its peers'
// quorum before it takes clients, and routes are what is tested.
func (b *bed) clusterServer(name string, port int, routes []string, routeCert *edge.TLSFiles, mutate func(map[string]any)) *server.Server {
	return runServer(b.t, b.config(edge.SecurityOptions{}, edge.ServerListeners{
		Client: "127.0.0.1:-1", AgentsWS: freePort(b.t), Cluster: port, Routes: routes, Name: name,
	}, routeCert, func(m map[string]any) {
		delete(m, "jetstream")
		if a, ok := m["accounts"].(map[string]any)[edge.AccountEdge].(map[string]any); ok {
			delete(a, "jetstream")
		}
		if mutate != nil {
			mutate(m)
		}
	}))
}

// routeCert is a certificate of the service CA for both ends of a route.
func (b *bed) routeCert(name, uri string) *edge.TLSFiles {
	c, k, _ := b.service.issue(name, pkix.Name{CommonName: name}, uri, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	return &edge.TLSFiles{CertFile: c, KeyFile: k, CAFile: b.service.caFile}
}

func TestRoutesNeedTLSAndTheRouteIdentity(t *testing.T) {
	b := newBed(t)
	p1, p2 := freePort(t), freePort(t)
	url := func(p int) string { return fmt.Sprintf("nats-route://127.0.0.1:%d", p) }
	s1 := b.clusterServer("n1", p1, nil, b.routeCert("route-1", edge.RouteURISAN), nil)
	s2 := b.clusterServer("n2", p2, []string{url(p1)}, b.routeCert("route-2", edge.RouteURISAN), nil)
	require.Eventually(t, func() bool { return s1.NumRoutes() > 0 && s2.NumRoutes() > 0 }, 10*time.Second, 50*time.Millisecond,
		"two servers with route certificates form a cluster")

	refused := func(t *testing.T, s *server.Server) {
		t.Helper()
		time.Sleep(3 * time.Second)
		assert.Zero(t, s.NumRoutes(), "the intruder must have no route")
	}
	t.Run("a route without TLS is refused", func(t *testing.T) {
		noTLS := b.clusterServer("plain", freePort(t), []string{url(p1)}, b.routeCert("route-3", edge.RouteURISAN),
			func(m map[string]any) { delete(m["cluster"].(map[string]any), "tls") })
		refused(t, noTLS)
	})
	t.Run("a service certificate cannot open a route", func(t *testing.T) {
		svc := b.clusterServer("svc", freePort(t), []string{url(p1)}, b.routeCert("gw", edge.ServiceUserName(edge.UserDTNGateway)), nil)
		refused(t, svc)
	})
	t.Run("a device CA certificate cannot open a route", func(t *testing.T) {
		c, k, _ := b.device.issue("dev-route", pkix.Name{CommonName: "dev-route"}, edge.RouteURISAN, x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
		dev := b.clusterServer("dev", freePort(t), []string{url(p1)}, &edge.TLSFiles{CertFile: c, KeyFile: k, CAFile: b.service.caFile}, nil)
		refused(t, dev)
	})
	t.Run("without route authorization a service certificate opens a route (the check above would notice)", func(t *testing.T) {
		unmapped := func(m map[string]any) {
			c := m["cluster"].(map[string]any)
			delete(c, "authorization")
			tls := c["tls"].(map[string]any)
			delete(tls, "verify_and_map")
			tls["verify"] = true
		}
		openPort := freePort(t)
		b.clusterServer("open", openPort, nil, b.routeCert("route-4", edge.RouteURISAN), unmapped)
		svc := b.clusterServer("svc2", freePort(t), []string{url(openPort)}, b.routeCert("gw2", edge.ServiceUserName(edge.UserDTNGateway)), unmapped)
		require.Eventually(t, func() bool { return svc.NumRoutes() > 0 }, 10*time.Second, 50*time.Millisecond)
	})
}
