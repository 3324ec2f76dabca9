package registry

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/beacondb"
	"github.com/spatialprops/spatialprops-infra/internal/edgeworld"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

// recorder keeps every request the store makes, to check them against
// the IAM conditions of the beacon roles.
type recorder struct {
	*dynamodb.Client
	mu   sync.Mutex
	puts []*dynamodb.PutItemInput
	gets []*dynamodb.GetItemInput
	qs   []*dynamodb.QueryInput
	scs  []*dynamodb.ScanInput
}

func (r *recorder) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	r.mu.Lock()
	r.puts = append(r.puts, in)
	r.mu.Unlock()
	return r.Client.PutItem(ctx, in, o...)
}
func (r *recorder) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	r.mu.Lock()
	r.gets = append(r.gets, in)
	r.mu.Unlock()
	return r.Client.GetItem(ctx, in, o...)
}
func (r *recorder) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	r.mu.Lock()
	r.qs = append(r.qs, in)
	r.mu.Unlock()
	return r.Client.Query(ctx, in, o...)
}
func (r *recorder) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	r.mu.Lock()
	r.scs = append(r.scs, in)
	r.mu.Unlock()
	return r.Client.Scan(ctx, in, o...)
}

func setup(t *testing.T) (*API, *recorder, string, *edgeworld.World) {
	t.Helper()
	w := edgeworld.New(t, edgeworld.Options{})
	rec := &recorder{Client: dynamodb.NewFromConfig(w.AWS)}
	ks := kittest.New("beacons", 0)
	api := &API{Store: Store{DB: rec, Table: w.BeaconsTable}, Log: ks.Log}
	api.Register(prometheus.NewRegistry())
	api.Routes(ks.Service)
	return api, rec, kittest.Start(t, ks.Service).API, w
}

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url+"/v1/beacons", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

const good = `{"venueId":"venue-perth-1","beaconId":"b-0001","packet":"https://cdn.dev.spatial.properties/open/perth-cbd/1/tiles.pmtiles","rotatesAt":1800000000,"expiresAt":1800003600}`

// GIVEN a contract record THEN it is registered and read back by venue
// and by id; every request the store made projects the contract's
// attributes only, as the beacon roles' IAM conditions demand.
func TestRegisterAndLookUp(t *testing.T) {
	api, rec, url, _ := setup(t)
	code, out := post(t, url, good)
	require.Equal(t, 201, code, out)
	c, body := kittest.Get(url + "/v1/venues/venue-perth-1/beacons/b-0001")
	require.Equal(t, 200, c, body)
	var b edge.Beacon
	require.NoError(t, json.Unmarshal([]byte(body), &b))
	assert.Equal(t, "b-0001", b.BeaconID)
	c, body = kittest.Get(url + "/v1/venues/venue-perth-1/beacons")
	require.Equal(t, 200, c)
	assert.Contains(t, body, `"beaconId":"b-0001"`)
	c, _ = kittest.Get(url + "/v1/venues/venue-perth-1/beacons/b-9999")
	assert.Equal(t, 404, c)
	assert.Equal(t, 1.0, testutil.ToFloat64(api.registered))

	venues, err := api.Store.Venues(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"venue-perth-1"}, venues)
	for _, p := range rec.puts {
		assert.Equal(t, types.ReturnValueNone, p.ReturnValues)
		assert.NoError(t, beacondb.CheckItem(p.Item))
	}
	for _, g := range rec.gets {
		assert.Equal(t, beacondb.Projection(), aws.ToString(g.ProjectionExpression))
	}
	for _, q := range rec.qs {
		assert.Equal(t, types.SelectSpecificAttributes, q.Select)
	}
	for _, s := range rec.scs {
		assert.Equal(t, types.SelectSpecificAttributes, s.Select)
	}
}

// GIVEN a record with a personal-data field THEN it is refused before
// DynamoDB (no PutItem at all), naming the field; an invalid record is
// refused too, with another code.
func TestPIIIsRefusedBeforeDynamoDB(t *testing.T) {
	api, rec, url, _ := setup(t)
	pii := strings.TrimSuffix(good, "}") + `,"ownerEmail":"alice@example.com"}`
	code, out := post(t, url, pii)
	assert.Equal(t, http.StatusUnprocessableEntity, code)
	assert.Equal(t, "pii_refused", out["error"])
	assert.Contains(t, out["message"], `"ownerEmail"`)
	assert.Empty(t, rec.puts, "nothing reached DynamoDB")
	code, out = post(t, url, `{"venueId":"v","beaconId":"b","packet":"ftp://x","rotatesAt":1,"expiresAt":2}`)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Equal(t, "invalid_beacon", out["error"])
	assert.Equal(t, 1.0, testutil.ToFloat64(api.refused.WithLabelValues("pii")))
	c, _ := kittest.Get(url + "/v1/venues/v/beacons")
	assert.Equal(t, 200, c)
}

// GIVEN an item written around the API with a PII attribute THEN the API
// never passes it on: every read projects the contract's attributes only.
func TestAnItemBreakingTheContractIsNotServed(t *testing.T) {
	_, _, url, w := setup(t)
	item, err := beacondb.Encode(edge.Beacon{VenueID: "venue-x", BeaconID: "b-1", Packet: "s3://p/1", RotatesAt: 1, ExpiresAt: 2})
	require.NoError(t, err)
	item["ownerPhone"] = beacondb.Str("+61 400 000 000")
	_, err = dynamodb.NewFromConfig(w.AWS).PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(w.BeaconsTable), Item: item})
	require.NoError(t, err)
	c, body := kittest.Get(url + "/v1/venues/venue-x/beacons")
	assert.Equal(t, http.StatusOK, c)
	assert.Contains(t, body, `"beaconId":"b-1"`)
	assert.NotContains(t, body, "+61")
	assert.NotContains(t, body, "ownerPhone")
}
