package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/edgeworld"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/marketplace"
	"github.com/spatialprops/spatialprops-infra/services/kit/awskit"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

type fixture struct {
	w   *edgeworld.World
	g   *Gate
	s3  *s3.Client
	api string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	w := edgeworld.New(t, edgeworld.Options{})
	f := &fixture{w: w, s3: w.S3()}
	ks := kittest.New("provenance-gate", 0)
	f.g = &Gate{S3: f.s3, KMS: kms.NewFromConfig(w.AWS), Bucket: w.PacksBucket, KeyID: w.Names.ProvenanceKeyAlias(),
		Licences:   map[string]string{"CC-BY-4.0": marketplace.AccessOpen, "spatialprops-commercial-1.0": marketplace.AccessLicensed},
		Publishers: map[string]bool{"acme-maps": true, "other-maps": true}, Now: time.Now, Log: ks.Log}
	f.g.Register(prometheus.NewRegistry())
	f.g.Routes(ks.Service)
	f.api = kittest.Start(t, ks.Service).API
	return f
}

func (f *fixture) stage(t *testing.T, publisher string, p marketplace.Pack, body []byte) {
	t.Helper()
	_, err := f.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(f.w.PacksBucket),
		Key: aws.String(marketplace.StagingKey(publisher, p)), Body: bytes.NewReader(body)})
	require.NoError(t, err)
}

func (f *fixture) publish(t *testing.T, req PublishRequest) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(req)
	resp, err := http.Post(f.api+"/v1/publish", "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func (f *fixture) keys(t *testing.T, prefix string) []string {
	t.Helper()
	k, err := awskit.Bucket{S3: f.s3, Name: f.w.PacksBucket}.Keys(context.Background(), prefix)
	require.NoError(t, err)
	return k
}

func (f *fixture) catalogue(t *testing.T) []marketplace.Document {
	t.Helper()
	pk, err := f.g.publicKey(context.Background())
	require.NoError(t, err)
	docs, bad, err := marketplace.Catalogue(context.Background(), awskit.Bucket{S3: f.s3, Name: f.w.PacksBucket}, pk)
	require.NoError(t, err)
	require.Empty(t, bad)
	return docs
}

var pack = marketplace.Pack{Pack: "perth-cbd", Version: "2026.12", File: "tiles.pmtiles"}

// GIVEN a staged file and a request with its digest, a known licence and a
// registered publisher THEN the gate publishes it under the licence's
// access with an attestation that verifies against the file's bytes with
// the provenance key's public half, and counts it valid.
func TestPublishAttestsThenPublishes(t *testing.T) {
	f := newFixture(t)
	body := []byte("PMTiles\x03 perth")
	f.stage(t, "acme-maps", pack, body)
	code, out := f.publish(t, PublishRequest{Publisher: "acme-maps", Pack: pack.Pack, Version: pack.Version, File: pack.File,
		SHA256: marketplace.PackDigest(body), LicenseID: "spatialprops-commercial-1.0"})
	require.Equal(t, 201, code, out)
	assert.Equal(t, "/licensed/perth-cbd/2026.12/tiles.pmtiles", out["path"])
	assert.Equal(t, []string{"published/licensed/perth-cbd/2026.12/attestation.json", "published/licensed/perth-cbd/2026.12/tiles.pmtiles"}, f.keys(t, "published/"))
	docs := f.catalogue(t)
	require.Len(t, docs, 1)
	a, err := docs[0].Attestation()
	require.NoError(t, err)
	pk, _ := f.g.publicKey(context.Background())
	got, err := f.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(f.w.PacksBucket), Key: aws.String(marketplace.PublishedKey(marketplace.AccessLicensed, pack))})
	require.NoError(t, err)
	published, _ := io.ReadAll(got.Body)
	assert.NoError(t, marketplace.Verify(pk, published, a), "the attestation proves the published bytes")
	assert.Equal(t, "acme-maps", a.Statement.Publisher)
	assert.Equal(t, 1.0, testutil.ToFloat64(f.g.attestation.WithLabelValues("valid")))
}

// GIVEN a request that breaks any check THEN nothing reaches published/,
// nothing is signed, and each is refused with its own code and counted
// invalid (the attestation check, the key rule of the gate).
func TestRefusedPublishesLeavePublishedUntouched(t *testing.T) {
	f := newFixture(t)
	body := []byte("PMTiles\x03 perth")
	f.stage(t, "acme-maps", pack, body)
	good := PublishRequest{Publisher: "acme-maps", Pack: pack.Pack, Version: pack.Version, File: pack.File, SHA256: marketplace.PackDigest(body), LicenseID: "CC-BY-4.0"}
	for name, c := range map[string]struct {
		edit func(*PublishRequest)
		code string
	}{
		"digest of other bytes": {func(r *PublishRequest) { r.SHA256 = marketplace.PackDigest([]byte("tampered")) }, "digest_mismatch"},
		"unknown licence":       {func(r *PublishRequest) { r.LicenseID = "WTFPL" }, "unknown_licence"},
		"unknown publisher":     {func(r *PublishRequest) { r.Publisher = "mallory" }, "unknown_publisher"},
		"another's upload":      {func(r *PublishRequest) { r.Publisher = "other-maps" }, "not_staged"},
		"path traversal":        {func(r *PublishRequest) { r.Version = ".." }, "invalid_request"},
	} {
		req := good
		c.edit(&req)
		_, out := f.publish(t, req)
		assert.Equal(t, c.code, out["error"], "%s: %v", name, out)
	}
	assert.Empty(t, f.keys(t, "published/"))
	assert.Equal(t, 5.0, testutil.ToFloat64(f.g.attestation.WithLabelValues("invalid")))
	assert.Equal(t, 0.0, testutil.ToFloat64(f.g.attestation.WithLabelValues("valid")))
}

// GIVEN a published version WHEN it is delisted THEN its attestation and
// file are gone and it leaves the catalogue; delisting it again says it is
// not published.
func TestDelist(t *testing.T) {
	f := newFixture(t)
	body := []byte("open data")
	f.stage(t, "acme-maps", pack, body)
	code, _ := f.publish(t, PublishRequest{Publisher: "acme-maps", Pack: pack.Pack, Version: pack.Version, File: pack.File, SHA256: marketplace.PackDigest(body), LicenseID: "CC-BY-4.0"})
	require.Equal(t, 201, code)
	access, err := f.g.Delist(context.Background(), DelistRequest{Pack: pack.Pack, Version: pack.Version, Reason: "licence_dispute"})
	require.NoError(t, err)
	assert.Equal(t, marketplace.AccessOpen, access)
	assert.Empty(t, f.keys(t, "published/"))
	assert.Empty(t, f.catalogue(t))
	_, err = f.g.Delist(context.Background(), DelistRequest{Pack: pack.Pack, Version: pack.Version, Reason: "licence_dispute"})
	var ref *Refusal
	require.True(t, errors.As(err, &ref))
	assert.Equal(t, "not_published", ref.Code)
	_, err = f.g.Delist(context.Background(), DelistRequest{Pack: pack.Pack, Version: pack.Version, Reason: "Because!"})
	assert.True(t, errors.As(err, &ref) && ref.Code == "invalid_request")
	assert.True(t, strings.Contains(f.keys(t, "staging/")[0], "acme-maps"), "staging is the publisher's, untouched")
}
