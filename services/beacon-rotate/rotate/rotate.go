// Package rotate is the beacon rotation job: it replaces every beacon whose
// rotatesAt has passed with a successor under a fresh random id, keeps the
// old id valid through its grace window (until its own expiresAt, when
// DynamoDB TTL removes it), and announces each rotation once on
// edge.beacon.updated.
//
// A rotation is three writes and a publish, each safe to repeat:
//
//  1. claim: the old item gets successorId, on condition it has none, so
//     two runs (concurrent, or a re-run) never make two successors;
//  2. the successor item, on condition its id is new;
//  3. publish, with Nats-Msg-Id derived from (venueId, old beaconId), so
//     JetStream drops a repeat inside its duplicate window;
//  4. mark announced: the old item's rotatesAt becomes its expiresAt.
//
// A claimed item whose rotatesAt is still below its expiresAt is a rotation
// whose announcement may have been lost (the run died between 1 and 4); the
// next run finishes it with the same successor and the same Msg-Id. A fully
// rotated item matches nothing, so a second run has nothing to do.
//
// Every DynamoDB call has its own deadline (CallTimeout) and every publish
// attempt its own (PublishTimeout), with at most PublishAttempts tries
// (backoff with jitter; the Msg-Id makes a retry harmless). When an
// announcement still fails, NATS is taken as unavailable for the rest of
// the run: no further beacon is claimed (each is counted Deferred), so an
// outage costs one announcement's attempts, not the run's whole timeout,
// and leaves one claimed rotation for the next run to finish.
//
// Every request names only edge.BeaconAttributes, asks for
// SPECIFIC_ATTRIBUTES and returns NONE: exactly what the IAM role
// irsa-beacon-rotate (stacks/edge_beacons.go) allows.
package rotate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/beacondb"
)

// DynamoDB is the part of the DynamoDB client the job uses. DeleteItem and
// BatchWriteItem are deliberately absent: the role has neither, and expiry is
// TTL's job.
type DynamoDB interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Publisher announces one rotation. duplicate reports that JetStream had
// already stored a message with this id (and dropped this one).
type Publisher interface {
	Publish(ctx context.Context, msgID string, body []byte) (duplicate bool, err error)
}

// Update is the body of an edge.beacon.updated message: ids, the packet
// pointer and times (epoch seconds), nothing personal.
type Update struct {
	VenueID     string `json:"venueId"`
	OldBeaconID string `json:"oldBeaconId"`
	NewBeaconID string `json:"newBeaconId"`
	Packet      string `json:"packet"`
	// OldExpiresAt ends the old id's grace window.
	OldExpiresAt int64 `json:"oldExpiresAt"`
	NewRotatesAt int64 `json:"newRotatesAt"`
	NewExpiresAt int64 `json:"newExpiresAt"`
}

// MsgID is the Nats-Msg-Id of the rotation of (venueID, oldBeaconID). It is
// a pure function of the old item's key, so every attempt to announce one
// rotation carries the same id. "/" cannot occur in either id
// (edge.Beacon.Validate), so the id is unambiguous.
func MsgID(venueID, oldBeaconID string) string {
	return "beacon-rotate/" + venueID + "/" + oldBeaconID
}

