package presign

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/edgeworld"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/marketplace"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

type fixture struct {
	w   *edgeworld.World
	db  *dynamodb.Client
	k   *kms.Client
	svc *Service
	api string
	ca  *ecdsa.PrivateKey
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	w := edgeworld.New(t, edgeworld.Options{})
	f := &fixture{w: w, db: dynamodb.NewFromConfig(w.AWS), k: kms.NewFromConfig(w.AWS), now: time.Now()}
	f.ca, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ks := kittest.New("cdn-presigner", 0)
	f.svc = &Service{DB: f.db, KMS: f.k, LedgerTable: w.LedgerTable, DevicesTable: w.DevicesTable, EntitlementsTable: w.EntitlementsTable,
		BaseURL: "https://cdn.dev.spatial.properties", KeyID: w.CDNSignerKey, KeyPairID: "K2JCJMDEHXQW5F", TTL: 5 * time.Minute,
		Now: func() time.Time { return f.now }, Log: ks.Log}
	f.svc.Register(prometheus.NewRegistry())
	Routes(ks.Service, f.svc)
	f.api = kittest.Start(t, ks.Service).API
	return f
}

// device makes a certificate for id (as the device CA would), records it
// in the ledger and the device in the devices table.
func (f *fixture) device(t *testing.T, id, cohort string, serial int64) string {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	san, _ := url.Parse(edge.DeviceURISAN(id))
	tpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: id, OrganizationalUnit: []string{cohort}},
		URIs: []*url.URL{san}, NotBefore: f.now.Add(-time.Hour), NotAfter: f.now.Add(30 * 24 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, f.ca)
	require.NoError(t, err)
	f.put(t, f.w.LedgerTable, map[string]ddbtypes.AttributeValue{
		edge.LedgerSerial: s(edge.SerialHex(big.NewInt(serial))), edge.LedgerDevice: s(id), edge.LedgerCohort: s(cohort),
		edge.LedgerRevoked: &ddbtypes.AttributeValueMemberBOOL{Value: false}, edge.LedgerFingerprint: s(edge.Fingerprint(der))})
	f.put(t, f.w.DevicesTable, map[string]ddbtypes.AttributeValue{edge.DeviceKey: s(id), edge.DeviceCohort: s(cohort), edge.DeviceStatus: s(edge.DeviceActive)})
	return url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
}

func (f *fixture) put(t *testing.T, table string, item map[string]ddbtypes.AttributeValue) {
	t.Helper()
	_, err := f.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
	require.NoError(t, err)
}

func (f *fixture) entitle(t *testing.T, subject, pack string, expires time.Time) {
	f.put(t, f.w.EntitlementsTable, map[string]ddbtypes.AttributeValue{marketplace.EntitlementSubject: s(subject), marketplace.EntitlementPack: s(pack),
		marketplace.EntitlementLicense: s("spatialprops-commercial-1.0"), marketplace.EntitlementExpiresAt: &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)}})
}

func s(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }

// call is what the ALB forwards after mutual TLS: the verified leaf.
func (f *fixture) call(t *testing.T, leaf, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.api+"/v1/presign?path="+url.QueryEscape(path), nil)
	if leaf != "" {
		req.Header.Set(LeafHeader, leaf)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

const licensed = "/licensed/perth-cbd/2026.12/tiles.pmtiles"

// GIVEN a known, active device holding a licence THEN it gets a
// CloudFront canned-policy URL for the published pack that expires within
// 5 minutes, whose signature verifies with the CDN key's public half.
func TestSignedURLVerifiesWithTheCDNKey(t *testing.T) {
	f := newFixture(t)
	leaf := f.device(t, "dev-0001", "pilot-a", 0x1001)
	f.entitle(t, marketplace.DeviceSubject("dev-0001"), "perth-cbd", f.now.Add(24*time.Hour))
	code, body := f.call(t, leaf, licensed)
	require.Equal(t, 200, code, body)
	u, err := url.Parse(body["url"].(string))
	require.NoError(t, err)
	resource := "https://cdn.dev.spatial.properties" + licensed
	assert.Equal(t, resource, u.Scheme+"://"+u.Host+u.Path)
	q := u.Query()
	exp, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	require.NoError(t, err)
	assert.LessOrEqual(t, exp, f.now.Add(MaxTTL).Unix(), "expiry within 5 minutes")
	assert.Greater(t, exp, f.now.Unix())
	assert.Equal(t, "K2JCJMDEHXQW5F", q.Get("Key-Pair-Id"))
	raw := strings.NewReplacer("-", "+", "_", "=", "~", "/").Replace(q.Get("Signature"))
	sig, err := base64.StdEncoding.DecodeString(raw)
	require.NoError(t, err)
	pk, err := f.k.GetPublicKey(context.Background(), &kms.GetPublicKeyInput{KeyId: aws.String(f.w.CDNSignerKey)})
	require.NoError(t, err)
	pub, err := marketplace.ParsePublicKey(pk.PublicKey)
	require.NoError(t, err)
	digest := sha256.Sum256(CannedPolicy(resource, time.Unix(exp, 0)))
	assert.True(t, ecdsa.VerifyASN1(pub, digest[:], sig), "CloudFront verifies the signature over the canned policy")
	assert.Equal(t, `{"Statement":[{"Resource":"`+resource+`","Condition":{"DateLessThan":{"AWS:EpochTime":`+q.Get("Expires")+`}}}]}`, string(CannedPolicy(resource, time.Unix(exp, 0))))
	assert.Equal(t, 1.0, testutil.ToFloat64(f.svc.results.WithLabelValues("signed")))

	// a cohort licence serves every device of the cohort
	other := f.device(t, "dev-0002", "pilot-b", 0x1002)
	f.entitle(t, marketplace.CohortSubject("pilot-b"), "perth-cbd", f.now.Add(24*time.Hour))
	code, _ = f.call(t, other, licensed)
	assert.Equal(t, 200, code)
	// an open pack needs no signature
	code, body = f.call(t, leaf, "/open/coastline/1/tiles.pmtiles")
	require.Equal(t, 200, code)
	assert.Equal(t, "https://cdn.dev.spatial.properties/open/coastline/1/tiles.pmtiles", body["url"])
}

// GIVEN each way a request must fail THEN it fails with its own code: the
// device learns whether it is unknown, revoked or unlicensed, and nothing
// outside published/ is ever signed.
func TestRefusalsAreDistinct(t *testing.T) {
	f := newFixture(t)
	leaf := f.device(t, "dev-0003", "pilot-a", 0x2001)
	f.entitle(t, marketplace.DeviceSubject("dev-0003"), "perth-cbd", f.now.Add(24*time.Hour))
	f.entitle(t, marketplace.DeviceSubject("dev-0003"), "lapsed", f.now.Add(-time.Hour))

	expect := func(name, leaf, path string, status int, code string) {
		t.Helper()
		got, body := f.call(t, leaf, path)
		assert.Equal(t, status, got, name)
		assert.Equal(t, code, body["error"], "%s: %v", name, body)
	}
	expect("no certificate", "", licensed, 401, "no_client_certificate")
	expect("staging", leaf, "/staging/acme/perth-cbd/2026.12/tiles.pmtiles", 400, "not_published")
	expect("published prefix", leaf, "/published/licensed/perth-cbd/2026.12/tiles.pmtiles", 400, "not_published")
	expect("unlicensed pack", leaf, "/licensed/sydney-cbd/1/tiles.pmtiles", 403, "unlicensed")
	expect("lapsed licence", leaf, "/licensed/lapsed/1/tiles.pmtiles", 403, "unlicensed")

	// a certificate the ledger does not know (same device, serial and
	// subject as a real one, other key): unknown
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	san, _ := url.Parse(edge.DeviceURISAN("dev-0003"))
	tpl := &x509.Certificate{SerialNumber: big.NewInt(0x2001), Subject: pkix.Name{CommonName: "dev-0003"}, URIs: []*url.URL{san},
		NotBefore: f.now.Add(-time.Hour), NotAfter: f.now.Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, f.ca)
	expect("forged twin", url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))), licensed, 403, "unknown_device")
	tpl.SerialNumber = big.NewInt(0x9999)
	der, _ = x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, f.ca)
	expect("not in the ledger", url.PathEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))), licensed, 403, "unknown_device")

	// revoked in the ledger (spctl edge rollback), then the device itself
	_, err := f.db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(f.w.LedgerTable),
		Key: map[string]ddbtypes.AttributeValue{edge.LedgerSerial: s(edge.SerialHex(big.NewInt(0x2001)))}, UpdateExpression: aws.String("SET revoked = :t"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":t": &ddbtypes.AttributeValueMemberBOOL{Value: true}}})
	require.NoError(t, err)
	expect("revoked certificate", leaf, licensed, 403, "revoked")
	leaf2 := f.device(t, "dev-0004", "pilot-a", 0x2002)
	f.put(t, f.w.DevicesTable, map[string]ddbtypes.AttributeValue{edge.DeviceKey: s("dev-0004"), edge.DeviceCohort: s("pilot-a"), edge.DeviceStatus: s(edge.DeviceRevoked)})
	expect("revoked device", leaf2, licensed, 403, "revoked")
	assert.Equal(t, 2.0, testutil.ToFloat64(f.svc.results.WithLabelValues("unlicensed")))
	assert.Equal(t, 0.0, testutil.ToFloat64(f.svc.results.WithLabelValues("signed")), "nothing was signed")
}
