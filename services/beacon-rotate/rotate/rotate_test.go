package rotate

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/beacondb"
)

// GIVEN a due beacon and one not yet due WHEN the job runs THEN the due one
// gets a successor with a fresh id and the same packet pointer, the old item
// stays (valid until its own expiresAt), and one update is published.
func TestRotationWritesASuccessorAndKeepsTheOldIDThroughItsGrace(t *testing.T) {
	e := newEnv(t)
	old := e.beacon("venue-1", "b-old", -time.Minute, time.Hour)
	later := e.beacon("venue-1", "b-later", time.Hour, 2*time.Hour)

	s, err := e.rotator(nil, nil).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Summary{Scanned: 1, Rotated: 1}, s, "only the due beacon is touched")

	items := e.items()
	require.Len(t, items, 3, "one successor, nothing deleted")
	o := items["b-old"]
	succID := o[edge.BeaconAttrSuccessorID]
	require.NotEmpty(t, succID, "the old item names its successor")
	assert.Regexp(t, `^[0-9a-f]{32}$`, succID, "128 random bits, not derived from the old id")
	assert.NotEqual(t, old.BeaconID, succID)
	assert.Equal(t, strconv.FormatInt(old.ExpiresAt, 10), o[edge.BeaconAttrExpiresAt], "the old id stays valid through its grace window: expiresAt untouched, TTL removes it")
	assert.Equal(t, o[edge.BeaconAttrExpiresAt], o[edge.BeaconAttrRotatesAt], "announced: rotatesAt = expiresAt, so no later run picks it up")

	n := items[succID]
	require.NotNil(t, n, "the successor exists")
	assert.Equal(t, map[string]string{
		edge.BeaconAttrVenueID: "venue-1", edge.BeaconAttrBeaconID: succID, edge.BeaconAttrPacket: old.Packet,
		edge.BeaconAttrRotatesAt: strconv.FormatInt(e.now.Add(24*time.Hour).Unix(), 10),
		edge.BeaconAttrExpiresAt: strconv.FormatInt(e.now.Add(25*time.Hour).Unix(), 10),
	}, n, "same venue and pointer, times from --period and --grace, nothing else")
	assert.Equal(t, strconv.FormatInt(later.RotatesAt, 10), items["b-later"][edge.BeaconAttrRotatesAt], "a beacon not yet due is left alone")
	assert.NotContains(t, items["b-later"], edge.BeaconAttrSuccessorID)

	msgs := e.messages()
	require.Len(t, msgs, 1, "one rotation, one message")
	assert.Equal(t, "beacon-rotate/venue-1/b-old", msgs[0].msgID, "Nats-Msg-Id comes from (venueId, old beaconId)")
	assert.Equal(t, Update{
		VenueID: "venue-1", OldBeaconID: "b-old", NewBeaconID: succID, Packet: old.Packet,
		OldExpiresAt: old.ExpiresAt, NewRotatesAt: unix(n[edge.BeaconAttrRotatesAt]), NewExpiresAt: unix(n[edge.BeaconAttrExpiresAt]),
	}, msgs[0].update)

	// An hour and a half later the old id is past its expiresAt: the job
	// still does not delete it (that is TTL's job, and the role has no
	// DeleteItem), and the successor is not due yet.
	e.now = e.now.Add(90 * time.Minute)
	s, err = e.rotator(nil, nil).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, s.Rotated, "b-later has come due")
	assert.Contains(t, e.items(), "b-old", "the job never deletes a beacon")
	assert.Len(t, e.messages(), 2)
}

// GIVEN a completed run WHEN the job runs again THEN it finds nothing: no
// third item and no second message, whatever JetStream's duplicate window.
func TestReRunIsIdempotent(t *testing.T) {
	e := newEnv(t)
	e.beacon("venue-1", "b-1", -time.Minute, time.Hour)
	_, err := e.rotator(nil, nil).Run(context.Background())
	require.NoError(t, err)

	rec := &recorder{DynamoDB: e.db}
	s, err := e.rotator(rec, nil).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Summary{}, s, "the second run has nothing to do")
	assert.Empty(t, rec.puts, "no write on a re-run")
	assert.Empty(t, rec.updates, "no write on a re-run")
	assert.Len(t, e.items(), 2, "no third item")
	assert.Len(t, e.messages(), 1, "no second message")
}

