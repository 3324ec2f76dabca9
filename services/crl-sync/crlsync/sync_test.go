package crlsync

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
)

// TestMain stops the moto_server motoserver.Endpoint started for a
// standalone run (under `make test` the shared MOTO_ENDPOINT is used).
func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

const (
	caArn         = "arn:aws:acm-pca:ap-southeast-2:123456789012:certificate-authority/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
	trustStoreArn = "arn:aws:elasticloadbalancing:ap-southeast-2:123456789012:truststore/spatialprops-dev-devices/0123456789abcdef"
	crlKey        = "crl/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0.crl"
)

var now = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

// ca is a test certificate authority.
type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, cn string) *ca {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &ca{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// crl is a DER CRL with this number revoking serials, valid 7 days from
// thisUpdate (ACM PCA's ExpirationInDays in stacks/identity.go).
func (c *ca) crl(t *testing.T, number int64, thisUpdate time.Time, serials ...int64) []byte {
	t.Helper()
	var entries []x509.RevocationListEntry
	for _, s := range serials {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: thisUpdate.Add(-time.Minute)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(number), ThisUpdate: thisUpdate, NextUpdate: thisUpdate.AddDate(0, 0, 7),
		RevokedCertificateEntries: entries,
	}, c.cert, c.key)
	require.NoError(t, err)
	return der
}

// env is one test's PKI bucket in moto, the fake trust store and the job.
type env struct {
	s3     *s3.Client
	elb    *fakeELB
	bucket string
	ca     *ca
	logs   *bytes.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	endpoint := motoserver.Endpoint(t)
	c := s3.New(s3.Options{
		Region: "ap-southeast-2", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	bucket := "spatial-pki-test-" + hex.EncodeToString(b)
	ctx := context.Background()
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket), CreateBucketConfiguration: &s3types.CreateBucketConfiguration{
		LocationConstraint: s3types.BucketLocationConstraintApSoutheast2,
	}})
	require.NoError(t, err)
	// Versioned like the PKI bucket, so the trust store names the version.
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	e := &env{s3: c, elb: newFakeELB(c, trustStoreArn), bucket: bucket, ca: newCA(t, "spatialprops test device root CA"), logs: &bytes.Buffer{}}
	e.put(t, CABundleKey, e.ca.pem)
	return e
}

func (e *env) put(t *testing.T, key string, body []byte) {
	t.Helper()
	_, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	require.NoError(t, err)
}

func (e *env) get(t *testing.T, key string) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	require.NoError(t, err, key)
	b, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	return out, b
}

func (e *env) exists(key string) bool {
	_, err := e.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	return err == nil
}

func (e *env) syncer(dryRun bool) *Syncer {
	return &Syncer{
		S3: e.s3, ELB: e.elb, Bucket: e.bucket, CAArn: caArn, TrustStoreArn: trustStoreArn, DryRun: dryRun,
		Log: slog.New(slog.NewJSONHandler(e.logs, nil)), Now: func() time.Time { return now },
	}
}

func (e *env) run(t *testing.T) (*Result, error) {
	t.Helper()
	return e.syncer(false).Run(context.Background())
}

// GIVEN a fresh trust store and the CA's first DER CRL WHEN the job runs
// THEN the CRL is written as PEM under trust/crl/<number>.pem and added to
// the trust store, which now refuses exactly the revoked serials.
func TestFirstRunAddsPEMRevocation(t *testing.T) {
	e := newEnv(t)
	der := e.ca.crl(t, 1, now.Add(-time.Hour), 101, 102)
	e.put(t, crlKey, der)

	res, err := e.run(t)
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, "1", res.CRLNumber)
	assert.Equal(t, 2, res.RevokedSerials)
	assert.Equal(t, int64(1), res.AddedID)
	assert.Empty(t, res.RemovedID)
	assert.Equal(t, []string{"101", "102"}, e.elb.revoked(), "the load balancer refuses the revoked devices")
	assert.Equal(t, []string{"add 1"}, e.elb.calls)

	obj, body := e.get(t, "trust/crl/1.pem")
	block, rest := pem.Decode(body)
	require.NotNil(t, block, "the ALB takes PEM only")
	assert.Equal(t, "X509 CRL", block.Type)
	assert.Equal(t, der, block.Bytes, "the exact CRL the CA signed, re-encoded")
	assert.Empty(t, bytes.TrimSpace(rest))
	assert.Equal(t, "1", obj.Metadata["crl-number"])

	_, st := e.get(t, StateKey)
	var state State
	require.NoError(t, json.Unmarshal(st, &state))
	assert.Equal(t, State{Source: crlKey, CRLNumber: "1", RevocationID: 1, Key: "trust/crl/1.pem", VersionID: aws.ToString(obj.VersionId)}, state)
	assert.NotEmpty(t, state.VersionID, "the trust store reads the version written, not whatever is there later")
	assert.Contains(t, e.logs.String(), `"revokedSerials":2`)
}

