package marketplace

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sign does what the gate does with KMS: Sign(MessageType RAW,
// ECDSA_SHA_256) over Canonical(), which KMS hashes to Digest(), returning
// ASN.1 DER.
func sign(t *testing.T, k *ecdsa.PrivateKey, s Statement) []byte {
	t.Helper()
	sig, err := ecdsa.SignASN1(rand.Reader, k, s.Digest())
	require.NoError(t, err)
	return sig
}

func fixture(t *testing.T) (*ecdsa.PrivateKey, *ecdsa.PublicKey, []byte, Attestation) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	pub, err := ParsePublicKey(der) // as the api does with GetPublicKey's output
	require.NoError(t, err)
	pack := []byte("PMTiles\x03 a spatial pack")
	st := Statement{PackDigest: PackDigest(pack), LicenseID: "CC-BY-4.0", Publisher: "acme-maps", IssuedAt: time.Unix(1767225600, 0)}
	return k, pub, pack, Attestation{Statement: st, Signature: sign(t, k, st)}
}

func TestValidAttestationVerifies(t *testing.T) {
	_, pub, pack, a := fixture(t)
	assert.NoError(t, Verify(pub, pack, a))
}

func TestTamperedPackFails(t *testing.T) {
	_, pub, pack, a := fixture(t)
	tampered := append([]byte{}, pack...)
	tampered[0] ^= 1
	assert.ErrorIs(t, Verify(pub, tampered, a), ErrDigestMismatch)
}

func TestTamperedFieldsFail(t *testing.T) {
	_, pub, pack, a := fixture(t)
	for name, edit := range map[string]func(*Statement){
		"license":   func(s *Statement) { s.LicenseID = "proprietary" },
		"publisher": func(s *Statement) { s.Publisher = "mallory" },
		"issuedAt":  func(s *Statement) { s.IssuedAt = s.IssuedAt.Add(time.Hour) },
	} {
		b := a
		edit(&b.Statement)
		assert.ErrorIs(t, Verify(pub, pack, b), ErrBadSignature, name)
	}
	// A re-pointed digest with matching new pack bytes still fails: the
	// signature covers the original digest.
	other := []byte("another pack")
	b := a
	b.Statement.PackDigest = PackDigest(other)
	assert.ErrorIs(t, Verify(pub, other, b), ErrBadSignature)
}

func TestUnsignedFails(t *testing.T) {
	_, pub, pack, a := fixture(t)
	a.Signature = nil
	assert.ErrorIs(t, Verify(pub, pack, a), ErrUnsigned)
	a.Signature = []byte{0x30, 0x00}
	assert.ErrorIs(t, Verify(pub, pack, a), ErrBadSignature, "garbage DER is no signature")
}

func TestWrongKeyFails(t *testing.T) {
	_, _, pack, a := fixture(t)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	assert.ErrorIs(t, Verify(&other.PublicKey, pack, a), ErrBadSignature)
}

func TestCanonicalEncodingIsStableAndUnambiguous(t *testing.T) {
	_, _, _, a := fixture(t)
	assert.Equal(t, "spatialprops-provenance/v1\npackDigest=sha256:"+a.Statement.PackDigest+
		"\nlicenseId=CC-BY-4.0\npublisher=acme-maps\nissuedAt=1767225600\n", string(a.Statement.Canonical()))
	s := a.Statement
	s.Publisher = "acme\nlicenseId=x"
	assert.ErrorIs(t, s.Validate(), ErrInvalidStatement, "a newline could smuggle a second field")
	s = a.Statement
	s.PackDigest = "ABC"
	assert.ErrorIs(t, s.Validate(), ErrInvalidStatement)
}

func TestParsePublicKeyRefusesOtherCurves(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	_, err = ParsePublicKey(der)
	assert.Error(t, err)
}
