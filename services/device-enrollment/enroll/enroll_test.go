package enroll

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/edgeworld"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

// recordingPCA passes every call to moto's ACM PCA and keeps the issue
// requests: moto ignores Validity and templates (it issues 365-day
// certificates), so what the service asks for is checked on the request,
// which real ACM PCA honours.
type recordingPCA struct {
	*acmpca.Client
	mu     sync.Mutex
	issued []*acmpca.IssueCertificateInput
}

func (r *recordingPCA) IssueCertificate(ctx context.Context, in *acmpca.IssueCertificateInput, o ...func(*acmpca.Options)) (*acmpca.IssueCertificateOutput, error) {
	r.mu.Lock()
	r.issued = append(r.issued, in)
	r.mu.Unlock()
	return r.Client.IssueCertificate(ctx, in, o...)
}

type fixture struct {
	w   *edgeworld.World
	svc *Service
	pca *recordingPCA
	db  *dynamodb.Client
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	w := edgeworld.New(t, edgeworld.Options{})
	f := &fixture{w: w, pca: &recordingPCA{Client: acmpca.NewFromConfig(w.AWS)}, db: dynamodb.NewFromConfig(w.AWS), now: time.Now()}
	f.svc = &Service{PCA: f.pca, DB: f.db, CAArn: w.DeviceCA, SigningAlgorithm: pcatypes.SigningAlgorithmSha256withecdsa, Days: 30,
		LedgerTable: w.LedgerTable, DevicesTable: w.DevicesTable, Now: func() time.Time { return f.now }, Log: kittest.New("t", 0).Log}
	f.svc.Register(prometheus.NewRegistry())
	return f
}

func key(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func (f *fixture) token(t *testing.T, device, cohort string) string {
	t.Helper()
	tok, err := NewToken(context.Background(), f.db, f.w.DevicesTable, device, cohort, time.Hour, f.now)
	require.NoError(t, err)
	return tok
}

func refusal(t *testing.T, err error) string {
	t.Helper()
	var r *Refusal
	require.True(t, errors.As(err, &r), "want a refusal, got %v", err)
	return r.Code
}

func parse(t *testing.T, p string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(p))
	require.NotNil(t, b)
	c, err := x509.ParseCertificate(b.Bytes)
	require.NoError(t, err)
	return c
}

func (f *fixture) ledger(t *testing.T, serial string) map[string]ddbtypes.AttributeValue {
	out, err := f.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(f.w.LedgerTable),
		Key: map[string]ddbtypes.AttributeValue{edge.LedgerSerial: str(serial)}})
	require.NoError(t, err)
	return out.Item
}

func (f *fixture) device(t *testing.T, id string) map[string]ddbtypes.AttributeValue {
	out, err := f.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(f.w.DevicesTable),
		Key: map[string]ddbtypes.AttributeValue{edge.DeviceKey: str(id)}})
	require.NoError(t, err)
	return out.Item
}

// GIVEN a provisioned device and its token WHEN it enrolls with a CSR for
// itself THEN the CA is asked for an end-entity client-auth certificate of
// deviceCertDays, the certificate names the device alone and chains to the
// device CA, the ledger records it, and the token is gone: a second
// enrollment with it is refused.
func TestEnrollIssuesOnceAndRecordsTheLedger(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "dev-0001", "pilot-a")
	k := key(t)
	csr, _, err := CSR(k, "dev-0001", "pilot-a")
	require.NoError(t, err)
	out, err := f.svc.Enroll(context.Background(), EnrollRequest{Device: "dev-0001", Token: tok, CSR: csr})
	require.NoError(t, err)

	require.Len(t, f.pca.issued, 1)
	in := f.pca.issued[0]
	assert.Equal(t, EndEntityClientAuthTemplate, aws.ToString(in.TemplateArn), "the only template the enrollment role may use")
	assert.Equal(t, pcatypes.ValidityPeriodTypeDays, in.Validity.Type)
	assert.Equal(t, int64(30), aws.ToInt64(in.Validity.Value), "validity = deviceCertDays")
	assert.LessOrEqual(t, aws.ToInt64(in.Validity.Value), int64(edge.MaxDeviceCertDays))

	cert := parse(t, out.Certificate)
	id, err := edge.CertDeviceID(cert)
	require.NoError(t, err)
	assert.Equal(t, "dev-0001", id)
	ca := parse(t, out.Chain)
	assert.NoError(t, cert.CheckSignatureFrom(ca), "issued by the device CA")
	assert.Equal(t, edge.SerialHex(cert.SerialNumber), out.Serial)
	assert.Equal(t, edge.RenewAt(cert).UTC(), out.RenewAt, "renew at two thirds of the life")

	led := f.ledger(t, out.Serial)
	require.NotNil(t, led, "every issued serial is in the ledger")
	assert.Equal(t, "dev-0001", sval(led[edge.LedgerDevice]))
	assert.Equal(t, "pilot-a", sval(led[edge.LedgerCohort]))
	assert.Equal(t, cert.NotAfter.UTC().Format(time.RFC3339), sval(led[edge.LedgerNotAfter]))
	assert.False(t, bval(led[edge.LedgerRevoked]))
	assert.Equal(t, edge.Fingerprint(cert.Raw), sval(led[edge.LedgerFingerprint]))
	dev := f.device(t, "dev-0001")
	assert.Equal(t, out.Serial, sval(dev[edge.DeviceCurrentSerial]))
	assert.NotContains(t, dev, edge.DeviceTokenHash, "the token works once")

	_, err = f.svc.Enroll(context.Background(), EnrollRequest{Device: "dev-0001", Token: tok, CSR: csr})
	assert.Equal(t, "no_token", refusal(t, err))
	assert.Len(t, f.pca.issued, 1, "nothing more was issued")
}

