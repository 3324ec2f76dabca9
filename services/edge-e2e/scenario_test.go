package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/edgeworld"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/internal/ops/rollback"
	"github.com/spatialprops/spatialprops-infra/marketplace"
	"github.com/spatialprops/spatialprops-infra/services/beacons/registry"
	"github.com/spatialprops/spatialprops-infra/services/billing-stub/billing"
	"github.com/spatialprops/spatialprops-infra/services/cdn-presigner/presign"
	"github.com/spatialprops/spatialprops-infra/services/device-enrollment/enroll"
	"github.com/spatialprops/spatialprops-infra/services/dtn-gateway/dtn"
	"github.com/spatialprops/spatialprops-infra/services/edge-sync/replay"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
	"github.com/spatialprops/spatialprops-infra/services/marketplace-api/shop"
	"github.com/spatialprops/spatialprops-infra/services/pack-service/catalog"
	"github.com/spatialprops/spatialprops-infra/services/provenance-gate/gate"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

// running is one service of the scenario: its API and operations URLs.
type running struct{ api, ops string }

// world is every service on loopback over one emulated environment.
type world struct {
	w        *edgeworld.World
	svc      map[string]running
	consumer *billing.Consumer
	gateway  *dtn.Gateway
	uplink   *uplink
	nc       *nats.Conn
	js       jetstream.JetStream
}

// uplink stands in for an uplink adapter: it records bundles by key.
type uplink struct {
	mu      sync.Mutex
	bundles map[string][]byte
}

func (u *uplink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.bundles[r.Header.Get(dtn.KeyHeader)] = b
		u.mu.Unlock()
	}
}

const (
	device    = "dev-e2e-0001"
	cohort    = "pilot-perth"
	publisher = "acme-maps"
	licence   = "spatialprops-commercial-1.0"
)

var pack = marketplace.Pack{Pack: "perth-cbd", Version: "2026.12", File: "tiles.pmtiles"}

func start(t *testing.T, name string, wire func(s *kit.Service)) running {
	t.Helper()
	ks := kittest.New(name, 0)
	wire(ks.Service)
	r := kittest.Start(t, ks.Service)
	return running{api: r.API, ops: r.Ops}
}

