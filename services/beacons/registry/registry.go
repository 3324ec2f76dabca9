// Package registry is the beacon registry API: beacon -> packet pointers
// per venue in the beacon table, no personal data. A record is decoded
// strictly against the contract (edge.DecodeBeacon) before anything is
// written, so a field outside it (an owner's e-mail, a phone number) is
// refused at the door with its name; the IAM condition on the writer role
// (dynamodb:Attributes) stays as the second wall.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/beacondb"
	"github.com/spatialprops/spatialprops-infra/services/kit"
)

// maxRecord bounds a registration body; a beacon record is a few hundred bytes.
const maxRecord = 4096

// DB is the part of DynamoDB the registry calls.
type DB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Store reads and writes the beacon table, contract attributes only.
type Store struct {
	DB    DB
	Table string
}

// Put writes b (valid, contract attributes only).
func (s Store) Put(ctx context.Context, b edge.Beacon) error {
	item, err := beacondb.Encode(b)
	if err != nil {
		return err
	}
	_, err = s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table), Item: item, ReturnValues: types.ReturnValueNone})
	return err
}

// Get reads one beacon; found is false when there is none.
func (s Store) Get(ctx context.Context, venue, beacon string) (b edge.Beacon, found bool, err error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: beacondb.Key(venue, beacon),
		ProjectionExpression: aws.String(beacondb.Projection()), ExpressionAttributeNames: beacondb.Names(edge.BeaconAttributes...)})
	if err != nil || len(out.Item) == 0 {
		return edge.Beacon{}, false, err
	}
	b, err = beacondb.Decode(out.Item)
	return b, err == nil, err
}

// Venue lists a venue's beacons.
func (s Store) Venue(ctx context.Context, venue string) ([]edge.Beacon, error) {
	in := &dynamodb.QueryInput{TableName: aws.String(s.Table), Select: types.SelectSpecificAttributes,
		ProjectionExpression: aws.String(beacondb.Projection()), ExpressionAttributeNames: beacondb.Names(edge.BeaconAttributes...),
		KeyConditionExpression:    aws.String("#" + edge.BeaconAttrVenueID + " = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": beacondb.Str(venue)}}
	var out []edge.Beacon
	for {
		page, err := s.DB.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			b, err := beacondb.Decode(it)
			if err != nil {
				return nil, fmt.Errorf("an item of venue %s breaks the contract: %w", venue, err)
			}
			out = append(out, b)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// Venues lists every venue id that has a beacon.
func (s Store) Venues(ctx context.Context) ([]string, error) {
	in := &dynamodb.ScanInput{TableName: aws.String(s.Table), Select: types.SelectSpecificAttributes,
		ProjectionExpression: aws.String("#" + edge.BeaconAttrVenueID), ExpressionAttributeNames: beacondb.Names(edge.BeaconAttrVenueID)}
	seen := map[string]bool{}
	var out []string
	for {
		page, err := s.DB.Scan(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			if v := beacondb.KeyString(it, edge.BeaconAttrVenueID); v != "" && !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// API serves the registry.
type API struct {
	Store Store
	Log   *slog.Logger

	registered prometheus.Counter
	refused    *prometheus.CounterVec
}

// Register adds beacons_registered_total and beacons_refused_total{reason}.
func (a *API) Register(reg prometheus.Registerer) {
	a.registered = prometheus.NewCounter(prometheus.CounterOpts{Name: "beacons_registered_total", Help: "Beacon records written."})
	a.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "beacons_refused_total",
		Help: "Beacon records refused before DynamoDB, by reason (pii: a field outside the no-PII contract)."}, []string{"reason"})
	a.refused.WithLabelValues("pii")
	a.refused.WithLabelValues("invalid")
	reg.MustRegister(a.registered, a.refused)
}

// Routes adds the API: POST /v1/beacons, GET /v1/venues/{venue}/beacons,
// GET /v1/venues/{venue}/beacons/{beacon}.
func (a *API) Routes(s *kit.Service) {
	s.Handle("POST /v1/beacons", a.put)
	s.Handle("GET /v1/venues/{venue}/beacons", a.venue)
	s.Handle("GET /v1/venues/{venue}/beacons/{beacon}", a.get)
}

func (a *API) put(w http.ResponseWriter, r *http.Request) {
	raw, err := kit.ReadBody(r, maxRecord)
	if err != nil {
		a.refused.WithLabelValues("invalid").Inc()
		status := http.StatusBadRequest
		if errors.Is(err, kit.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		kit.WriteProblem(w, status, "invalid_beacon", "%v", err)
		return
	}
	b, err := edge.DecodeBeacon(raw)
	switch {
	case errors.Is(err, edge.ErrUnknownBeaconField):
		a.refused.WithLabelValues("pii").Inc()
		a.Log.WarnContext(r.Context(), "beacon refused: field outside the contract", "bytes", len(raw), "reason", err.Error())
		kit.WriteProblem(w, http.StatusUnprocessableEntity, "pii_refused", "%v", err)
		return
	case err != nil:
		a.refused.WithLabelValues("invalid").Inc()
		kit.WriteProblem(w, http.StatusBadRequest, "invalid_beacon", "%v", err)
		return
	}
	if err := a.Store.Put(r.Context(), b); err != nil {
		a.Log.ErrorContext(r.Context(), "put beacon", "venue", b.VenueID, "beacon", b.BeaconID, "error", err.Error())
		kit.WriteProblem(w, http.StatusServiceUnavailable, "store_failed", "the beacon was not stored; retry")
		return
	}
	a.registered.Inc()
	a.Log.InfoContext(r.Context(), "beacon registered", "venue", b.VenueID, "beacon", b.BeaconID)
	kit.WriteJSON(w, http.StatusCreated, b)
}

func (a *API) get(w http.ResponseWriter, r *http.Request) {
	b, found, err := a.Store.Get(r.Context(), r.PathValue("venue"), r.PathValue("beacon"))
	switch {
	case err != nil:
		a.Log.ErrorContext(r.Context(), "get beacon", "error", err.Error())
		kit.WriteProblem(w, http.StatusServiceUnavailable, "read_failed", "the beacon could not be read; retry")
	case !found:
		kit.WriteProblem(w, http.StatusNotFound, "not_found", "no beacon %s in venue %s", r.PathValue("beacon"), r.PathValue("venue"))
	default:
		kit.WriteJSON(w, http.StatusOK, b)
	}
}

func (a *API) venue(w http.ResponseWriter, r *http.Request) {
	bs, err := a.Store.Venue(r.Context(), r.PathValue("venue"))
	if err != nil {
		a.Log.ErrorContext(r.Context(), "list venue", "error", err.Error())
		kit.WriteProblem(w, http.StatusServiceUnavailable, "read_failed", "the venue could not be read; retry")
		return
	}
	kit.WriteJSON(w, http.StatusOK, map[string]any{"beacons": bs})
}
