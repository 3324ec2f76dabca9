// Package shop is the marketplace api: it lists the published packs whose
// attestation verifies (the pack-service catalogue), sells licences for
// licensed packs (a purchase writes the entitlement the CDN presigner
// checks and sends one billing event), and delists a version through the
// provenance gate, the only writer of published/, counting each delist in
// marketplace_delists_total (the MarketplaceDelistSpike alert's series).
package shop

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/spatialprops/spatialprops-infra/marketplace"
	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/pack-service/catalog"
)

// LicenceTerm is how long a purchased licence lasts (the entitlement's TTL).
const LicenceTerm = 365 * 24 * time.Hour

// DB writes entitlements.
type DB interface {
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// Queue sends billing events.
type Queue interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Shop serves the marketplace api.
type Shop struct {
	Catalog           *catalog.Catalog
	DB                DB
	EntitlementsTable string
	Queue             Queue
	BillingQueueURL   string
	// Gate is the provenance gate's base URL; Client calls it, bounded.
	Gate   string
	Client *kit.Client
	Now    func() time.Time
	Log    *slog.Logger

	purchases prometheus.Counter
	delists   prometheus.Counter
}

// Register adds marketplace_purchases_total and marketplace_delists_total.
func (s *Shop) Register(reg prometheus.Registerer) {
	s.purchases = prometheus.NewCounter(prometheus.CounterOpts{Name: "marketplace_purchases_total", Help: "Licences sold (entitlement written, billing event sent)."})
	// One series, exported from start-up at zero, so the MarketplaceDelistSpike
	// alert's absent() rule can tell a quiet marketplace from a missing one;
	// the reason goes to the log line.
	s.delists = prometheus.NewCounter(prometheus.CounterOpts{Name: "marketplace_delists_total", Help: "Pack versions delisted through the provenance gate."})
	reg.MustRegister(s.purchases, s.delists)
}

// Routes adds the api under /api (the ALB routes /api here).
func (s *Shop) Routes(k *kit.Service) {
	k.Handle("GET /api/v1/packs", s.Catalog.List)
	k.Handle("POST /api/v1/purchases", s.purchase)
	k.Handle("POST /api/v1/packs/{pack}/versions/{version}/delist", s.delist)
}

// PurchaseRequest buys a licence of a pack for a device or a cohort.
type PurchaseRequest struct {
	Subject string `json:"subject"`
	Pack    string `json:"pack"`
}

// Purchase is the answer.
type Purchase struct {
	PurchaseID string    `json:"purchaseId"`
	Subject    string    `json:"subject"`
	Pack       string    `json:"pack"`
	LicenseID  string    `json:"licenseId"`
	ExpiresAt  time.Time `json:"expiresAt"`
}

var idemRe = regexp.MustCompile(`^[A-Za-z0-9._-]{8,128}$`)

func (s *Shop) purchase(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if !idemRe.MatchString(key) {
		kit.WriteProblem(w, http.StatusBadRequest, "missing_idempotency_key", "send an Idempotency-Key header of 8-128 characters; a retry with it is charged once")
		return
	}
	var req PurchaseRequest
	if err := kit.DecodeJSON(r, 1024, &req); err != nil {
		kit.WriteProblem(w, http.StatusBadRequest, "invalid_request", "%v", err)
		return
	}
	if err := marketplace.ValidateSubject(req.Subject); err != nil {
		kit.WriteProblem(w, http.StatusBadRequest, "invalid_request", "%v", err)
		return
	}
	docs, err := s.Catalog.Published(r.Context())
	if err != nil {
		s.Log.ErrorContext(r.Context(), "catalogue", "error", err.Error())
		kit.WriteProblem(w, http.StatusServiceUnavailable, "catalogue_unavailable", "the pack catalogue cannot be read; retry")
		return
	}
	var doc *marketplace.Document
	for i := range docs {
		if docs[i].Pack == req.Pack {
			doc = &docs[i]
		}
	}
	switch {
	case doc == nil:
		kit.WriteProblem(w, http.StatusNotFound, "not_published", "pack %q is not published", req.Pack)
		return
	case doc.Access != marketplace.AccessLicensed:
		kit.WriteProblem(w, http.StatusConflict, "open_pack", "pack %q is open (%s): it needs no licence", req.Pack, doc.LicenseID)
		return
	}
	now := s.Now().UTC().Truncate(time.Second)
	p := Purchase{PurchaseID: key, Subject: req.Subject, Pack: req.Pack, LicenseID: doc.LicenseID, ExpiresAt: now.Add(LicenceTerm)}
	// The billing event goes first: a failure after it is retried with the
	// same key (the consumer charges a purchaseId once); a licence granted
	// before a failed event would be free.
	event, _ := json.Marshal(marketplace.BillingEvent{Type: marketplace.EventPackPurchased, PurchaseID: p.PurchaseID,
		Subject: p.Subject, Pack: p.Pack, LicenseID: p.LicenseID, At: now})
	if _, err := s.Queue.SendMessage(r.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(s.BillingQueueURL), MessageBody: aws.String(string(event))}); err != nil {
		s.Log.ErrorContext(r.Context(), "billing event", "purchaseId", key, "error", err.Error())
		kit.WriteProblem(w, http.StatusServiceUnavailable, "billing_unavailable", "the purchase was not recorded; retry with the same Idempotency-Key")
		return
	}
	if _, err := s.DB.PutItem(r.Context(), &dynamodb.PutItemInput{TableName: aws.String(s.EntitlementsTable), Item: map[string]ddbtypes.AttributeValue{
		marketplace.EntitlementSubject: str(p.Subject), marketplace.EntitlementPack: str(p.Pack), marketplace.EntitlementLicense: str(p.LicenseID),
		marketplace.EntitlementGrantedAt: str(now.Format(time.RFC3339)), "purchaseId": str(p.PurchaseID),
		marketplace.EntitlementExpiresAt: &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(p.ExpiresAt.Unix(), 10)},
	}}); err != nil {
		s.Log.ErrorContext(r.Context(), "entitlement", "purchaseId", key, "error", err.Error())
		kit.WriteProblem(w, http.StatusServiceUnavailable, "entitlement_failed", "the licence was not granted; retry with the same Idempotency-Key")
		return
	}
	s.purchases.Inc()
	s.Log.InfoContext(r.Context(), "purchase", "purchaseId", key, "subject", p.Subject, "pack", p.Pack)
	kit.WriteJSON(w, http.StatusCreated, p)
}