// GIVEN bad bootstrap credentials THEN each is refused with its own code
// and nothing is issued.
func TestEnrollRefusesBadCredentials(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "dev-0002", "pilot-a")
	csr, _, err := CSR(key(t), "dev-0002", "pilot-a")
	require.NoError(t, err)
	_, err = f.svc.Enroll(context.Background(), EnrollRequest{Device: "dev-0002", Token: tok + "x", CSR: csr})
	assert.Equal(t, "bad_token", refusal(t, err))
	_, err = f.svc.Enroll(context.Background(), EnrollRequest{Device: "dev-9999", Token: tok, CSR: csr})
	assert.Equal(t, "unknown_device", refusal(t, err))
	f.now = f.now.Add(2 * time.Hour)
	_, err = f.svc.Enroll(context.Background(), EnrollRequest{Device: "dev-0002", Token: tok, CSR: csr})
	assert.Equal(t, "token_expired", refusal(t, err))
	assert.Empty(t, f.pca.issued)
}

// GIVEN a CSR whose SAN names anything but the device itself THEN it is
// refused before the CA is asked (the key rule: a device's certificate
// cannot name a server, another device or a service user).
func TestEnrollRefusesACSRNamingAnythingButTheDevice(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "dev-0003", "pilot-a")
	k := key(t)
	mk := func(tpl *x509.CertificateRequest) string {
		der, err := x509.CreateCertificateRequest(rand.Reader, tpl, k)
		require.NoError(t, err)
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	}
	uri := func(s string) *url.URL { u, _ := url.Parse(s); return u }
	subject := pkix.Name{CommonName: "dev-0003", OrganizationalUnit: []string{"pilot-a"}}
	for name, tpl := range map[string]*x509.CertificateRequest{
		"extra DNS name":  {Subject: subject, URIs: []*url.URL{uri(edge.DeviceURISAN("dev-0003"))}, DNSNames: []string{"presign.spatial.properties"}},
		"another device":  {Subject: subject, URIs: []*url.URL{uri(edge.DeviceURISAN("dev-0004"))}},
		"two devices":     {Subject: subject, URIs: []*url.URL{uri(edge.DeviceURISAN("dev-0003")), uri(edge.DeviceURISAN("dev-0004"))}},
		"a service user":  {Subject: subject, URIs: []*url.URL{uri(edge.ServiceUserName(edge.UserStreamAdmin))}},
		"an IP address":   {Subject: subject, URIs: []*url.URL{uri(edge.DeviceURISAN("dev-0003"))}, IPAddresses: []net.IP{net.ParseIP("10.0.0.1")}},
		"no SAN":          {Subject: subject},
		"CN of another":   {Subject: pkix.Name{CommonName: "dev-0004", OrganizationalUnit: []string{"pilot-a"}}, URIs: []*url.URL{uri(edge.DeviceURISAN("dev-0003"))}},
		"another cohort":  {Subject: pkix.Name{CommonName: "dev-0003", OrganizationalUnit: []string{"prod"}}, URIs: []*url.URL{uri(edge.DeviceURISAN("dev-0003"))}},
		"extra subject O": {Subject: pkix.Name{CommonName: "dev-0003", OrganizationalUnit: []string{"pilot-a"}, Organization: []string{"x"}}, URIs: []*url.URL{uri(edge.DeviceURISAN("dev-0003"))}},
	} {
		_, err := f.svc.Enroll(context.Background(), EnrollRequest{Device: "dev-0003", Token: tok, CSR: mk(tpl)})
		assert.Equal(t, "bad_csr", refusal(t, err), name)
	}
	assert.Empty(t, f.pca.issued, "no refused CSR reached the CA")
	assert.NotNil(t, f.device(t, "dev-0003")[edge.DeviceTokenHash], "a refused request leaves the token usable")
}