// GIVEN a trust store that already holds this CRL WHEN the job runs again
// THEN it changes nothing: no object, no add, no remove.
func TestRerunWithSameCRLDoesNothing(t *testing.T) {
	e := newEnv(t)
	e.put(t, crlKey, e.ca.crl(t, 7, now.Add(-time.Hour), 101))
	_, err := e.run(t)
	require.NoError(t, err)
	before, _ := e.get(t, "trust/crl/7.pem")

	res, err := e.run(t)
	require.NoError(t, err)
	assert.False(t, res.Changed)
	assert.Empty(t, res.RemovedID)
	assert.Equal(t, []string{"add 1"}, e.elb.calls, "the second run must not add the same list again")
	after, _ := e.get(t, "trust/crl/7.pem")
	assert.Equal(t, aws.ToString(before.VersionId), aws.ToString(after.VersionId), "nothing is written twice")
}

// GIVEN an attached CRL WHEN the CA publishes a newer one THEN the new list
// is added before the old is removed (never a moment without a list), and
// the trust store refuses the new set of serials only.
func TestNewerCRLAddsThenRemovesTheOld(t *testing.T) {
	e := newEnv(t)
	e.put(t, crlKey, e.ca.crl(t, 1, now.Add(-2*time.Hour), 101))
	_, err := e.run(t)
	require.NoError(t, err)

	e.put(t, crlKey, e.ca.crl(t, 2, now.Add(-time.Hour), 101, 205))
	res, err := e.run(t)
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, int64(2), res.AddedID)
	assert.Equal(t, []int64{1}, res.RemovedID)
	assert.Equal(t, []string{"add 1", "add 2", "remove [1]"}, e.elb.calls, "add before remove")
	assert.Equal(t, []string{"101", "205"}, e.elb.revoked())
	assert.True(t, e.exists("trust/crl/2.pem"))
}

// GIVEN a run that added the new list but could not remove the old WHEN
// the next run sees the same CRL THEN it only removes the leftover list.
func TestLeftoverListIsRemovedOnTheNextRun(t *testing.T) {
	e := newEnv(t)
	e.put(t, crlKey, e.ca.crl(t, 1, now.Add(-2*time.Hour), 101))
	_, err := e.run(t)
	require.NoError(t, err)
	e.put(t, crlKey, e.ca.crl(t, 2, now.Add(-time.Hour), 102))
	e.elb.failRemove = errors.New("throttled")
	_, err = e.run(t)
	require.ErrorContains(t, err, "remove old revocations [1]")
	assert.Equal(t, []string{"101", "102"}, e.elb.revoked(), "both lists: the new one is attached, nothing was lost")

	e.elb.failRemove = nil
	res, err := e.run(t)
	require.NoError(t, err)
	assert.False(t, res.Changed)
	assert.Equal(t, []int64{1}, res.RemovedID)
	assert.Equal(t, []string{"102"}, e.elb.revoked())
	assert.Equal(t, []string{"add 1", "add 2", "remove [1]"}, e.elb.calls)
}

// GIVEN a CRL signed by another key (a forged or foreign CRL in the bucket)
// WHEN the job runs THEN it is refused and nothing changes: no object, no
// revocation list touched.
func TestCRLSignedByAnotherKeyIsRefused(t *testing.T) {
	e := newEnv(t)
	e.put(t, crlKey, e.ca.crl(t, 1, now.Add(-2*time.Hour), 101))
	_, err := e.run(t)
	require.NoError(t, err)

	other := newCA(t, "spatialprops test device root CA") // same name, other key
	e.put(t, crlKey, other.crl(t, 2, now.Add(-time.Hour)))
	_, err = e.run(t)
	require.ErrorIs(t, err, ErrRefused)
	assert.ErrorContains(t, err, "not signed by the CA")
	assert.Equal(t, []string{"add 1"}, e.elb.calls, "nothing changes in the trust store")
	assert.Equal(t, []string{"101"}, e.elb.revoked(), "the device stays refused")
	assert.False(t, e.exists("trust/crl/2.pem"), "nothing is written")
}

