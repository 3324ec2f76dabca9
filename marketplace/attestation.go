// Package marketplace holds the provenance attestation contract of the
// marketplace's publish path: what the provenance gate signs with the KMS
// key alias/<org>-<env>-provenance (ECC_NIST_P256, SIGN_VERIFY) and how the
// marketplace api verifies it before a pack may leave staging/. Nothing is
// published without an attestation that verifies (docs/marketplace.md).
package marketplace

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// SigningAlgorithm is the KMS SigningAlgorithm the gate signs with. The
// gate sends Statement.Canonical() with MessageType RAW (a statement is far
// below RAW's 4 KB limit); KMS hashes it with SHA-256, so the signature is
// over Statement.Digest(), exactly what MessageType DIGEST with Digest()
// would sign. RAW is also what moto_server implements (it ignores
// MessageType and always hashes), so the emulated tests sign the real way.
const SigningAlgorithm = "ECDSA_SHA_256"

// Statement is what the provenance gate attests: this exact pack, under
// this license, from this publisher, at this time.
type Statement struct {
	// PackDigest is the lowercase hex SHA-256 of the pack's bytes.
	PackDigest string
	// LicenseID names the license the pack is sold under (e.g. an SPDX id).
	LicenseID string
	// Publisher is the marketplace publisher id.
	Publisher string
	// IssuedAt is when the gate signed, truncated to seconds.
	IssuedAt time.Time
}

// Attestation is a statement and the gate's signature over it: an ASN.1
// DER ECDSA P-256 signature, exactly what KMS Sign returns.
type Attestation struct {
	Statement Statement
	Signature []byte
}

var (
	digestRe = regexp.MustCompile(`^[0-9a-f]{64}$`)
	// fieldRe keeps fields free of the canonical encoding's separators.
	fieldRe = regexp.MustCompile(`^[A-Za-z0-9._:@+/-]{1,256}$`)
)

// Errors returned by Verify.
var (
	ErrUnsigned         = errors.New("attestation has no signature")
	ErrBadSignature     = errors.New("attestation signature does not verify with the provenance key")
	ErrDigestMismatch   = errors.New("pack bytes do not match the attested digest")
	ErrInvalidStatement = errors.New("invalid attestation statement")
)

// Validate rejects statements that cannot be encoded unambiguously.
func (s Statement) Validate() error {
	switch {
	case !digestRe.MatchString(s.PackDigest):
		return fmt.Errorf("%w: packDigest must be 64 lowercase hex characters (sha256)", ErrInvalidStatement)
	case !fieldRe.MatchString(s.LicenseID):
		return fmt.Errorf("%w: licenseId %q must be 1-256 characters of [A-Za-z0-9._:@+/-]", ErrInvalidStatement, s.LicenseID)
	case !fieldRe.MatchString(s.Publisher):
		return fmt.Errorf("%w: publisher %q must be 1-256 characters of [A-Za-z0-9._:@+/-]", ErrInvalidStatement, s.Publisher)
	case s.IssuedAt.IsZero():
		return fmt.Errorf("%w: issuedAt is required", ErrInvalidStatement)
	}
	return nil
}

// Canonical is the signed byte string: a version line, then one
// "key=value" line per field in fixed order, newline-terminated. Fields
// cannot contain '=' or newlines (Validate), so the encoding is injective.
func (s Statement) Canonical() []byte {
	var b strings.Builder
	b.WriteString("spatialprops-provenance/v1\n")
	b.WriteString("packDigest=sha256:" + s.PackDigest + "\n")
	b.WriteString("licenseId=" + s.LicenseID + "\n")
	b.WriteString("publisher=" + s.Publisher + "\n")
	b.WriteString("issuedAt=" + strconv.FormatInt(s.IssuedAt.Unix(), 10) + "\n")
	return []byte(b.String())
}

// Digest is the SHA-256 of Canonical(): what the signature is over.
func (s Statement) Digest() []byte {
	d := sha256.Sum256(s.Canonical())
	return d[:]
}

// PackDigest returns the hex SHA-256 of a pack's bytes.
func PackDigest(pack []byte) string {
	d := sha256.Sum256(pack)
	return hex.EncodeToString(d[:])
}

// ParsePublicKey parses the DER SubjectPublicKeyInfo that KMS GetPublicKey
// returns and insists on a P-256 ECDSA key.
func ParsePublicKey(der []byte) (*ecdsa.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse provenance public key: %w", err)
	}
	ec, ok := k.(*ecdsa.PublicKey)
	if !ok || ec.Curve.Params().Name != "P-256" {
		return nil, errors.New("provenance public key is not ECDSA P-256 (ECC_NIST_P256)")
	}
	return ec, nil
}

// Verify checks that pack is the attested pack and that the signature over
// the statement verifies with pub. Any failure refuses publication.
func Verify(pub *ecdsa.PublicKey, pack []byte, a Attestation) error {
	if err := a.Statement.Validate(); err != nil {
		return err
	}
	if len(a.Signature) == 0 {
		return ErrUnsigned
	}
	if PackDigest(pack) != a.Statement.PackDigest {
		return ErrDigestMismatch
	}
	if !ecdsa.VerifyASN1(pub, a.Statement.Digest(), a.Signature) {
		return ErrBadSignature
	}
	return nil
}