// GIVEN a run that claimed the beacon and wrote the successor, then died
// before publishing WHEN the job runs again THEN it announces that same
// successor exactly once, with the same Msg-Id, and writes no third item.
func TestCrashBetweenWriteAndPublishIsAnnouncedOnce(t *testing.T) {
	e := newEnv(t)
	e.beacon("venue-1", "b-1", -time.Minute, time.Hour)
	lost := &lostPublish{}
	s, err := e.rotator(nil, lost).Run(context.Background())
	require.Error(t, err, "a lost publish fails the run, so the CronJob reports it")
	assert.Equal(t, 1, s.Failed)
	assert.Equal(t, 1, lost.calls)
	items := e.items()
	require.Len(t, items, 2, "claimed and written before the crash")
	succID := items["b-1"][edge.BeaconAttrSuccessorID]
	require.Contains(t, items, succID)
	assert.Less(t, unix(items["b-1"][edge.BeaconAttrRotatesAt]), unix(items["b-1"][edge.BeaconAttrExpiresAt]), "not marked announced")
	assert.Empty(t, e.messages())

	e.now = e.now.Add(10 * time.Minute)
	s, err = e.rotator(nil, nil).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Summary{Scanned: 1, Recovered: 1}, s)
	msgs := e.messages()
	require.Len(t, msgs, 1, "published exactly once")
	assert.Equal(t, MsgID("venue-1", "b-1"), msgs[0].msgID)
	assert.Equal(t, succID, msgs[0].update.NewBeaconID, "the successor written before the crash, not a new one")
	assert.Equal(t, unix(items[succID][edge.BeaconAttrRotatesAt]), msgs[0].update.NewRotatesAt, "the times the successor holds")
	assert.Len(t, e.items(), 2, "no third item")

	s, err = e.rotator(nil, nil).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Summary{}, s)
	assert.Len(t, e.messages(), 1)
}

// GIVEN a beacon made without a grace window (rotatesAt = expiresAt) WHEN a
// run claims it and dies before publishing THEN the claim still reads as
// unannounced and the next run announces it.
func TestAZeroGraceBeaconIsStillRecovered(t *testing.T) {
	e := newEnv(t)
	e.beacon("venue-1", "b-1", -time.Minute, -time.Minute)
	_, err := e.rotator(nil, &lostPublish{}).Run(context.Background())
	require.Error(t, err)
	s, err := e.rotator(nil, nil).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Summary{Scanned: 1, Recovered: 1}, s)
	assert.Len(t, e.messages(), 1)
	assert.Len(t, e.items(), 2)
}

// GIVEN a run that published and then died before marking the rotation
// announced WHEN the job runs again THEN it re-publishes under the same
// Msg-Id, JetStream drops it, and the stream holds one message.
func TestCrashAfterPublishIsDroppedByJetStream(t *testing.T) {
	e := newEnv(t)
	e.beacon("venue-1", "b-1", -time.Minute, time.Hour)
	_, err := e.rotator(&recorder{DynamoDB: e.db, failMark: true}, nil).Run(context.Background())
	require.Error(t, err)
	require.Len(t, e.messages(), 1)

	s, err := e.rotator(nil, nil).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Summary{Scanned: 1, Recovered: 1, Duplicates: 1}, s, "JetStream reports the repeat as a duplicate")
	assert.Len(t, e.messages(), 1, "the message is stored once")
	assert.Len(t, e.items(), 2)
}

// GIVEN two runs that both saw the beacon due WHEN the second claims while
// the first is still between its claim and its announcement THEN the
// second's conditional claim fails: one successor, one message.
func TestConcurrentRunsMakeOneSuccessor(t *testing.T) {
	e := newEnv(t)
	e.beacon("venue-1", "b-1", -time.Minute, time.Hour)
	// The slow run's scan, taken before the fast run writes anything.
	stale, err := e.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.table)})
	require.NoError(t, err)

	// The fast run has claimed and written its successor, not yet published.
	_, err = e.rotator(nil, &lostPublish{}).Run(context.Background())
	require.Error(t, err)
	s, err := e.rotator(&recorder{DynamoDB: e.db, scanned: stale.Items}, nil).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Summary{Scanned: 1, Skipped: 1}, s, "the claim is taken")
	assert.Len(t, e.items(), 2, "one successor")
	assert.Empty(t, e.messages(), "the slow run announces nothing it did not claim")

	s, err = e.rotator(nil, nil).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, Summary{Scanned: 1, Recovered: 1}, s)
	assert.Len(t, e.items(), 2, "still one successor")
	assert.Len(t, e.messages(), 1, "one message")
}

