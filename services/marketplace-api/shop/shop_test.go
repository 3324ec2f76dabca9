package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/edgeworld"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/marketplace"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
	"github.com/spatialprops/spatialprops-infra/services/pack-service/catalog"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

type fixture struct {
	w    *edgeworld.World
	shop *Shop
	api  string
	now  time.Time
}

func newFixture(t *testing.T, gate string) *fixture {
	t.Helper()
	w := edgeworld.New(t, edgeworld.Options{})
	ks := kittest.New("marketplace-api", 0)
	f := &fixture{w: w, now: time.Now()}
	client := kit.NewClient()
	client.Retry = kit.Retry{Attempts: 2, PerCall: time.Second, Base: 10 * time.Millisecond, Max: 10 * time.Millisecond}
	f.shop = &Shop{
		Catalog: &catalog.Catalog{Store: awskit.Bucket{S3: w.S3(), Name: w.PacksBucket}, KMS: kms.NewFromConfig(w.AWS), KeyID: w.Names.ProvenanceKeyAlias(), Log: ks.Log},
		DB:      dynamodb.NewFromConfig(w.AWS), EntitlementsTable: w.EntitlementsTable, Queue: sqs.NewFromConfig(w.AWS), BillingQueueURL: w.BillingQueueURL,
		Gate: gate, Client: client, Now: func() time.Time { return f.now }, Log: ks.Log,
	}
	f.shop.Register(prometheus.NewRegistry())
	f.shop.Routes(ks.Service)
	f.api = kittest.Start(t, ks.Service).API
	return f
}

func (f *fixture) post(t *testing.T, path, key string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, f.api+path, bytes.NewReader(b))
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

var licensed = marketplace.Pack{Pack: "perth-cbd", Version: "2026.12", File: "tiles.pmtiles"}

// GIVEN a published licensed pack WHEN a device buys it THEN one valid
// billing event is on the billing queue and the entitlement the presigner
// reads is written, for a year; an open pack, an unknown pack and a
// request without an idempotency key are refused.
func TestPurchaseWritesTheEntitlementAndOneBillingEvent(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1")
	f.w.Publish(t, marketplace.AccessLicensed, licensed, []byte("tiles"), "spatialprops-commercial-1.0", "acme-maps")
	f.w.Publish(t, marketplace.AccessOpen, marketplace.Pack{Pack: "coastline", Version: "1", File: "c.pmtiles"}, []byte("open"), "CC-BY-4.0", "acme-maps")

	code, out := f.post(t, "/api/v1/purchases", "purchase-0001", PurchaseRequest{Subject: marketplace.DeviceSubject("dev-0001"), Pack: "perth-cbd"})
	require.Equal(t, 201, code, out)
	assert.Equal(t, "spatialprops-commercial-1.0", out["licenseId"])

	msgs, err := sqs.NewFromConfig(f.w.AWS).ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.w.BillingQueueURL), MaxNumberOfMessages: 10})
	require.NoError(t, err)
	require.Len(t, msgs.Messages, 1, "one billing event per purchase")
	var ev marketplace.BillingEvent
	require.NoError(t, kit.DecodeStrict([]byte(aws.ToString(msgs.Messages[0].Body)), &ev))
	assert.NoError(t, ev.Validate())
	assert.Equal(t, "purchase-0001", ev.PurchaseID)

	item, err := dynamodb.NewFromConfig(f.w.AWS).GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(f.w.EntitlementsTable),
		Key: map[string]ddbtypes.AttributeValue{marketplace.EntitlementSubject: str("device#dev-0001"), marketplace.EntitlementPack: str("perth-cbd")}})
	require.NoError(t, err)
	require.NotNil(t, item.Item)
	exp := item.Item[marketplace.EntitlementExpiresAt].(*ddbtypes.AttributeValueMemberN).Value
	assert.Equal(t, f.now.UTC().Truncate(time.Second).Add(LicenceTerm).Unix(), atoi(exp))
	assert.Equal(t, 1.0, testutil.ToFloat64(f.shop.purchases))

	code, out = f.post(t, "/api/v1/purchases", "purchase-0002", PurchaseRequest{Subject: "device#dev-0001", Pack: "coastline"})
	assert.Equal(t, http.StatusConflict, code)
	assert.Equal(t, "open_pack", out["error"])
	code, out = f.post(t, "/api/v1/purchases", "purchase-0003", PurchaseRequest{Subject: "device#dev-0001", Pack: "nowhere"})
	assert.Equal(t, http.StatusNotFound, code, out)
	code, _ = f.post(t, "/api/v1/purchases", "", PurchaseRequest{Subject: "device#dev-0001", Pack: "perth-cbd"})
	assert.Equal(t, http.StatusBadRequest, code)
	c, body := kittest.Get(f.api + "/api/v1/packs")
	assert.Equal(t, 200, c)
	assert.Contains(t, body, `"path":"/licensed/perth-cbd/2026.12/tiles.pmtiles"`)
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// GIVEN the gate delists THEN marketplace_delists_total counts it;
// a refusal from the gate is passed on and not counted; an unreachable
// gate is a 502 after bounded attempts, not counted.
func TestDelistCountsOnlyWhatTheGateRemoved(t *testing.T) {
	calls := 0
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		var req map[string]string
		_ = json.NewDecoder(r.Body).Decode(&req)
		if req["pack"] == "gone" {
			kit.WriteProblem(w, http.StatusNotFound, "not_published", "gone 1 is not published")
			return
		}
		kit.WriteJSON(w, 200, map[string]string{"pack": req["pack"], "version": req["version"], "access": "licensed", "reason": req["reason"]})
	}))
	defer gate.Close()
	f := newFixture(t, gate.URL)
	code, _ := f.post(t, "/api/v1/packs/perth-cbd/versions/2026.12/delist", "", DelistRequest{Reason: "licence_dispute"})
	assert.Equal(t, 200, code)
	code, out := f.post(t, "/api/v1/packs/gone/versions/1/delist", "", DelistRequest{Reason: "licence_dispute"})
	assert.Equal(t, 404, code)
	assert.Equal(t, "not_published", out["error"])
	assert.Equal(t, 1.0, testutil.ToFloat64(f.shop.delists))

	l, _ := net.Listen("tcp", "127.0.0.1:0")
	f.shop.Gate = "http://" + l.Addr().String()
	l.Close()
	code, out = f.post(t, "/api/v1/packs/perth-cbd/versions/2026.12/delist", "", DelistRequest{Reason: "licence_dispute"})
	assert.Equal(t, http.StatusBadGateway, code, out)
	assert.Equal(t, 1.0, testutil.ToFloat64(f.shop.delists), "a delist that did not happen is not counted")
	assert.Equal(t, 2, calls)
}
