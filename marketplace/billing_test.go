package marketplace

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBillingEventValidation(t *testing.T) {
	good := BillingEvent{Type: EventPackPurchased, PurchaseID: "purchase-0001", Subject: DeviceSubject("dev-1"), Pack: "perth-cbd", LicenseID: "spatialprops-commercial-1.0", At: time.Unix(1800000000, 0)}
	assert.NoError(t, good.Validate())
	for name, edit := range map[string]func(*BillingEvent){
		"type":     func(e *BillingEvent) { e.Type = "pack.refunded" },
		"purchase": func(e *BillingEvent) { e.PurchaseID = "x" },
		"subject":  func(e *BillingEvent) { e.Subject = "user#alice@example.com" },
		"pack":     func(e *BillingEvent) { e.Pack = "../etc" },
		"licence":  func(e *BillingEvent) { e.LicenseID = "" },
		"at":       func(e *BillingEvent) { e.At = time.Time{} },
	} {
		e := good
		edit(&e)
		assert.ErrorIs(t, e.Validate(), ErrInvalidEvent, name)
	}
	assert.NoError(t, ValidateSubject(CohortSubject("pilot-a")))
}