func up(t *testing.T) *world {
	t.Helper()
	w := edgeworld.New(t, edgeworld.Options{})
	x := &world{w: w, svc: map[string]running{}, uplink: &uplink{bundles: map[string][]byte{}}}
	db, k, s3c, q := dynamodb.NewFromConfig(w.AWS), kms.NewFromConfig(w.AWS), w.S3(), sqs.NewFromConfig(w.AWS)

	x.svc["device-enrollment"] = start(t, "device-enrollment", func(s *kit.Service) {
		e := &enroll.Service{PCA: acmpca.NewFromConfig(w.AWS), DB: db, CAArn: w.DeviceCA, SigningAlgorithm: pcatypes.SigningAlgorithmSha256withecdsa,
			Days: 30, LedgerTable: w.LedgerTable, DevicesTable: w.DevicesTable, Now: time.Now, Log: s.Log}
		e.Register(s.Metrics)
		enroll.Routes(s, e)
	})
	x.svc["cdn-presigner"] = start(t, "cdn-presigner", func(s *kit.Service) {
		p := &presign.Service{DB: db, KMS: k, LedgerTable: w.LedgerTable, DevicesTable: w.DevicesTable, EntitlementsTable: w.EntitlementsTable,
			BaseURL: "https://cdn.dev.spatial.properties", KeyID: w.CDNSignerKey, KeyPairID: "K2E2EPUBLICKEY", TTL: 5 * time.Minute, Now: time.Now, Log: s.Log}
		p.Register(s.Metrics)
		presign.Routes(s, p)
	})
	x.svc["provenance-gate"] = start(t, "provenance-gate", func(s *kit.Service) {
		g := &gate.Gate{S3: s3c, KMS: k, Bucket: w.PacksBucket, KeyID: w.Names.ProvenanceKeyAlias(),
			Licences: map[string]string{licence: marketplace.AccessLicensed, "CC-BY-4.0": marketplace.AccessOpen}, Publishers: map[string]bool{publisher: true}, Now: time.Now, Log: s.Log}
		g.Register(s.Metrics)
		g.Routes(s)
	})
	x.svc["marketplace-api"] = start(t, "marketplace-api", func(s *kit.Service) {
		sh := &shop.Shop{Catalog: &catalog.Catalog{Store: awskit.Bucket{S3: s3c, Name: w.PacksBucket}, KMS: k, KeyID: w.Names.ProvenanceKeyAlias(), Log: s.Log},
			DB: db, EntitlementsTable: w.EntitlementsTable, Queue: q, BillingQueueURL: w.BillingQueueURL, Gate: x.svc["provenance-gate"].api,
			Client: kit.NewClient(), Now: time.Now, Log: s.Log}
		sh.Register(s.Metrics)
		sh.Routes(s)
	})
	x.svc["billing-stub"] = start(t, "billing-stub", func(s *kit.Service) {
		x.consumer = billing.NewConsumer(q, w.BillingQueueURL, s.Log, 1, s.Metrics)
	})
	up := httptest.NewServer(x.uplink)
	t.Cleanup(up.Close)
	x.svc["dtn-gateway"] = start(t, "dtn-gateway", func(s *kit.Service) {
		x.gateway = &dtn.Gateway{S3: s3c, SQS: q, Bucket: w.DTNBucket, QueueURL: w.DTNQueueURL, MaxBytes: edge.MaxEnvelopeBytes,
			Uplinks: []dtn.Uplink{dtn.HTTPUplink{LinkName: "satellite", URL: up.URL, Client: kit.NewClient()}}, Log: s.Log, Wait: 1, Idle: time.Second}
		x.gateway.Register(s.Metrics)
		x.gateway.Routes(s)
	})
	x.svc["beacons"] = start(t, "beacons", func(s *kit.Service) {
		a := &registry.API{Store: registry.Store{DB: db, Table: w.BeaconsTable}, Log: s.Log}
		a.Register(s.Metrics)
		a.Routes(s)
	})

	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true})
	require.NoError(t, err)
	go ns.Start()
	require.True(t, ns.ReadyForConnections(10*time.Second))
	t.Cleanup(ns.Shutdown)
	x.nc, err = nats.Connect(ns.ClientURL())
	require.NoError(t, err)
	t.Cleanup(x.nc.Close)
	x.js, err = jetstream.New(x.nc)
	require.NoError(t, err)
	streams, err := edge.Streams(edge.MaxEnvelopeBytes, 1)
	require.NoError(t, err)
	for _, st := range streams {
		_, err := x.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: st.Name, Subjects: st.Subjects, MaxMsgSize: int32(st.MaxMsgSize), MaxAge: st.MaxAge})
		require.NoError(t, err)
	}
	x.svc["edge-sync"] = start(t, "edge-sync", func(s *kit.Service) {
		wt := &replay.Watcher{NC: x.nc, Detector: &replay.Detector{Window: 5 * time.Minute, Skew: 30 * time.Second, Now: time.Now}, Log: s.Log, PublishTimeout: 5 * time.Second}
		wt.Register(s.Metrics)
		s.Go("watch", wt.Run)
	})
	return x
}

// call sends a JSON request and decodes the JSON answer.
func call(t *testing.T, method, u string, headers map[string]string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(t, err)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// metric reads one series' value from a service's /metrics (0 when absent).
func metric(t *testing.T, ops, series string) float64 {
	t.Helper()
	code, body := kittest.Get(ops + "/metrics")
	require.Equal(t, 200, code)
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			return f
		}
	}
	return 0
}

func depth(t *testing.T, q *sqs.Client, u string) int {
	t.Helper()
	a, err := q.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	require.NoError(t, err)
	n := 0
	for _, v := range a.Attributes {
		i, _ := strconv.Atoi(v)
		n += i
	}
	return n
}

