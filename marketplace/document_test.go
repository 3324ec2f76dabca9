package marketplace

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type memStore map[string][]byte

func (m memStore) Keys(_ context.Context, prefix string) ([]string, error) {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m memStore) Get(_ context.Context, key string) ([]byte, error) {
	b, ok := m[key]
	if !ok {
		return nil, errors.New("NoSuchKey")
	}
	return b, nil
}

func put(t *testing.T, m memStore, key string, d Document) {
	t.Helper()
	b, err := json.Marshal(d)
	require.NoError(t, err)
	m[key] = b
}

// GIVEN published documents, one of them tampered with and one copied to
// another pack's place THEN the catalogue lists only the one that verifies
// where it stands, and reports the others; without a public key it lists
// nothing.
func TestCatalogueListsOnlyVerifiedDocuments(t *testing.T) {
	_, pub, _, a := fixture(t)
	p := Pack{Pack: "perth-cbd", Version: "2026.12", File: "tiles.pmtiles"}
	good := NewDocument(AccessLicensed, p, a, "arn:aws:kms:ap-southeast-2:111122223333:key/x")
	store := memStore{PublishedKey(AccessLicensed, p): []byte("pack bytes")}
	put(t, store, AttestationKey(AccessLicensed, p), good)

	tampered := good
	tampered.LicenseID = "CC0-1.0"
	tp := Pack{Pack: "tampered", Version: "1", File: "x.pmtiles"}
	tampered.Pack, tampered.Version, tampered.File = tp.Pack, tp.Version, tp.File
	put(t, store, AttestationKey(AccessLicensed, tp), tampered)

	misplaced := Pack{Pack: "elsewhere", Version: "1", File: "x.pmtiles"}
	put(t, store, AttestationKey(AccessOpen, misplaced), good)
	store["published/open/junk/1/attestation.json"] = []byte("{not json")

	docs, bad, err := Catalogue(context.Background(), store, pub)
	require.NoError(t, err)
	require.Len(t, docs, 1)
	assert.Equal(t, good, docs[0])
	require.Len(t, bad, 3)
	joined := errors.Join(bad...).Error()
	assert.Contains(t, joined, "tampered/1/attestation.json: "+ErrBadSignature.Error(), "a changed field breaks the signature")
	assert.Contains(t, joined, "elsewhere/1/attestation.json: invalid attestation statement: the document describes published/licensed/perth-cbd/2026.12/attestation.json")
	assert.Contains(t, joined, "junk/1/attestation.json")

	_, _, err = Catalogue(context.Background(), store, nil)
	assert.ErrorContains(t, err, "nothing can be listed unverified")
}

func TestDocumentRoundTrip(t *testing.T) {
	_, pub, pack, a := fixture(t)
	d := NewDocument(AccessOpen, Pack{Pack: "p", Version: "v1", File: "f.pmtiles"}, a, "k")
	back, err := d.Attestation()
	require.NoError(t, err)
	assert.NoError(t, Verify(pub, pack, back), "the document carries exactly the signed statement")
	d.Access = "staging"
	assert.ErrorIs(t, d.VerifySignature(pub), ErrInvalidStatement)
}

// GIVEN CDN paths THEN only /open/... and /licensed/... with safe names
// parse; staging/, traversal and short paths are refused by name.
func TestParseCDNPath(t *testing.T) {
	access, p, err := ParseCDNPath("/licensed/perth-cbd/2026.12/tiles.pmtiles")
	require.NoError(t, err)
	assert.Equal(t, AccessLicensed, access)
	assert.Equal(t, Pack{Pack: "perth-cbd", Version: "2026.12", File: "tiles.pmtiles"}, p)
	assert.Equal(t, "/licensed/perth-cbd/2026.12/tiles.pmtiles", CDNPath(access, p))
	assert.Equal(t, "published/licensed/perth-cbd/2026.12/tiles.pmtiles", PublishedKey(access, p))
	assert.Equal(t, "staging/acme/perth-cbd/2026.12/tiles.pmtiles", StagingKey("acme", p))
	for _, bad := range []string{
		"/staging/acme/perth-cbd/2026.12/tiles.pmtiles", "/published/licensed/p/v/f", "/licensed/p/v",
		"/licensed/../v/f", "/licensed/p/../f", "/open/p/v/attestation.json", "/licensed/p/v/f/extra",
	} {
		_, _, err := ParseCDNPath(bad)
		assert.Error(t, err, bad)
	}
	_, _, err = ParseCDNPath("/staging/acme/p/v")
	assert.ErrorIs(t, err, ErrNotPublished)
}