// DelistRequest says why.
type DelistRequest struct {
	Reason string `json:"reason"`
}

func (s *Shop) delist(w http.ResponseWriter, r *http.Request) {
	var req DelistRequest
	if err := kit.DecodeJSON(r, 1024, &req); err != nil {
		kit.WriteProblem(w, http.StatusBadRequest, "invalid_request", "%v", err)
		return
	}
	var out map[string]string
	err := s.Client.PostJSON(r.Context(), strings.TrimRight(s.Gate, "/")+"/v1/delist",
		map[string]string{"pack": r.PathValue("pack"), "version": r.PathValue("version"), "reason": req.Reason}, &out, nil)
	var se *kit.StatusError
	switch {
	case errors.As(err, &se) && se.Code < 500:
		kit.WriteJSON(w, se.Code, json.RawMessage(se.Body))
		return
	case err != nil:
		s.Log.ErrorContext(r.Context(), "delist", "error", err.Error())
		kit.WriteProblem(w, http.StatusBadGateway, "gate_unavailable", "the provenance gate did not delist the pack; retry")
		return
	}
	s.delists.Inc()
	s.Log.InfoContext(r.Context(), "delisted", "pack", r.PathValue("pack"), "version", r.PathValue("version"), "reason", req.Reason)
	kit.WriteJSON(w, http.StatusOK, out)
}

func str(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
