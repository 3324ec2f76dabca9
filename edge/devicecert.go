package edge

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"time"
)

// The device certificate contract. A device certificate is issued by the
// environment's device CA (a subordinate of the offline root) with the
// EndEntityClientAuthCertificate template; these rules are what the
// enrollment service asks for and what a verifier (NATS's auth callout, the
// presigner behind the ALB, this package's tests) may rely on.
//
//   - subject CN = the device id, OU = the device's cohort;
//   - exactly one URI SAN, DeviceURISAN(device id): the NATS auth callout
//     maps it to a user of the device's own;
//   - validity = identity.deviceCertDays (1..MaxDeviceCertDays; at most 7
//     when the device CA runs in short-lived mode);
//   - the device renews once two thirds of the lifetime have passed, leaving
//     a third (10 days at 30) to ride out being offline;
//   - revoking a cohort revokes every serial ever issued to it, then waits
//     for the CRL (ALB) and OCSP (NATS) to reflect it.

// MaxDeviceCertDays is the longest device certificate lifetime allowed.
const MaxDeviceCertDays = 30

// cohortRe is a cohort name; unlike a device id it never becomes a NATS
// subject token, so '.' is allowed.
var cohortRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// DeviceCertSpec is what the enrollment service requests for one device.
type DeviceCertSpec struct {
	DeviceID string
	Cohort   string
	Days     int
}

// Validate refuses a spec that would produce a certificate outside the
// contract.
func (s DeviceCertSpec) Validate() error {
	var errs []error
	if !ValidDeviceID(s.DeviceID) {
		errs = append(errs, fmt.Errorf("device id %q must be 1-64 letters, digits, '_' or '-' (it is a NATS subject token)", s.DeviceID))
	}
	if !cohortRe.MatchString(s.Cohort) {
		errs = append(errs, fmt.Errorf("cohort %q must be 1-64 letters, digits, '.', '_' or '-'", s.Cohort))
	}
	if s.Days < 1 || s.Days > MaxDeviceCertDays {
		errs = append(errs, fmt.Errorf("validity %d days must be between 1 and %d", s.Days, MaxDeviceCertDays))
	}
	return errors.Join(errs...)
}

// Lifetime is the certificate's validity.
func (s DeviceCertSpec) Lifetime() time.Duration { return time.Duration(s.Days) * 24 * time.Hour }

// RenewAt is when a device must renew a certificate: two thirds of the way
// from NotBefore to NotAfter.
func RenewAt(c *x509.Certificate) time.Time {
	life := c.NotAfter.Sub(c.NotBefore)
	return c.NotBefore.Add(life * 2 / 3)
}

// NeedsRenewal reports whether a device holding c should renew at now.
func NeedsRenewal(c *x509.Certificate, now time.Time) bool { return !now.Before(RenewAt(c)) }

// CheckDeviceCert verifies that c honours the contract for spec: subject,
// URI SAN, client-auth usage and lifetime (ACM PCA may backdate NotBefore
// by up to an hour, so a lifetime up to one hour longer is accepted).
func CheckDeviceCert(c *x509.Certificate, spec DeviceCertSpec) error {
	var errs []error
	if c.Subject.CommonName != spec.DeviceID {
		errs = append(errs, fmt.Errorf("subject CN %q is not the device id %q", c.Subject.CommonName, spec.DeviceID))
	}
	if len(c.Subject.OrganizationalUnit) != 1 || c.Subject.OrganizationalUnit[0] != spec.Cohort {
		errs = append(errs, fmt.Errorf("subject OU %v is not the cohort %q", c.Subject.OrganizationalUnit, spec.Cohort))
	}
	want := DeviceURISAN(spec.DeviceID)
	if len(c.URIs) != 1 || c.URIs[0].String() != want {
		errs = append(errs, fmt.Errorf("URI SANs %v are not exactly [%s]: NATS maps a device by its one device SAN", c.URIs, want))
	}
	if len(c.DNSNames)+len(c.EmailAddresses)+len(c.IPAddresses) > 0 {
		errs = append(errs, errors.New("a device certificate carries no DNS, e-mail or IP SAN"))
	}
	clientAuth := false
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageClientAuth {
			clientAuth = true
		}
	}
	if !clientAuth {
		errs = append(errs, errors.New("extended key usage lacks clientAuth"))
	}
	if c.IsCA {
		errs = append(errs, errors.New("a device certificate must not be a CA"))
	}
	life := c.NotAfter.Sub(c.NotBefore)
	if life > spec.Lifetime()+time.Hour || life < spec.Lifetime()-time.Hour {
		errs = append(errs, fmt.Errorf("lifetime %s is not %d days", life, spec.Days))
	}
	if life > MaxDeviceCertDays*24*time.Hour+time.Hour {
		errs = append(errs, fmt.Errorf("lifetime %s exceeds %d days", life, MaxDeviceCertDays))
	}
	return errors.Join(errs...)
}

// IssuedCert is one ledger row: a serial issued to a device of a cohort.
type IssuedCert struct {
	DeviceID string
	Cohort   string
	Serial   *big.Int
}

// Ledger lists every serial issued to a cohort (the device-ledger table's
// by-cohort index), including those of certificates already renewed.
type Ledger interface {
	CohortSerials(ctx context.Context, cohort string) ([]IssuedCert, error)
}

// Revoker revokes one serial on the CA (acm-pca:RevokeCertificate).
type Revoker interface {
	Revoke(ctx context.Context, serial *big.Int, reason string) error
}

// RevokeCohort revokes every serial ever issued to cohort. Renewed
// certificates are revoked too: an older one may still be within its
// validity. It returns the serials revoked; verifiers refuse them once the
// CA has republished its CRL (ALB trust store) and OCSP answers (NATS). It
// stops at the first error so the operator can rerun it; revoking an
// already revoked serial is treated by the caller's Revoker as success.
func RevokeCohort(ctx context.Context, ledger Ledger, rev Revoker, cohort, reason string) ([]*big.Int, error) {
	if cohort == "" {
		return nil, errors.New("cohort is empty; refusing to revoke")
	}
	certs, err := ledger.CohortSerials(ctx, cohort)
	if err != nil {
		return nil, fmt.Errorf("listing cohort %s: %w", cohort, err)
	}
	var done []*big.Int
	for _, c := range certs {
		if c.Cohort != cohort {
			return done, fmt.Errorf("ledger returned serial %s of cohort %q for cohort %q", c.Serial, c.Cohort, cohort)
		}
		if err := rev.Revoke(ctx, c.Serial, reason); err != nil {
			return done, fmt.Errorf("revoking %s (device %s): %w", c.Serial.Text(16), c.DeviceID, err)
		}
		done = append(done, c.Serial)
	}
	return done, nil
}
