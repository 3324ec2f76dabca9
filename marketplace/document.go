package marketplace

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// Document is attestation.json: the attestation of one pack version as
// the provenance gate writes it beside the file, and as the marketplace
// api and pack-service read it.
type Document struct {
	Pack    string `json:"pack"`
	Version string `json:"version"`
	File    string `json:"file"`
	// Access is AccessOpen or AccessLicensed (decided by the licence).
	Access string `json:"access"`
	// The signed statement's fields (Statement).
	PackDigest string `json:"packDigest"`
	LicenseID  string `json:"licenseId"`
	Publisher  string `json:"publisher"`
	IssuedAt   int64  `json:"issuedAt"`
	// Signature is the base64 DER ECDSA signature KMS Sign returned over
	// Statement.Digest(); KeyID is the KMS key that made it.
	Signature string `json:"signature"`
	KeyID     string `json:"keyId"`
}

// NewDocument is the document of attestation a for access and p.
func NewDocument(access string, p Pack, a Attestation, keyID string) Document {
	return Document{
		Pack: p.Pack, Version: p.Version, File: p.File, Access: access,
		PackDigest: a.Statement.PackDigest, LicenseID: a.Statement.LicenseID, Publisher: a.Statement.Publisher,
		IssuedAt: a.Statement.IssuedAt.Unix(), Signature: base64.StdEncoding.EncodeToString(a.Signature), KeyID: keyID,
	}
}

// Attestation is the statement and signature the document carries.
func (d Document) Attestation() (Attestation, error) {
	sig, err := base64.StdEncoding.DecodeString(d.Signature)
	if err != nil {
		return Attestation{}, fmt.Errorf("%w: signature is not base64", ErrInvalidStatement)
	}
	return Attestation{Statement: Statement{
		PackDigest: d.PackDigest, LicenseID: d.LicenseID, Publisher: d.Publisher, IssuedAt: time.Unix(d.IssuedAt, 0).UTC(),
	}, Signature: sig}, nil
}

// PackFile is the document's pack file.
func (d Document) PackFile() Pack { return Pack{Pack: d.Pack, Version: d.Version, File: d.File} }

// VerifySignature checks the document's signature over its statement with
// pub, without the pack's bytes (the gate checked those before signing;
// only the gate can write published/). Use Verify where the bytes are at hand.
func (d Document) VerifySignature(pub *ecdsa.PublicKey) error {
	a, err := d.Attestation()
	if err != nil {
		return err
	}
	if err := a.Statement.Validate(); err != nil {
		return err
	}
	if err := d.PackFile().Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidStatement, err)
	}
	if d.Access != AccessOpen && d.Access != AccessLicensed {
		return fmt.Errorf("%w: access %q", ErrInvalidStatement, d.Access)
	}
	if len(a.Signature) == 0 {
		return ErrUnsigned
	}
	if !ecdsa.VerifyASN1(pub, a.Statement.Digest(), a.Signature) {
		return ErrBadSignature
	}
	return nil
}

// Store is the read side of the packs bucket a catalogue needs.
type Store interface {
	// Keys lists every key under prefix.
	Keys(ctx context.Context, prefix string) ([]string, error)
	// Get reads one object.
	Get(ctx context.Context, key string) ([]byte, error)
}

// Catalogue lists the published pack versions whose attestation verifies
// with pub, sorted by pack and version. A document that does not verify
// (or does not sit where it says it belongs) is left out and reported in
// the second result, never listed.
func Catalogue(ctx context.Context, store Store, pub *ecdsa.PublicKey) ([]Document, []error, error) {
	if pub == nil {
		return nil, nil, errors.New("catalogue: no provenance public key: nothing can be listed unverified")
	}
	keys, err := store.Keys(ctx, naming.PacksPublishedPrefix)
	if err != nil {
		return nil, nil, fmt.Errorf("catalogue: listing %s: %w", naming.PacksPublishedPrefix, err)
	}
	var docs []Document
	var bad []error
	for _, k := range keys {
		if !strings.HasSuffix(k, "/"+AttestationFile) {
			continue
		}
		raw, err := store.Get(ctx, k)
		if err != nil {
			return nil, nil, fmt.Errorf("catalogue: reading %s: %w", k, err)
		}
		var d Document
		if err := json.Unmarshal(raw, &d); err != nil {
			bad = append(bad, fmt.Errorf("%s: %w: %v", k, ErrInvalidStatement, err))
			continue
		}
		if err := d.VerifySignature(pub); err != nil {
			bad = append(bad, fmt.Errorf("%s: %w", k, err))
			continue
		}
		if AttestationKey(d.Access, d.PackFile()) != k {
			bad = append(bad, fmt.Errorf("%s: %w: the document describes %s", k, ErrInvalidStatement, AttestationKey(d.Access, d.PackFile())))
			continue
		}
		docs = append(docs, d)
	}
	sort.Slice(docs, func(i, j int) bool {
		if docs[i].Pack != docs[j].Pack {
			return docs[i].Pack < docs[j].Pack
		}
		return docs[i].Version < docs[j].Version
	})
	return docs, bad, nil
}

// Listing is one published pack version as the marketplace api and
// pack-service list it: the attestation document and the pack's CDN path.
type Listing struct {
	Document
	Path string `json:"path"`
}

// Listings maps verified documents to what the APIs list.
func Listings(docs []Document) []Listing {
	out := make([]Listing, 0, len(docs))
	for _, d := range docs {
		out = append(out, Listing{Document: d, Path: CDNPath(d.Access, d.PackFile())})
	}
	return out
}
