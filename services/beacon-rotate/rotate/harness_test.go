package rotate

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/spatialprops/spatialprops-infra/services/beacon-rotate/internal/beacontest"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/beacondb"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
)

// TestMain stops the moto_server motoserver.Endpoint started for a
// standalone run (under `make test` the shared MOTO_ENDPOINT is used).
func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

// env is one test's world: a fresh beacons table in moto (the stack's keys
// and TTL attribute) and a JetStream server with the deployed BEACONS
// stream, which the job reaches as the beacon-rotate user with the
// deployed permissions (no JetStream API access).
type env struct {
	t     *testing.T
	db    *dynamodb.Client
	table string
	js    jetstream.JetStream // the job's connection (beacon-rotate user)
	admin jetstream.JetStream // the test's own connection
	srv   *server.Server
	now   time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, table := beacontest.Table(t)

	e := &env{t: t, db: db, table: table, now: time.Unix(time.Now().Unix(), 0)}
	e.startNATS()
	return e
}

// startNATS runs JetStream with two users: admin (creates the stream,
// reads it back) and beacon-rotate with edge.ServicePermissions.
func (e *env) startNATS() {
	t := e.t
	p := edge.ServicePermissions()[edge.UserBeaconRotate]
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		MaxPayload: int32(edge.MaxEnvelopeBytes), NoSigs: true, NoLog: true,
		Users: []*server.User{
			{Username: "admin", Password: "admin"},
			{Username: edge.UserBeaconRotate, Password: "rotate", Permissions: &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: p.PublishAllow, Deny: p.PublishDeny},
				Subscribe: &server.SubjectPermission{Allow: p.SubscribeAllow, Deny: p.SubscribeDeny},
			}},
		},
	})
	require.NoError(t, err)
	go s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second), "nats-server did not start")
	t.Cleanup(s.Shutdown)
	e.srv = s
	connect := func(user, pass string, opts ...nats.Option) jetstream.JetStream {
		nc, err := nats.Connect(s.ClientURL(), append(opts, nats.UserInfo(user, pass))...)
		require.NoError(t, err)
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		require.NoError(t, err)
		return js
	}
	e.admin = connect("admin", "admin")
	// replies on its own inbox, the only one its permissions let it read
	// (main.go connects the same way)
	e.js = connect(edge.UserBeaconRotate, "rotate", nats.CustomInboxPrefix(edge.ServiceInboxPrefix(edge.UserBeaconRotate)))

	// BEACONS exactly as the stream-setup Job applies it (duplicate window
	// included), decoded strictly.
	streams, err := edge.Streams(edge.MaxEnvelopeBytes, 1)
	require.NoError(t, err)
	files, err := edge.StreamConfigs(streams)
	require.NoError(t, err)
	var cfg jetstream.StreamConfig
	dec := json.NewDecoder(strings.NewReader(files[edge.StreamBeacons+".json"]))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&cfg))
	require.Equal(t, time.Duration(edge.DuplicateWindowSeconds)*time.Second, cfg.Duplicates, "the stream must deduplicate by Nats-Msg-Id")
	_, err = e.admin.CreateStream(context.Background(), cfg)
	require.NoError(t, err)
}

// rotator is the job as main builds it, on a clock the test controls.
func (e *env) rotator(db DynamoDB, pub Publisher) *Rotator {
	if db == nil {
		db = e.db
	}
	if pub == nil {
		pub = JetStream{JS: e.js}
	}
	r := &Rotator{
		DB: db, Pub: pub, Table: e.table, Period: 24 * time.Hour, Grace: time.Hour,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return e.now },
	}
	if _, crash := pub.(*lostPublish); crash {
		r.PublishAttempts = 1 // a process that dies tries once
	}
	return r
}

// put writes an item as an administrator would (no contract check), so a
// test can seed records the job must cope with.
func (e *env) put(item map[string]types.AttributeValue) {
	_, err := e.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(e.table), Item: item})
	require.NoError(e.t, err)
}