// GIVEN an enrolled device WHEN it renews at two thirds of its
// certificate's life with proof of its current key THEN it gets a new
// certificate, the ledger keeps both serials (the old one stays revocable),
// and the old certificate can no longer renew. An expired certificate,
// a revoked one, and a proof from another key are refused.
func TestRenewal(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "dev-0005", "pilot-a")
	k1 := key(t)
	csr1, _, err := CSR(k1, "dev-0005", "pilot-a")
	require.NoError(t, err)
	first, err := f.svc.Enroll(context.Background(), EnrollRequest{Device: "dev-0005", Token: tok, CSR: csr1})
	require.NoError(t, err)
	cert1 := parse(t, first.Certificate)

	k2 := key(t)
	csr2, der2, err := CSR(k2, "dev-0005", "pilot-a")
	require.NoError(t, err)
	bad, err := Proof(key(t), der2)
	require.NoError(t, err)
	f.now = edge.RenewAt(cert1).Add(time.Second)
	require.True(t, edge.NeedsRenewal(cert1, f.now))
	_, err = f.svc.Renew(context.Background(), RenewRequest{Certificate: first.Certificate, CSR: csr2, Proof: bad})
	assert.Equal(t, "bad_proof", refusal(t, err))

	proof, err := Proof(k1, der2)
	require.NoError(t, err)
	second, err := f.svc.Renew(context.Background(), RenewRequest{Certificate: first.Certificate, CSR: csr2, Proof: proof})
	require.NoError(t, err)
	assert.NotEqual(t, first.Serial, second.Serial)
	assert.NotNil(t, f.ledger(t, first.Serial), "the old serial stays in the ledger, so a cohort revocation still finds it")
	assert.NotNil(t, f.ledger(t, second.Serial))
	assert.Equal(t, second.Serial, sval(f.device(t, "dev-0005")[edge.DeviceCurrentSerial]))
	assert.Equal(t, int64(30), aws.ToInt64(f.pca.issued[1].Validity.Value))

	_, err = f.svc.Renew(context.Background(), RenewRequest{Certificate: first.Certificate, CSR: csr2, Proof: proof})
	assert.Equal(t, "superseded", refusal(t, err), "only the newest certificate renews")

	// revoked in the ledger (what spctl edge rollback writes)
	_, err = f.db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(f.w.LedgerTable),
		Key: map[string]ddbtypes.AttributeValue{edge.LedgerSerial: str(second.Serial)}, UpdateExpression: aws.String("SET revoked = :t"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":t": &ddbtypes.AttributeValueMemberBOOL{Value: true}}})
	require.NoError(t, err)
	csr3, der3, _ := CSR(key(t), "dev-0005", "pilot-a")
	proof3, _ := Proof(k2, der3)
	_, err = f.svc.Renew(context.Background(), RenewRequest{Certificate: second.Certificate, CSR: csr3, Proof: proof3})
	assert.Equal(t, "certificate_revoked", refusal(t, err))

	// expired
	f.now = parse(t, second.Certificate).NotAfter.Add(time.Minute)
	_, err = f.svc.Renew(context.Background(), RenewRequest{Certificate: second.Certificate, CSR: csr3, Proof: proof3})
	assert.Equal(t, "certificate_revoked", refusal(t, err), "revocation is checked first")
}

func TestRenewRefusesAnExpiredCertificate(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "dev-0006", "pilot-a")
	k := key(t)
	csr, _, _ := CSR(k, "dev-0006", "pilot-a")
	first, err := f.svc.Enroll(context.Background(), EnrollRequest{Device: "dev-0006", Token: tok, CSR: csr})
	require.NoError(t, err)
	f.now = parse(t, first.Certificate).NotAfter.Add(time.Second)
	csr2, der2, _ := CSR(key(t), "dev-0006", "pilot-a")
	proof, _ := Proof(k, der2)
	_, err = f.svc.Renew(context.Background(), RenewRequest{Certificate: first.Certificate, CSR: csr2, Proof: proof})
	assert.Equal(t, "certificate_expired", refusal(t, err))
}

// failingPCA is a CA that refuses to issue (throttled, or down).
type failingPCA struct{ *acmpca.Client }

func (failingPCA) IssueCertificate(context.Context, *acmpca.IssueCertificateInput, ...func(*acmpca.Options)) (*acmpca.IssueCertificateOutput, error) {
	return nil, errors.New("ThrottlingException: rate exceeded")
}

// GIVEN a CA that fails THEN the device gets a 502 it may retry, the token
// survives for that retry, and device_certificate_issue_failures_total
// (the DeviceEnrollmentIssueFailures alert's series) counts it.
func TestAFailingCAIsCountedAndTheTokenSurvives(t *testing.T) {
	f := newFixture(t)
	f.svc.PCA = failingPCA{}
	ks := kittest.New("device-enrollment", 0)
	f.svc.Register(ks.Metrics)
	Routes(ks.Service, f.svc)
	url := kittest.Start(t, ks.Service).API
	tok := f.token(t, "dev-0007", "pilot-a")
	csr, _, _ := CSR(key(t), "dev-0007", "pilot-a")
	body, _ := json.Marshal(EnrollRequest{Device: "dev-0007", Token: tok, CSR: csr})
	resp, err := http.Post(url+"/v1/enroll", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Equal(t, 1.0, testutil.ToFloat64(f.svc.failures))
	assert.NotNil(t, f.device(t, "dev-0007")[edge.DeviceTokenHash], "the token is still there for the retry")
}