// NewBeaconID returns 128 random bits from crypto/rand as 32 hex digits.
func NewBeaconID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("beacon id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Rotator rotates the beacons of one table.
type Rotator struct {
	DB    DynamoDB
	Pub   Publisher
	Table string
	// Period is the successor's lifetime before its own rotation.
	Period time.Duration
	// Grace is how long a successor stays valid after its rotatesAt
	// (its expiresAt = rotatesAt + Grace).
	Grace time.Duration
	// DryRun logs what would rotate and writes and publishes nothing.
	DryRun bool
	Log    *slog.Logger
	// Now and NewID default to the clock and NewBeaconID; tests set them.
	Now   func() time.Time
	NewID func() (string, error)
	// CallTimeout bounds each DynamoDB call, the SDK's retries included;
	// 0 means DefaultCallTimeout.
	CallTimeout time.Duration
	// PublishTimeout bounds each publish attempt, the wait for the stream's
	// acknowledgement included; 0 means DefaultPublishTimeout.
	PublishTimeout time.Duration
	// PublishAttempts bounds the tries of one announcement; 0 means
	// DefaultPublishAttempts.
	PublishAttempts int
	// pubDown is set when an announcement failed all its attempts: the
	// rest of the run claims nothing more.
	pubDown error
}

// Defaults of the per-call bounds.
const (
	DefaultCallTimeout     = 10 * time.Second
	DefaultPublishTimeout  = 5 * time.Second
	DefaultPublishAttempts = 3
	// publishBackoff is the wait after the first failed attempt; it doubles
	// after each, with up to as much again of random jitter.
	publishBackoff = 200 * time.Millisecond
)

// Summary counts one run's outcome.
type Summary struct {
	// Scanned is how many items the scan returned (due or unannounced).
	Scanned int `json:"scanned"`
	// Rotated counts new rotations, announced.
	Rotated int `json:"rotated"`
	// Recovered counts earlier rotations whose announcement this run
	// finished (same successor, same Msg-Id).
	Recovered int `json:"recovered"`
	// Duplicates counts publishes JetStream dropped as already stored.
	Duplicates int `json:"duplicates"`
	// Skipped counts beacons another run claimed first.
	Skipped int `json:"skipped"`
	// Refused counts records that break the beacon contract.
	Refused int `json:"refused"`
	// Failed counts rotations that stopped on an error; the next run
	// finishes them.
	Failed int `json:"failed"`
	// Deferred counts due beacons this run did not start because NATS was
	// unavailable or the run was out of time; the next run does them.
	Deferred int `json:"deferred"`
}

// Validate checks the settings before any request is made.
func (r *Rotator) Validate() error {
	switch {
	case r.DB == nil || (r.Pub == nil && !r.DryRun):
		return errors.New("rotate: DynamoDB client and publisher are required")
	case r.Table == "":
		return errors.New("rotate: table name is required")
	case r.Period < time.Second:
		return fmt.Errorf("rotate: period %s must be at least 1s", r.Period)
	case r.Grace < time.Second:
		return fmt.Errorf("rotate: grace %s must be at least 1s: the old id must stay valid while devices switch", r.Grace)
	}
	return nil
}

// Run rotates every due beacon and finishes every unannounced rotation. It
// keeps going past a failed beacon and returns an error when any beacon
// failed or was refused, so the job exits non-zero and the next run retries.
func (r *Rotator) Run(ctx context.Context) (Summary, error) {
	var s Summary
	if err := r.Validate(); err != nil {
		return s, err
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	r.pubDown = nil // each run gives NATS a fresh chance
	now := r.now().Unix()
	items, err := r.scan(ctx, now)
	if err != nil {
		return s, err
	}
	s.Scanned = len(items)
	for _, item := range items {
		if r.pubDown != nil || ctx.Err() != nil {
			s.Deferred++
			continue
		}
		b, err := beacondb.Decode(item)
		if err != nil {
			s.Refused++
			r.Log.Error("refused beacon record", "venueId", beacondb.KeyString(item, edge.BeaconAttrVenueID), "beaconId", beacondb.KeyString(item, edge.BeaconAttrBeaconID), "err", err)
			continue
		}
		switch {
		case b.SuccessorID == "" && b.RotatesAt <= now:
			r.rotate(ctx, b, &s)
		case b.SuccessorID != "" && b.RotatesAt < b.ExpiresAt:
			r.finish(ctx, b, true, &s)
		}
	}
	r.Log.Info("beacon rotation summary", "table", r.Table, "dryRun", r.DryRun,
		"scanned", s.Scanned, "rotated", s.Rotated, "recovered", s.Recovered, "duplicates", s.Duplicates,
		"skipped", s.Skipped, "refused", s.Refused, "failed", s.Failed, "deferred", s.Deferred)
	if s.Failed > 0 || s.Refused > 0 || s.Deferred > 0 {
		err := fmt.Errorf("rotate: %d rotation(s) failed, %d record(s) refused, %d deferred; the next run retries the failed and deferred ones", s.Failed, s.Refused, s.Deferred)
		if r.pubDown != nil {
			err = fmt.Errorf("%w; NATS unavailable: %v", err, r.pubDown)
		} else if ctx.Err() != nil {
			err = fmt.Errorf("%w; run ended early: %v", err, ctx.Err())
		}
		return s, err
	}
	return s, nil
}

func (r *Rotator) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Rotator) newID() (string, error) {
	if r.NewID != nil {
		return r.NewID()
	}
	return NewBeaconID()
}

// rotate claims b for a new successor and announces it.
func (r *Rotator) rotate(ctx context.Context, b edge.Beacon, s *Summary) {
	log := r.Log.With("venueId", b.VenueID, "beaconId", b.BeaconID)
	id, err := r.newID()
	if err == nil && (id == b.BeaconID || !beaconID(id)) {
		err = fmt.Errorf("generated successor id %q is not a fresh valid beacon id", id)
	}
	if err != nil {
		s.Failed++
		log.Error("rotation failed", "err", err)
		return
	}
	if r.DryRun {
		s.Rotated++
		log.Info("would rotate", "rotatesAt", b.RotatesAt, "expiresAt", b.ExpiresAt)
		return
	}
	// A claimed item keeps rotatesAt below expiresAt until it is announced;
	// an item made without a grace window (rotatesAt == expiresAt) gets one
	// second of it so that "claimed, not yet announced" stays visible.
	pending := min(b.RotatesAt, b.ExpiresAt-1)
	err = r.call(ctx, func(ctx context.Context) error {
		_, err := r.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                aws.String(r.Table),
			Key:                      beacondb.Key(b.VenueID, b.BeaconID),
			UpdateExpression:         aws.String("SET #successorId = :successor, #rotatesAt = :pending"),
			ConditionExpression:      aws.String("attribute_not_exists(#successorId) AND #rotatesAt = :rotatesAt AND #expiresAt = :expiresAt"),
			ExpressionAttributeNames: beacondb.Names(edge.BeaconAttrSuccessorID, edge.BeaconAttrRotatesAt, edge.BeaconAttrExpiresAt),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":successor": beacondb.Str(id), ":pending": beacondb.Num(pending), ":rotatesAt": beacondb.Num(b.RotatesAt), ":expiresAt": beacondb.Num(b.ExpiresAt),
			},
			ReturnValues: types.ReturnValueNone,
		})
		return err
	})
	if beacondb.ConditionFailed(err) {
		s.Skipped++
		log.Info("skipped: claimed by another run or changed since the scan")
		return
	}
	if err != nil {
		s.Failed++
		log.Error("rotation failed: claim", "err", err)
		return
	}
	b.SuccessorID, b.RotatesAt = id, pending
	r.finish(ctx, b, false, s)
}