// GIVEN a CRL past its NextUpdate (ACM PCA stopped publishing) WHEN the job
// runs THEN it is refused and nothing changes.
func TestExpiredCRLIsRefused(t *testing.T) {
	e := newEnv(t)
	e.put(t, crlKey, e.ca.crl(t, 3, now.AddDate(0, 0, -8), 101))
	_, err := e.run(t)
	require.ErrorIs(t, err, ErrRefused)
	assert.ErrorContains(t, err, "expired at")
	assert.Empty(t, e.elb.calls)
	assert.False(t, e.exists("trust/crl/3.pem"))
}

// GIVEN an attached CRL WHEN an older CRL shows up (a replayed or restored
// object) THEN it is refused: attaching it would let revoked devices in.
func TestOlderCRLIsRefused(t *testing.T) {
	e := newEnv(t)
	e.put(t, crlKey, e.ca.crl(t, 5, now.Add(-time.Hour), 101, 102))
	_, err := e.run(t)
	require.NoError(t, err)
	e.put(t, crlKey, e.ca.crl(t, 4, now.Add(-2*time.Hour), 101))
	_, err = e.run(t)
	require.ErrorIs(t, err, ErrRefused)
	assert.Equal(t, []string{"101", "102"}, e.elb.revoked())
}

// GIVEN --dry-run WHEN a new CRL is due THEN the job reports what it would
// do and writes nothing.
func TestDryRunReadsOnly(t *testing.T) {
	e := newEnv(t)
	e.put(t, crlKey, e.ca.crl(t, 1, now.Add(-time.Hour), 101))
	res, err := e.syncer(true).Run(context.Background())
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Empty(t, e.elb.calls)
	assert.False(t, e.exists("trust/crl/1.pem"))
	assert.False(t, e.exists(StateKey))
}

// GIVEN no CRL in the bucket (the CA has not published yet) WHEN the job
// runs THEN it fails naming the object, and changes nothing.
func TestMissingCRLNamesTheObject(t *testing.T) {
	e := newEnv(t)
	_, err := e.run(t)
	require.Error(t, err)
	assert.ErrorContains(t, err, "s3://"+e.bucket+"/"+crlKey)
	assert.Empty(t, e.elb.calls)
}

// GIVEN CA ARNs WHEN the CRL key is derived THEN it is crl/<ca-id>.crl, the
// key ACM PCA writes; anything else is refused with the expected shape.
func TestCRLKeyFromCAArn(t *testing.T) {
	k, err := CRLKey(caArn)
	require.NoError(t, err)
	assert.Equal(t, crlKey, k)
	for _, bad := range []string{"", "0b1c2d3e", "arn:aws:acm-pca:ap-southeast-2:123456789012:certificate-authority/"} {
		_, err := CRLKey(bad)
		assert.ErrorContains(t, err, "certificate-authority/<id>", bad)
	}
}

// GIVEN a CA replacement (the new CA's certificate added to the bundle, its
// ARN given to the job) WHEN the new CA's first CRL has a lower number than
// the old CA's THEN it is attached: CRL numbers are per CA, so only CRLs of
// the same CA are compared.
func TestNewCAsCRLIsNotComparedWithTheOldCAs(t *testing.T) {
	e := newEnv(t)
	e.put(t, crlKey, e.ca.crl(t, 40, now.Add(-time.Hour), 101))
	_, err := e.run(t)
	require.NoError(t, err)

	next := newCA(t, "spatialprops test device root CA 2")
	e.put(t, CABundleKey, append(append([]byte{}, e.ca.pem...), next.pem...))
	const nextArn = "arn:aws:acm-pca:ap-southeast-2:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555"
	e.put(t, "crl/11111111-2222-3333-4444-555555555555.crl", next.crl(t, 1, now.Add(-time.Hour), 301))
	s := e.syncer(false)
	s.CAArn = nextArn
	res, err := s.Run(context.Background())
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, []string{"301"}, e.elb.revoked())
	assert.Equal(t, []string{"add 1", "add 2", "remove [1]"}, e.elb.calls)
}
