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

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// The CDN's two access classes under published/ (contracts.md, "Packs
// bucket layout"): open/ is served unsigned, licensed/ only with a signed
// URL.
const (
	packsOpen     = "open/"
	packsLicensed = "licensed/"
)

// httpChecks probe the CDN the way a map client does (a Range read of an
// open PMTiles/COG asset, a cross-origin GET) and the way an attacker would
// (an unattested upload, a licensed pack without a signature).
type httpChecks struct {
	a   *awsChecks
	key string
}

// asset returns the probed CDN path: Deps.Asset, else the first non-empty
// object under published/open/ in the packs bucket, as the CDN names it
// (the distribution's origin path is /published, so published/open/x is
// served at /open/x).
func (h *httpChecks) asset(ctx context.Context) (string, error) {
	if h.key != "" {
		return h.key, nil
	}
	if h.a.d.Asset != "" {
		h.key = strings.TrimPrefix(h.a.d.Asset, "/")
		return h.key, nil
	}
	key, err := h.firstObject(ctx, naming.PacksPublishedPrefix+packsOpen)
	if err != nil {
		return "", err
	}
	if key == "" {
		return "", notRunf("no asset to probe: %s has nothing under %s%s: publish one open pack (any .pmtiles) or pass --asset", h.a.names.DataBucket("packs"), naming.PacksPublishedPrefix, packsOpen)
	}
	h.key = strings.TrimPrefix(key, naming.PacksPublishedPrefix)
	return h.key, nil
}

// firstObject is the key of the first non-empty object under prefix in
// the packs bucket, or "".
func (h *httpChecks) firstObject(ctx context.Context, prefix string) (string, error) {
	bucket := h.a.names.DataBucket("packs")
	out, err := h.a.d.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(100)})
	if err != nil {
		return "", notRunf("no asset to probe: cannot list %s/%s: %s (pass --asset)", bucket, prefix, brief(err))
	}
	for _, o := range out.Contents {
		if aws.ToInt64(o.Size) > 0 {
			return aws.ToString(o.Key), nil
		}
	}
	return "", nil
}

func (h *httpChecks) get(ctx context.Context, key string, header http.Header) (*http.Response, error) {
	resp, _, err := h.fetch(ctx, key, header)
	return resp, err
}

// fetch GETs a CDN path and returns the response with (up to 64 KiB of)
// its body.
func (h *httpChecks) fetch(ctx context.Context, key string, header http.Header) (*http.Response, []byte, error) {
	base := h.a.d.CDNBaseURL
	if base == "" {
		base = "https://" + h.a.cfg.CDN.Domain
	}
	u := strings.TrimSuffix(base, "/") + "/" + (&url.URL{Path: key}).EscapedPath()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header = header
	resp, err := h.a.d.HTTP.Do(req)
	if err != nil {
		return nil, nil, notRunf("GET %s: could not reach the CDN: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp, body, nil
}

// stagingHidden: nothing under staging/ (uploads the provenance gate has
// not attested) is served. The probe is a real staging object when there
// is one (a distribution serving the whole bucket would answer 200); the
// answer must be 403 or 404.
func (h *httpChecks) stagingHidden(ctx context.Context) (string, error) {
	key, err := h.firstObject(ctx, naming.PacksStagingPrefix)
	if err != nil {
		return "", err
	}
	if key == "" {
		key = naming.PacksStagingPrefix + "spctl-verify/absent.pmtiles"
	}
	resp, _, err := h.fetch(ctx, key, http.Header{})
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
		return "", failf("/%s answered %d: staging/ must never be served (403 or 404)", key, resp.StatusCode)
	}
	return fmt.Sprintf("/%s: %d", key, resp.StatusCode), nil
}

// licensedNeedsSignature: a licensed pack without a signed URL is refused
// by CloudFront itself (403 MissingKey, before the origin is asked), so a
// 403 from S3 for an absent object cannot pass for it.
func (h *httpChecks) licensedNeedsSignature(ctx context.Context) (string, error) {
	key, err := h.firstObject(ctx, naming.PacksPublishedPrefix+packsLicensed)
	if err != nil {
		return "", err
	}
	path := strings.TrimPrefix(key, naming.PacksPublishedPrefix)
	if key == "" {
		path = packsLicensed + "spctl-verify/absent.pmtiles"
	}
	resp, body, err := h.fetch(ctx, path, http.Header{})
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "MissingKey") {
		return "", failf("unsigned /%s answered %d (%q): want 403 MissingKey from the trusted key group", path, resp.StatusCode, firstLine(body))
	}
	return fmt.Sprintf("unsigned /%s: 403 MissingKey", path), nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	if len(s) > 120 {
		s = s[:120]
	}
	return s
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