// finish writes b's successor if it is missing, announces the rotation and
// marks it announced. recovering is true when an earlier run claimed b.
func (r *Rotator) finish(ctx context.Context, b edge.Beacon, recovering bool, s *Summary) {
	msgID := MsgID(b.VenueID, b.BeaconID)
	log := r.Log.With("venueId", b.VenueID, "beaconId", b.BeaconID, "successorId", b.SuccessorID, "msgId", msgID)
	if r.DryRun {
		s.Recovered++
		log.Info("would finish an unannounced rotation")
		return
	}
	fail := func(step string, err error) {
		s.Failed++
		log.Error("rotation failed: "+step, "err", err)
	}
	now := r.now()
	succ := edge.Beacon{
		VenueID: b.VenueID, BeaconID: b.SuccessorID, Packet: b.Packet,
		RotatesAt: now.Add(r.Period).Unix(), ExpiresAt: now.Add(r.Period + r.Grace).Unix(),
	}
	written, err := r.putNew(ctx, succ)
	if err != nil {
		fail("successor", err)
		return
	}
	if !written {
		// An earlier attempt wrote it: announce the times it holds.
		if succ, err = r.get(ctx, b.VenueID, b.SuccessorID); err != nil {
			fail("successor", err)
			return
		}
		if succ.Packet != b.Packet {
			fail("successor", fmt.Errorf("successor %s points at %s, not %s", succ.BeaconID, succ.Packet, b.Packet))
			return
		}
	}
	body, err := json.Marshal(Update{
		VenueID: b.VenueID, OldBeaconID: b.BeaconID, NewBeaconID: succ.BeaconID, Packet: b.Packet,
		OldExpiresAt: b.ExpiresAt, NewRotatesAt: succ.RotatesAt, NewExpiresAt: succ.ExpiresAt,
	})
	if err == nil && len(body) > edge.MaxEnvelopeBytes {
		err = fmt.Errorf("update is %d bytes, over the %d-byte envelope", len(body), edge.MaxEnvelopeBytes)
	}
	if err != nil {
		fail("publish", err)
		return
	}
	dup, err := r.publish(ctx, msgID, body)
	if err != nil {
		r.pubDown = err
		fail("publish", err)
		return
	}
	err = r.call(ctx, func(ctx context.Context) error {
		_, err := r.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                aws.String(r.Table),
			Key:                      beacondb.Key(b.VenueID, b.BeaconID),
			UpdateExpression:         aws.String("SET #rotatesAt = :expiresAt"),
			ConditionExpression:      aws.String("#successorId = :successor AND #expiresAt = :expiresAt"),
			ExpressionAttributeNames: beacondb.Names(edge.BeaconAttrSuccessorID, edge.BeaconAttrRotatesAt, edge.BeaconAttrExpiresAt),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":successor": beacondb.Str(b.SuccessorID), ":expiresAt": beacondb.Num(b.ExpiresAt),
			},
			ReturnValues: types.ReturnValueNone,
		})
		return err
	})
	if err != nil && !beacondb.ConditionFailed(err) {
		fail("mark announced", err)
		return
	}
	if dup {
		s.Duplicates++
	}
	if recovering {
		s.Recovered++
	} else {
		s.Rotated++
	}
	log.Info("rotated", "packet", b.Packet, "oldExpiresAt", b.ExpiresAt, "newRotatesAt", succ.RotatesAt,
		"newExpiresAt", succ.ExpiresAt, "recovered", recovering, "duplicate", dup)
}

