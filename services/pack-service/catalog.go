package main

import (
	"context"
	"crypto/ecdsa"
	"log/slog"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/spatialprops/spatialprops-infra/marketplace"
	"github.com/spatialprops/spatialprops-infra/services/kit"
)

// KMSAPI reads the provenance key's public half.
type KMSAPI interface {
	GetPublicKey(context.Context, *kms.GetPublicKeyInput, ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

// Catalog lists the packs the provenance gate published.
type Catalog struct {
	Store marketplace.Store
	KMS   KMSAPI
	KeyID string
	Log   *slog.Logger

	mu  sync.Mutex
	pub *ecdsa.PublicKey
}

// publicKey fetches the provenance key once (a public key never changes
// for a key id) and keeps it.
func (c *Catalog) publicKey(ctx context.Context) (*ecdsa.PublicKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pub != nil {
		return c.pub, nil
	}
	out, err := c.KMS.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(c.KeyID)})
	if err != nil {
		return nil, err
	}
	pub, err := marketplace.ParsePublicKey(out.PublicKey)
	if err != nil {
		return nil, err
	}
	c.pub = pub
	return pub, nil
}

// List answers GET /v1/packs: {"packs": [...]} with every published pack
// version whose attestation verifies.
func (c *Catalog) List(w http.ResponseWriter, r *http.Request) {
	pub, err := c.publicKey(r.Context())
	if err != nil {
		c.Log.ErrorContext(r.Context(), "provenance key", "key", c.KeyID, "error", err.Error())
		kit.WriteProblem(w, http.StatusServiceUnavailable, "provenance_key_unavailable", "the provenance key cannot be read; try again")
		return
	}
	docs, bad, err := marketplace.Catalogue(r.Context(), c.Store, pub)
	if err != nil {
		c.Log.ErrorContext(r.Context(), "catalogue", "error", err.Error())
		kit.WriteProblem(w, http.StatusBadGateway, "catalogue_unavailable", "the pack catalogue cannot be read; try again")
		return
	}
	for _, e := range bad {
		c.Log.WarnContext(r.Context(), "published document left out", "reason", e.Error())
	}
	kit.WriteJSON(w, http.StatusOK, map[string]any{"packs": marketplace.Listings(docs)})
}