// beacon seeds a beacon due (or not) relative to e.now.
func (e *env) beacon(venue, id string, rotatesIn, expiresIn time.Duration) edge.Beacon {
	b := edge.Beacon{
		VenueID: venue, BeaconID: id, Packet: "s3://spatialprops-dev-packs/" + venue + "/pack-7.json",
		RotatesAt: e.now.Add(rotatesIn).Unix(), ExpiresAt: e.now.Add(expiresIn).Unix(),
	}
	item, err := beacondb.Encode(b)
	require.NoError(e.t, err)
	e.put(item)
	return b
}

// items returns every item with every attribute (the test's view, not the
// job's), keyed by beaconId.
func (e *env) items() map[string]map[string]string {
	out := map[string]map[string]string{}
	p, err := e.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.table), ConsistentRead: aws.Bool(true)})
	require.NoError(e.t, err)
	for _, it := range p.Items {
		m := map[string]string{}
		for k, v := range it {
			switch v := v.(type) {
			case *types.AttributeValueMemberS:
				m[k] = v.Value
			case *types.AttributeValueMemberN:
				m[k] = v.Value
			default:
				m[k] = fmt.Sprintf("%T", v)
			}
		}
		out[m[edge.BeaconAttrBeaconID]] = m
	}
	return out
}

// message is one stored edge.beacon.updated.
type message struct {
	msgID  string
	update Update
	raw    []byte
}

// messages returns every message on BEACONS, decoded strictly.
func (e *env) messages() []message {
	ctx := context.Background()
	s, err := e.admin.Stream(ctx, edge.StreamBeacons)
	require.NoError(e.t, err)
	info, err := s.Info(ctx)
	require.NoError(e.t, err)
	var out []message
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		require.NoError(e.t, err)
		require.Equal(e.t, edge.SubjectBeaconUpdated, m.Subject)
		var u Update
		dec := json.NewDecoder(strings.NewReader(string(m.Data)))
		dec.DisallowUnknownFields()
		require.NoError(e.t, dec.Decode(&u), "the body is exactly the Update fields: %s", m.Data)
		out = append(out, message{msgID: m.Header.Get(jetstream.MsgIDHeader), update: u, raw: m.Data})
	}
	require.Len(e.t, out, int(info.State.Msgs))
	return out
}

func unix(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// recorder wraps the DynamoDB client and keeps every request, so a test can
// check them against the IAM role, or fail one kind of call.
type recorder struct {
	DynamoDB
	mu       sync.Mutex
	scans    []*dynamodb.ScanInput
	gets     []*dynamodb.GetItemInput
	puts     []*dynamodb.PutItemInput
	updates  []*dynamodb.UpdateItemInput
	failMark bool // fail "mark announced" (SET rotatesAt = expiresAt)
	scanned  []map[string]types.AttributeValue
}

func (r *recorder) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	r.mu.Lock()
	r.scans = append(r.scans, in)
	replay := r.scanned
	r.mu.Unlock()
	if replay != nil {
		return &dynamodb.ScanOutput{Items: replay}, nil
	}
	return r.DynamoDB.Scan(ctx, in, o...)
}

func (r *recorder) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	r.mu.Lock()
	r.gets = append(r.gets, in)
	r.mu.Unlock()
	return r.DynamoDB.GetItem(ctx, in, o...)
}

func (r *recorder) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	r.mu.Lock()
	r.puts = append(r.puts, in)
	r.mu.Unlock()
	return r.DynamoDB.PutItem(ctx, in, o...)
}

func (r *recorder) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.mu.Lock()
	r.updates = append(r.updates, in)
	fail := r.failMark && aws.ToString(in.UpdateExpression) == "SET #rotatesAt = :expiresAt"
	r.mu.Unlock()
	if fail {
		return nil, fmt.Errorf("simulated crash before marking the rotation announced")
	}
	return r.DynamoDB.UpdateItem(ctx, in, o...)
}

// lostPublish is a publisher whose process dies before the message leaves.
type lostPublish struct{ calls int }

func (p *lostPublish) Publish(context.Context, string, []byte) (bool, error) {
	p.calls++
	return false, fmt.Errorf("simulated crash before publishing")
}
