// Package catalog lists the packs the provenance gate published, for
// pack-service (GET /v1/packs) and the marketplace api (GET /api/v1/packs):
// every published attestation that verifies with the provenance key, and
// nothing that does not.
package catalog

import (
	"context"
	"crypto/ecdsa"
	"fmt"
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

// PublicKey fetches the provenance key once (a public key never changes
// for a key id) and keeps it.
func (c *Catalog) PublicKey(ctx context.Context) (*ecdsa.PublicKey, error) {
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

// Published is every published pack version whose attestation verifies;
// documents that do not are logged and left out.
func (c *Catalog) Published(ctx context.Context) ([]marketplace.Document, error) {
	pub, err := c.PublicKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("provenance key %s: %w", c.KeyID, err)
	}
	docs, bad, err := marketplace.Catalogue(ctx, c.Store, pub)
	if err != nil {
		return nil, err
	}
	for _, e := range bad {
		c.Log.WarnContext(ctx, "published document left out", "reason", e.Error())
	}
	return docs, nil
}

// List answers a listing request: {"packs": [...]}.
func (c *Catalog) List(w http.ResponseWriter, r *http.Request) {
	docs, err := c.Published(r.Context())
	if err != nil {
		c.Log.ErrorContext(r.Context(), "catalogue", "error", err.Error())
		kit.WriteProblem(w, http.StatusServiceUnavailable, "catalogue_unavailable", "the pack catalogue cannot be read; try again")
		return
	}
	kit.WriteJSON(w, http.StatusOK, map[string]any{"packs": marketplace.Listings(docs)})
}
