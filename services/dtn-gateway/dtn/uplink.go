package dtn

import (
	"context"
	"net/http"
	"strings"

	"github.com/spatialprops/spatialprops-infra/services/kit"
)

// HTTPUplink talks to an uplink adapter over HTTP (the uplink-satellite
// and uplink-lpwan Services): GET /healthz says whether the link can take a
// bundle, POST /v1/bundles delivers one with its Idempotency-Key. The
// adapters are placeholders until the radio integrations exist; every call
// is bounded (kit.Client).
type HTTPUplink struct {
	LinkName string
	URL      string
	Client   *kit.Client
}

// Name implements Uplink.
func (u HTTPUplink) Name() string { return u.LinkName }

// Available implements Uplink.
func (u HTTPUplink) Available(ctx context.Context) error {
	return u.Client.Do(ctx, http.MethodGet, strings.TrimRight(u.URL, "/")+"/healthz", nil, nil, nil)
}

// Send implements Uplink.
func (u HTTPUplink) Send(ctx context.Context, key string, body []byte) error {
	return u.Client.Do(ctx, http.MethodPost, strings.TrimRight(u.URL, "/")+"/v1/bundles", body,
		map[string]string{KeyHeader: key, "Content-Type": "application/octet-stream"}, nil)
}