// GIVEN a record carrying a field outside the contract (an owner's email)
// WHEN the job reads it THEN it refuses it: no write, no message, the run
// fails; and the job's writes can never carry such a field.
func TestARecordWithPIIIsRefused(t *testing.T) {
	pii := map[string]types.AttributeValue{
		edge.BeaconAttrVenueID: beacondb.Str("venue-1"), edge.BeaconAttrBeaconID: beacondb.Str("b-pii"), edge.BeaconAttrPacket: beacondb.Str("s3://packs/p.json"),
		edge.BeaconAttrRotatesAt: beacondb.Num(1), edge.BeaconAttrExpiresAt: beacondb.Num(2), "ownerEmail": beacondb.Str("owner@example.com"),
	}
	err := beacondb.CheckItem(pii)
	require.ErrorIs(t, err, edge.ErrUnknownBeaconField, "the contract's own check names the field")
	assert.Contains(t, err.Error(), "ownerEmail")
	_, err = beacondb.Decode(pii)
	require.ErrorIs(t, err, edge.ErrUnknownBeaconField)

	e := newEnv(t)
	e.put(pii)
	// A store that ignored the projection and handed back the whole item.
	rec := &recorder{DynamoDB: e.db, scanned: []map[string]types.AttributeValue{pii}}
	s, err := e.rotator(rec, nil).Run(context.Background())
	require.Error(t, err, "a refused record fails the run")
	assert.Equal(t, Summary{Scanned: 1, Refused: 1}, s)
	assert.Empty(t, rec.puts, "nothing written for a refused record")
	assert.Empty(t, rec.updates)
	assert.Empty(t, e.messages())

	// Through the real projection the job sees contract attributes only:
	// the successor it writes carries none of the PII.
	s, err = e.rotator(nil, nil).Run(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, s.Rotated)
	succ := e.items()[e.items()["b-pii"][edge.BeaconAttrSuccessorID]]
	require.NotNil(t, succ)
	assert.NotContains(t, succ, "ownerEmail", "PII is never copied to a successor")
	assert.NotContains(t, string(e.messages()[0].raw), "owner@example.com", "nor published")
}

// GIVEN a record that breaks the contract's values (a packet pointer that
// is not s3:// or https://) WHEN the job scans it THEN it is refused, the
// other beacons still rotate, and the run fails.
func TestAnInvalidRecordIsRefusedAndTheRestRotate(t *testing.T) {
	e := newEnv(t)
	e.put(map[string]types.AttributeValue{
		edge.BeaconAttrVenueID: beacondb.Str("venue-1"), edge.BeaconAttrBeaconID: beacondb.Str("b-bad"), edge.BeaconAttrPacket: beacondb.Str("ftp://packs/p"),
		edge.BeaconAttrRotatesAt: beacondb.Num(e.now.Add(-time.Minute).Unix()), edge.BeaconAttrExpiresAt: beacondb.Num(e.now.Add(time.Hour).Unix()),
	})
	e.beacon("venue-2", "b-good", -time.Minute, time.Hour)
	s, err := e.rotator(nil, nil).Run(context.Background())
	require.Error(t, err)
	assert.Equal(t, Summary{Scanned: 2, Rotated: 1, Refused: 1}, s)
	assert.NotContains(t, e.items()["b-bad"], edge.BeaconAttrSuccessorID)
	assert.Len(t, e.messages(), 1)
}

// GIVEN --dry-run WHEN due beacons exist THEN nothing is written or published.
func TestDryRunChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.beacon("venue-1", "b-1", -time.Minute, time.Hour)
	rec := &recorder{DynamoDB: e.db}
	r := e.rotator(rec, nil)
	r.DryRun, r.Pub = true, nil
	s, err := r.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, s.Rotated, "reports what it would rotate")
	assert.Empty(t, rec.puts)
	assert.Empty(t, rec.updates)
	assert.Len(t, e.items(), 1)
	assert.Empty(t, e.messages())
}

// beaconRoleReturnValues are the ReturnValues irsa-beacon-rotate allows
// (stacks.BeaconAttributeConditions; that package is not importable here
// without the whole CDK, so the list is repeated and tests/ checks the
// stack side).
var beaconRoleReturnValues = []types.ReturnValue{"", types.ReturnValueNone, types.ReturnValueUpdatedOld, types.ReturnValueUpdatedNew}

// bareName finds an identifier in an expression that is neither a #name
// placeholder, a :value, nor a keyword or function of the expression
// grammar: a literal attribute name would escape the check on
// ExpressionAttributeNames.
var bareName = regexp.MustCompile(`(?:^|[^#:\w])([A-Za-z_]\w*)`)

var grammar = []string{"SET", "AND", "OR", "NOT", "attribute_exists", "attribute_not_exists"}