// call runs one DynamoDB call under its own deadline.
func (r *Rotator) call(ctx context.Context, f func(context.Context) error) error {
	d := r.CallTimeout
	if d <= 0 {
		d = DefaultCallTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}

// publish announces one rotation: each attempt under its own deadline, at
// most PublishAttempts of them, waiting between them with backoff and
// jitter. Repeating is harmless: JetStream drops a repeated Msg-Id.
func (r *Rotator) publish(ctx context.Context, msgID string, body []byte) (bool, error) {
	timeout, attempts := r.PublishTimeout, r.PublishAttempts
	if timeout <= 0 {
		timeout = DefaultPublishTimeout
	}
	if attempts <= 0 {
		attempts = DefaultPublishAttempts
	}
	var err error
	wait := publishBackoff
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		var dup bool
		dup, err = r.Pub.Publish(pctx, msgID, body)
		cancel()
		if err == nil {
			return dup, nil
		}
		if attempt == attempts || ctx.Err() != nil {
			return false, fmt.Errorf("%w (%d attempt(s), %s each)", err, attempt, timeout)
		}
		jitter := time.Duration(mrand.Int64N(int64(wait) + 1))
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("%w (%d attempt(s), %s each; %v)", err, attempt, timeout, ctx.Err())
		case <-time.After(wait + jitter):
		}
		wait *= 2
	}
}

// scan returns the due and the unannounced items, contract attributes only.
func (r *Rotator) scan(ctx context.Context, now int64) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.ScanInput{
		TableName:                aws.String(r.Table),
		Select:                   types.SelectSpecificAttributes,
		ProjectionExpression:     aws.String(beacondb.Projection()),
		FilterExpression:         aws.String("(attribute_not_exists(#successorId) AND #rotatesAt <= :now) OR (attribute_exists(#successorId) AND #rotatesAt < #expiresAt)"),
		ExpressionAttributeNames: beacondb.Names(edge.BeaconAttributes...),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": beacondb.Num(now),
		},
	}
	var out []map[string]types.AttributeValue
	for {
		var page *dynamodb.ScanOutput
		err := r.call(ctx, func(ctx context.Context) (err error) { page, err = r.DB.Scan(ctx, in); return err })
		if err != nil {
			return nil, fmt.Errorf("rotate: scan %s: %w", r.Table, err)
		}
		out = append(out, page.Items...)
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// get reads one item, contract attributes only.
func (r *Rotator) get(ctx context.Context, venueID, beaconID string) (edge.Beacon, error) {
	var out *dynamodb.GetItemOutput
	err := r.call(ctx, func(ctx context.Context) (err error) {
		out, err = r.DB.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:                aws.String(r.Table),
			Key:                      beacondb.Key(venueID, beaconID),
			ProjectionExpression:     aws.String(beacondb.Projection()),
			ExpressionAttributeNames: beacondb.Names(edge.BeaconAttributes...),
			ConsistentRead:           aws.Bool(true),
		})
		return err
	})
	if err != nil {
		return edge.Beacon{}, err
	}
	if len(out.Item) == 0 {
		return edge.Beacon{}, fmt.Errorf("beacon %s/%s not found", venueID, beaconID)
	}
	return beacondb.Decode(out.Item)
}

// putNew writes b unless an item with its key exists; written is false
// when one does.
func (r *Rotator) putNew(ctx context.Context, b edge.Beacon) (written bool, err error) {
	item, err := beacondb.Encode(b)
	if err != nil {
		return false, err
	}
	err = r.call(ctx, func(ctx context.Context) error {
		_, err := r.DB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                aws.String(r.Table),
			Item:                     item,
			ConditionExpression:      aws.String("attribute_not_exists(#beaconId)"),
			ExpressionAttributeNames: beacondb.Names(edge.BeaconAttrBeaconID),
			ReturnValues:             types.ReturnValueNone,
		})
		return err
	})
	if beacondb.ConditionFailed(err) {
		return false, nil
	}
	return err == nil, err
}

// beaconID reports whether id is usable as a beacon id.
func beaconID(id string) bool {
	return (edge.Beacon{VenueID: "v", BeaconID: id, Packet: "s3://x/p", RotatesAt: 1, ExpiresAt: 1}).Validate() == nil
}