// TestEdgeScenario is the edge and marketplace additions end to end: a
// device enrolls and renews; a pack is published through the gate, then
// visible; the device is refused a URL for staging and, until it buys a
// licence, for the pack; the purchase's billing event is consumed; the
// device gets a signed URL, until its cohort is revoked; a 49 KB envelope
// is stored, queued and drained, a 51 KB one refused; a beacon is
// registered and a PII attribute refused; a replayed sync message moves
// the replay alert's series.
func TestEdgeScenario(t *testing.T) {
	x := up(t)
	ctx := context.Background()
	step := func(name string, fn func(t *testing.T)) {
		if !t.Run(name, fn) {
			t.FailNow()
		}
	}
	db, q := dynamodb.NewFromConfig(x.w.AWS), sqs.NewFromConfig(x.w.AWS)
	var key *ecdsa.PrivateKey
	var certPEM string

	step("enroll a device with its one-time token", func(t *testing.T) {
		token, err := enroll.NewToken(ctx, db, x.w.DevicesTable, device, cohort, time.Hour, time.Now())
		require.NoError(t, err)
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		csr, _, err := enroll.CSR(key, device, cohort)
		require.NoError(t, err)
		code, out := call(t, http.MethodPost, x.svc["device-enrollment"].api+"/v1/enroll", nil, enroll.EnrollRequest{Device: device, Token: token, CSR: csr})
		require.Equal(t, http.StatusCreated, code, out)
		certPEM = out["certificate"].(string)
		code, out = call(t, http.MethodPost, x.svc["device-enrollment"].api+"/v1/enroll", nil, enroll.EnrollRequest{Device: device, Token: token, CSR: csr})
		assert.Equal(t, "no_token", out["error"], "the token works once (%d)", code)
	})

	step("renew it with proof of the current key", func(t *testing.T) {
		next, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		csr, der, err := enroll.CSR(next, device, cohort)
		require.NoError(t, err)
		proof, err := enroll.Proof(key, der)
		require.NoError(t, err)
		code, out := call(t, http.MethodPost, x.svc["device-enrollment"].api+"/v1/renew", nil, enroll.RenewRequest{Certificate: certPEM, CSR: csr, Proof: proof})
		require.Equal(t, http.StatusCreated, code, out)
		require.NotEqual(t, certPEM, out["certificate"])
		certPEM, key = out["certificate"].(string), next
		entries, err := rollback.CohortEntries(ctx, db, x.w.LedgerTable, cohort)
		require.NoError(t, err)
		assert.Len(t, entries, 2, "both certificates are in the ledger, revocable")
		assert.Equal(t, 1.0, metric(t, x.svc["device-enrollment"].ops, `device_certificates_issued_total{kind="renew"}`))
	})

	step("publish a pack through the gate: attested, then visible", func(t *testing.T) {
		body := bytes.Repeat([]byte("PMTiles\x03"), 512)
		_, err := x.w.S3().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(x.w.PacksBucket), Key: aws.String(marketplace.StagingKey(publisher, pack)), Body: bytes.NewReader(body)})
		require.NoError(t, err)
		code, out := call(t, http.MethodGet, x.svc["marketplace-api"].api+"/api/v1/packs", nil, nil)
		require.Equal(t, 200, code)
		assert.Empty(t, out["packs"], "nothing is listed before the gate publishes it")
		code, out = call(t, http.MethodPost, x.svc["provenance-gate"].api+"/v1/publish", nil, gate.PublishRequest{Publisher: publisher,
			Pack: pack.Pack, Version: pack.Version, File: pack.File, SHA256: marketplace.PackDigest(body), LicenseID: licence})
		require.Equal(t, http.StatusCreated, code, out)
		code, out = call(t, http.MethodGet, x.svc["marketplace-api"].api+"/api/v1/packs", nil, nil)
		require.Equal(t, 200, code)
		packs := out["packs"].([]any)
		require.Len(t, packs, 1)
		assert.Equal(t, "/licensed/perth-cbd/2026.12/tiles.pmtiles", packs[0].(map[string]any)["path"])
		assert.Equal(t, 1.0, metric(t, x.svc["provenance-gate"].ops, `provenance_attestations_total{result="valid"}`))
	})

	leaf := func() map[string]string { return map[string]string{presign.LeafHeader: url.PathEscape(certPEM)} }
	presignURL := x.svc["cdn-presigner"].api + "/v1/presign?path="
	step("refused a URL for staging, and for the pack before a licence", func(t *testing.T) {
		code, out := call(t, http.MethodGet, presignURL+url.QueryEscape("/staging/acme-maps/perth-cbd/2026.12/tiles.pmtiles"), leaf(), nil)
		assert.Equal(t, http.StatusBadRequest, code)
		assert.Equal(t, "not_published", out["error"])
		code, out = call(t, http.MethodGet, presignURL+url.QueryEscape(marketplace.CDNPath(marketplace.AccessLicensed, pack)), leaf(), nil)
		assert.Equal(t, http.StatusForbidden, code)
		assert.Equal(t, "unlicensed", out["error"])
	})

	step("purchase it: the billing event is consumed", func(t *testing.T) {
		code, out := call(t, http.MethodPost, x.svc["marketplace-api"].api+"/api/v1/purchases", map[string]string{"Idempotency-Key": "e2e-purchase-0001"},
			shop.PurchaseRequest{Subject: marketplace.DeviceSubject(device), Pack: pack.Pack})
		require.Equal(t, http.StatusCreated, code, out)
		for i := 0; i < 5 && metric(t, x.svc["billing-stub"].ops, "billing_events_total") < 1; i++ {
			_, err := x.consumer.Poll(ctx)
			require.NoError(t, err)
		}
		assert.Equal(t, 1.0, metric(t, x.svc["billing-stub"].ops, "billing_events_total"))
		assert.Equal(t, 0, depth(t, q, x.w.BillingQueueURL), "acknowledged")
	})

	step("a signed URL for the published pack", func(t *testing.T) {
		code, out := call(t, http.MethodGet, presignURL+url.QueryEscape(marketplace.CDNPath(marketplace.AccessLicensed, pack)), leaf(), nil)
		require.Equal(t, http.StatusOK, code, out)
		u, err := url.Parse(out["url"].(string))
		require.NoError(t, err)
		assert.Equal(t, "/licensed/perth-cbd/2026.12/tiles.pmtiles", u.Path)
		assert.NotEmpty(t, u.Query().Get("Signature"))
		assert.Equal(t, "K2E2EPUBLICKEY", u.Query().Get("Key-Pair-Id"))
	})

	step("refused after the cohort is revoked", func(t *testing.T) {
		revoked, err := rollback.RevokeCohorts(ctx, io.Discard, db, acmpca.NewFromConfig(x.w.AWS), x.w.LedgerTable, x.w.DeviceCA, []string{cohort}, time.Now())
		require.NoError(t, err)
		assert.Len(t, revoked, 2, "the old and the renewed certificate")
		code, out := call(t, http.MethodGet, presignURL+url.QueryEscape(marketplace.CDNPath(marketplace.AccessLicensed, pack)), leaf(), nil)
		assert.Equal(t, http.StatusForbidden, code)
		assert.Equal(t, "revoked", out["error"])
	})

	step("a 49 KB envelope is stored, queued and drained; 51 KB is refused", func(t *testing.T) {
		body := bytes.Repeat([]byte("c"), 49*1024)
		code, out := call(t, http.MethodPost, x.svc["dtn-gateway"].api+"/v1/envelopes", map[string]string{dtn.KeyHeader: "e2e-claim-0001"}, body)
		require.Equal(t, http.StatusAccepted, code, out)
		_, err := x.w.S3().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(x.w.DTNBucket), Key: aws.String(dtn.EnvelopePrefix + "e2e-claim-0001")})
		require.NoError(t, err, "stored")
		require.Equal(t, 1, depth(t, q, x.w.DTNQueueURL), "queued")
		n, err := x.gateway.Forward(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		assert.Equal(t, body, x.uplink.bundles["e2e-claim-0001"])
		assert.Equal(t, 0, depth(t, q, x.w.DTNQueueURL), "drained")
		code, out = call(t, http.MethodPost, x.svc["dtn-gateway"].api+"/v1/envelopes", map[string]string{dtn.KeyHeader: "e2e-claim-0002"}, bytes.Repeat([]byte("c"), 51*1024))
		assert.Equal(t, http.StatusRequestEntityTooLarge, code)
		assert.Equal(t, "envelope_too_large", out["error"])
	})

	step("a beacon is registered; a PII attribute is refused", func(t *testing.T) {
		b := edge.Beacon{VenueID: "venue-perth-1", BeaconID: "b-0001", Packet: "https://cdn.dev.spatial.properties/licensed/perth-cbd/2026.12/tiles.pmtiles",
			RotatesAt: time.Now().Add(24 * time.Hour).Unix(), ExpiresAt: time.Now().Add(25 * time.Hour).Unix()}
		code, out := call(t, http.MethodPost, x.svc["beacons"].api+"/v1/beacons", nil, b)
		require.Equal(t, http.StatusCreated, code, out)
		raw, _ := json.Marshal(b)
		pii := append(bytes.TrimSuffix(raw, []byte("}")), []byte(`,"ownerEmail":"alice@example.com"}`)...)
		code, out = call(t, http.MethodPost, x.svc["beacons"].api+"/v1/beacons", nil, pii)
		assert.Equal(t, http.StatusUnprocessableEntity, code)
		assert.Equal(t, "pii_refused", out["error"])
		code, _ = call(t, http.MethodGet, x.svc["beacons"].api+"/v1/venues/venue-perth-1/beacons/b-0001", nil, nil)
		assert.Equal(t, 200, code)
	})

	step("a replayed sync message moves the replay alert's series", func(t *testing.T) {
		series := `edge_replay_detected_total{reason="nonce_reused"}`
		before := metric(t, x.svc["edge-sync"].ops, series)
		m, _ := json.Marshal(edge.SyncMessage{Device: device, Nonce: "e2e-nonce-00000000001", SentAt: time.Now().UTC()})
		for range 2 {
			require.NoError(t, x.nc.Publish(edge.SubjectPeerSync, m))
		}
		require.NoError(t, x.nc.Flush())
		require.Eventually(t, func() bool { return metric(t, x.svc["edge-sync"].ops, series) == before+1 }, 5*time.Second, 50*time.Millisecond)
		st, err := x.js.Stream(ctx, edge.StreamSecurity)
		require.NoError(t, err)
		require.Eventually(t, func() bool { info, err := st.Info(ctx); return err == nil && info.State.Msgs == 1 }, 5*time.Second, 50*time.Millisecond,
			"the alert is on stream SECURITY")
	})

	step("every series the edge alerts read is exported, and guarded by absent()", func(t *testing.T) { checkAlertSeries(t, x) })
}
