package verify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// httpChecks probe the CDN the way a map client does: a Range read of a
// PMTiles/COG asset and a cross-origin GET.
type httpChecks struct {
	a   *awsChecks
	key string
}

// asset returns the probed object key: Deps.Asset, else the first
// non-empty object in the packs bucket.
func (h *httpChecks) asset(ctx context.Context) (string, error) {
	if h.key != "" {
		return h.key, nil
	}
	if h.a.d.Asset != "" {
		h.key = strings.TrimPrefix(h.a.d.Asset, "/")
		return h.key, nil
	}
	bucket := h.a.names.DataBucket("packs")
	out, err := h.a.d.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(100)})
	if err != nil {
		return "", notRunf("no asset to probe: cannot list %s: %s (pass --asset)", bucket, brief(err))
	}
	for _, o := range out.Contents {
		if aws.ToInt64(o.Size) > 0 {
			h.key = aws.ToString(o.Key)
			return h.key, nil
		}
	}
	return "", notRunf("no asset to probe: %s is empty: upload one asset (any .pmtiles) or pass --asset", bucket)
}

func (h *httpChecks) get(ctx context.Context, key string, header http.Header) (*http.Response, error) {
	base := h.a.d.CDNBaseURL
	if base == "" {
		base = "https://" + h.a.cfg.CDN.Domain
	}
	u := strings.TrimSuffix(base, "/") + "/" + (&url.URL{Path: key}).EscapedPath()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header = header
	resp, err := h.a.d.HTTP.Do(req)
	if err != nil {
		return nil, notRunf("GET %s: could not reach the CDN: %v", u, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp, nil
}

// rangeRequest: "Range: bytes=0-1023" must come back 206 with a
// Content-Range, or PMTiles readers download whole archives.
func (h *httpChecks) rangeRequest(ctx context.Context) (string, error) {
	key, err := h.asset(ctx)
	if err != nil {
		return "", err
	}
	resp, err := h.get(ctx, key, http.Header{"Range": {"bytes=0-1023"}})
	if err != nil {
		return "", err
	}
	cr := resp.Header.Get("Content-Range")
	if resp.StatusCode != http.StatusPartialContent {
		return "", failf("/%s answered %d to a Range request, want 206", key, resp.StatusCode)
	}
	if !strings.HasPrefix(cr, "bytes 0-") {
		return "", failf("/%s answered 206 without a Content-Range (got %q)", key, cr)
	}
	return fmt.Sprintf("/%s: 206, Content-Range %s", key, cr), nil
}

// corsOrigin is an Origin the bucket's CORS rule allows.
func (h *httpChecks) corsOrigin() string {
	for _, o := range h.a.cfg.Storage.CorsAllowedOrigins {
		if o != "*" && !strings.Contains(o, "*") {
			return o
		}
	}
	return "https://maps." + h.a.cfg.Domain
}

// cors: a GET with an Origin gets Access-Control-Allow-Origin back.
func (h *httpChecks) cors(ctx context.Context) (string, error) {
	key, err := h.asset(ctx)
	if err != nil {
		return "", err
	}
	origin := h.corsOrigin()
	resp, err := h.get(ctx, key, http.Header{"Origin": {origin}})
	if err != nil {
		return "", err
	}
	acao := resp.Header.Get("Access-Control-Allow-Origin")
	if acao != "*" && acao != origin {
		return "", failf("/%s: GET with Origin %s got Access-Control-Allow-Origin %q (status %d)", key, origin, acao, resp.StatusCode)
	}
	return fmt.Sprintf("Origin %s -> Access-Control-Allow-Origin %s", origin, acao), nil
}