// GIVEN a run that rotates, recovers and is refused a claim WHEN every
// request is checked against irsa-beacon-rotate's conditions THEN each one
// names only contract attributes, selects specific attributes and returns
// nothing: AWS would allow all of them.
func TestEveryRequestStaysWithinTheIAMRole(t *testing.T) {
	e := newEnv(t)
	e.beacon("venue-1", "b-1", -time.Minute, time.Hour)
	e.beacon("venue-1", "b-2", -time.Minute, time.Hour)
	rec := &recorder{DynamoDB: e.db}
	_, err := e.rotator(rec, &lostPublish{}).Run(context.Background())
	require.Error(t, err)
	_, err = e.rotator(rec, nil).Run(context.Background())
	require.NoError(t, err)
	require.NotEmpty(t, rec.scans)
	// Run 1 claims b-1 and writes its successor; its publish fails, so b-2
	// waits (NATS counts as down). Run 2 recovers b-1 (a conditional re-put)
	// and rotates b-2.
	require.Len(t, rec.puts, 3, "b-1's successor, its conditional re-put while recovering, b-2's successor")
	require.Len(t, rec.updates, 4, "two claims, two marks")

	attrs := func(what string, names map[string]string, exprs ...*string) {
		t.Helper()
		for ph, n := range names {
			assert.Contains(t, edge.BeaconAttributes, n, "%s: placeholder %s names a non-contract attribute", what, ph)
		}
		for _, x := range exprs {
			for _, m := range bareName.FindAllStringSubmatch(aws.ToString(x), -1) {
				assert.Contains(t, grammar, m[1], "%s: %q names an attribute without a placeholder", what, aws.ToString(x))
			}
		}
	}
	keys := func(what string, item map[string]types.AttributeValue) {
		t.Helper()
		assert.NoError(t, beacondb.CheckItem(item), what)
	}
	for _, in := range rec.scans {
		assert.Equal(t, types.SelectSpecificAttributes, in.Select, "dynamodb:Select must be SPECIFIC_ATTRIBUTES")
		assert.NotEmpty(t, aws.ToString(in.ProjectionExpression))
		attrs("Scan", in.ExpressionAttributeNames, in.ProjectionExpression, in.FilterExpression)
	}
	for _, in := range rec.gets {
		assert.NotEmpty(t, aws.ToString(in.ProjectionExpression), "GetItem without a projection reads every attribute")
		attrs("GetItem", in.ExpressionAttributeNames, in.ProjectionExpression)
		keys("GetItem key", in.Key)
	}
	for _, in := range rec.puts {
		assert.Contains(t, beaconRoleReturnValues, in.ReturnValues)
		attrs("PutItem", in.ExpressionAttributeNames, in.ConditionExpression)
		keys("PutItem item", in.Item)
	}
	for _, in := range rec.updates {
		assert.Equal(t, types.ReturnValueNone, in.ReturnValues)
		assert.NotEmpty(t, aws.ToString(in.ConditionExpression), "every update is conditional")
		attrs("UpdateItem", in.ExpressionAttributeNames, in.UpdateExpression, in.ConditionExpression)
		keys("UpdateItem key", in.Key)
	}
	// The checker itself must catch a stray name.
	stray := bareName.FindAllStringSubmatch("SET ownerEmail = :e", -1)
	require.True(t, slices.ContainsFunc(stray, func(m []string) bool { return m[1] == "ownerEmail" }))
}

// GIVEN a publisher that cannot reach the stream WHEN the job runs THEN the
// error says which subject and Msg-Id failed.
func TestPublishErrorNamesTheMessage(t *testing.T) {
	e := newEnv(t)
	e.beacon("venue-1", "b-1", -time.Minute, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (JetStream{JS: e.js}).Publish(ctx, MsgID("venue-1", "b-1"), []byte(`{}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "edge.beacon.updated")
	assert.Contains(t, err.Error(), "beacon-rotate/venue-1/b-1")
}

func TestMsgIDIsDeterministicAndUnambiguous(t *testing.T) {
	assert.Equal(t, MsgID("v", "b"), MsgID("v", "b"), "every attempt of one rotation carries one id")
	assert.NotEqual(t, MsgID("a.b", "c"), MsgID("a", "b.c"), "ids may contain '.', never '/'")
	assert.NotEqual(t, MsgID("v", "b1"), MsgID("v", "b2"))
}

func TestNewBeaconIDIsRandomAndValid(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, err := NewBeaconID()
		require.NoError(t, err)
		require.True(t, beaconID(id), id)
		require.False(t, seen[id], "collision")
		seen[id] = true
	}
}

func TestValidateRefusesUnsafeSettings(t *testing.T) {
	ok := Rotator{DB: &recorder{}, Pub: &lostPublish{}, Table: "t", Period: time.Hour, Grace: time.Minute}
	require.NoError(t, ok.Validate())
	for name, mut := range map[string]func(*Rotator){
		"no table":   func(r *Rotator) { r.Table = "" },
		"no period":  func(r *Rotator) { r.Period = 0 },
		"no grace":   func(r *Rotator) { r.Grace = 0 },
		"no client":  func(r *Rotator) { r.DB = nil },
		"no publish": func(r *Rotator) { r.Pub = nil },
	} {
		r := ok
		mut(&r)
		assert.Error(t, r.Validate(), name)
	}
	_, err := (&Rotator{}).Run(context.Background())
	assert.Error(t, err)
	assert.False(t, errors.Is(err, edge.ErrUnknownBeaconField))
}
