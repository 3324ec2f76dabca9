package edge

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// issue signs a device certificate with a CA generated in the test, the way
// ACM PCA's client-auth template would, with mutate applied first.
func issue(t *testing.T, spec DeviceCertSpec, mutate func(*x509.Certificate)) *x509.Certificate {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test root"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour * 365)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	san, _ := url.Parse(DeviceURISAN(spec.DeviceID))
	nb := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: spec.DeviceID, OrganizationalUnit: []string{spec.Cohort}},
		URIs: []*url.URL{san}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
		NotBefore: nb, NotAfter: nb.Add(spec.Lifetime()),
	}
	if mutate != nil {
		mutate(tpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

var spec = DeviceCertSpec{DeviceID: "dev-0001", Cohort: "pilot-a", Days: 30}

func TestAContractCertificatePasses(t *testing.T) {
	require.NoError(t, spec.Validate())
	assert.NoError(t, CheckDeviceCert(issue(t, spec, nil), spec))
}

func TestContractViolationsAreNamed(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*x509.Certificate)
		want   string
	}{
		"wrong CN":         {func(c *x509.Certificate) { c.Subject.CommonName = "dev-9999" }, `subject CN "dev-9999" is not the device id "dev-0001"`},
		"wrong OU":         {func(c *x509.Certificate) { c.Subject.OrganizationalUnit = []string{"prod"} }, `subject OU [prod] is not the cohort "pilot-a"`},
		"no device SAN":    {func(c *x509.Certificate) { c.URIs = nil }, "are not exactly [urn:spatial-properties:device:dev-0001]"},
		"another device":   {func(c *x509.Certificate) { c.URIs[0], _ = url.Parse(DeviceURISAN("dev-0002")) }, "are not exactly [urn:spatial-properties:device:dev-0001]"},
		"a service SAN":    {func(c *x509.Certificate) { u, _ := url.Parse(ServiceUserName(UserSystem)); c.URIs = append(c.URIs, u) }, "are not exactly"},
		"a DNS SAN":        {func(c *x509.Certificate) { c.DNSNames = []string{"nats.edge-nats.svc"} }, "no DNS, e-mail or IP SAN"},
		"server auth only": {func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }, "lacks clientAuth"},
		"a year long":      {func(c *x509.Certificate) { c.NotAfter = c.NotBefore.Add(365 * 24 * time.Hour) }, "exceeds 30 days"},
	} {
		t.Run(name, func(t *testing.T) {
			err := CheckDeviceCert(issue(t, spec, tc.mutate), spec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestSpecRefusesLongOrZeroValidity(t *testing.T) {
	for _, days := range []int{0, -1, 31, 365} {
		err := DeviceCertSpec{DeviceID: "d", Cohort: "c", Days: days}.Validate()
		require.Error(t, err, days)
		assert.Contains(t, err.Error(), "must be between 1 and 30")
	}
	assert.Error(t, DeviceCertSpec{DeviceID: "", Cohort: "c", Days: 30}.Validate())
	assert.Error(t, DeviceCertSpec{DeviceID: "d", Cohort: "a/b", Days: 30}.Validate())
	// a device id is a NATS subject token: "a.b" would live inside device
	// "a"'s subjects (edge.device.a.>), and "*" or ">" would match others
	for _, id := range []string{"a.b", "dev*", "dev>", "dev 1"} {
		err := DeviceCertSpec{DeviceID: id, Cohort: "c", Days: 7}.Validate()
		require.Error(t, err, id)
		assert.Contains(t, err.Error(), "it is a NATS subject token")
	}
	// cohorts never become subject tokens and keep '.'
	assert.NoError(t, DeviceCertSpec{DeviceID: "dev-1", Cohort: "venue.perth", Days: 7}.Validate())
}

func TestRenewalAtTwoThirds(t *testing.T) {
	c := issue(t, spec, nil)
	// 30 days from 1 Dec: renew on day 20, leaving 10 days for an offline device.
	assert.Equal(t, time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC), RenewAt(c))
	assert.False(t, NeedsRenewal(c, time.Date(2026, 12, 20, 23, 59, 0, 0, time.UTC)))
	assert.True(t, NeedsRenewal(c, time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC)))
	week := DeviceCertSpec{DeviceID: "d", Cohort: "c", Days: 6}
	assert.Equal(t, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), RenewAt(issue(t, week, nil)))
}

type fakeLedger map[string][]IssuedCert

func (l fakeLedger) CohortSerials(_ context.Context, cohort string) ([]IssuedCert, error) {
	return l[cohort], nil
}

type fakeRevoker struct {
	revoked []string
	failOn  string
}

func (r *fakeRevoker) Revoke(_ context.Context, s *big.Int, _ string) error {
	if s.String() == r.failOn {
		return errors.New("throttled")
	}
	r.revoked = append(r.revoked, s.String())
	return nil
}

func TestRevokeCohortRevokesEverySerialIncludingRenewed(t *testing.T) {
	ledger := fakeLedger{
		"pilot-a": {{"d1", "pilot-a", big.NewInt(1)}, {"d1", "pilot-a", big.NewInt(2)}, {"d2", "pilot-a", big.NewInt(3)}},
		"pilot-b": {{"d3", "pilot-b", big.NewInt(4)}},
	}
	rev := &fakeRevoker{}
	done, err := RevokeCohort(context.Background(), ledger, rev, "pilot-a", "KEY_COMPROMISE")
	require.NoError(t, err)
	assert.Len(t, done, 3)
	assert.Equal(t, []string{"1", "2", "3"}, rev.revoked, "both of d1's certificates, and never pilot-b's")
}

func TestRevokeCohortStopsAndReportsOnError(t *testing.T) {
	ledger := fakeLedger{"c": {{"d1", "c", big.NewInt(1)}, {"d2", "c", big.NewInt(2)}, {"d3", "c", big.NewInt(3)}}}
	rev := &fakeRevoker{failOn: "2"}
	done, err := RevokeCohort(context.Background(), ledger, rev, "c", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "device d2")
	assert.Len(t, done, 1)

	_, err = RevokeCohort(context.Background(), ledger, rev, "", "")
	assert.ErrorContains(t, err, "cohort is empty")
	bad := fakeLedger{"c": {{"d9", "other", big.NewInt(9)}}}
	_, err = RevokeCohort(context.Background(), bad, &fakeRevoker{}, "c", "")
	assert.ErrorContains(t, err, `of cohort "other"`)
}
