package marketplace

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Billing events: marketplace-api sends one per purchase to the billing
// queue (<org>-<env>-billing-events); the billing consumer (services/
// billing-stub in dev, the provider's connector elsewhere) charges it.
const (
	// EventPackPurchased is the only event type so far.
	EventPackPurchased = "pack.purchased"
	// MaxBillingEventBytes bounds an event body; anything larger is not ours.
	MaxBillingEventBytes = 4096
)

// BillingEvent is one billable event. PurchaseID is the idempotency key
// of the purchase: a redelivered or resent event carries the same one, so
// a consumer charges a purchase once.
type BillingEvent struct {
	Type       string    `json:"type"`
	PurchaseID string    `json:"purchaseId"`
	Subject    string    `json:"subject"`
	Pack       string    `json:"pack"`
	LicenseID  string    `json:"licenseId"`
	At         time.Time `json:"at"`
}

var purchaseIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{8,128}$`)

// ErrInvalidEvent is wrapped by Validate and DecodeBillingEvent.
var ErrInvalidEvent = errors.New("invalid billing event")

// Validate checks every field.
func (e BillingEvent) Validate() error {
	switch {
	case e.Type != EventPackPurchased:
		return fmt.Errorf("%w: type %q (want %q)", ErrInvalidEvent, e.Type, EventPackPurchased)
	case !purchaseIDRe.MatchString(e.PurchaseID):
		return fmt.Errorf("%w: purchaseId must be 8-128 characters of A-Z a-z 0-9 . _ -", ErrInvalidEvent)
	case ValidateSubject(e.Subject) != nil:
		return fmt.Errorf("%w: %v", ErrInvalidEvent, ValidateSubject(e.Subject))
	case !ValidID(e.Pack):
		return fmt.Errorf("%w: pack %q", ErrInvalidEvent, e.Pack)
	case !fieldRe.MatchString(e.LicenseID):
		return fmt.Errorf("%w: licenseId %q", ErrInvalidEvent, e.LicenseID)
	case e.At.IsZero():
		return fmt.Errorf("%w: at is required", ErrInvalidEvent)
	}
	return nil
}

// Entitlements table (<org>-<env>-entitlements) attributes: one licence per
// subject and pack. ExpiresAt is the table's TTL attribute.
const (
	EntitlementSubject   = "subject"
	EntitlementPack      = "pack"
	EntitlementLicense   = "licence"
	EntitlementGrantedAt = "grantedAt"
	EntitlementExpiresAt = "expiresAt"
)

// DeviceSubject and CohortSubject are the entitlement subjects: a licence
// for one device, or for every device of a cohort.
func DeviceSubject(device string) string { return "device#" + device }

// CohortSubject is the entitlement subject of a whole cohort.
func CohortSubject(cohort string) string { return "cohort#" + cohort }

var subjectIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateSubject accepts "device#<id>" and "cohort#<cohort>".
func ValidateSubject(s string) error {
	kind, id, ok := strings.Cut(s, "#")
	if !ok || (kind != "device" && kind != "cohort") || !subjectIDRe.MatchString(id) {
		return fmt.Errorf("subject %q must be device#<device-id> or cohort#<cohort>", s)
	}
	return nil
}
