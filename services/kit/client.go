package kit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Client makes bounded HTTP calls to another service: each attempt's
// deadline and the attempts come from Retry; a 5xx or a transport error is
// retried, a 4xx is not.
type Client struct {
	HTTP  *http.Client
	Retry Retry
	// MaxResponse bounds how much of a response body is read (default 1 MiB).
	MaxResponse int64
}

// NewClient returns a Client with DefaultRetry and a transport whose
// connect and TLS handshake are bounded too (a blackholed address fails
// within 2 s rather than the kernel's minutes).
func NewClient() *Client {
	return &Client{HTTP: &http.Client{Transport: &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		TLSHandshakeTimeout:   2 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       60 * time.Second,
	}}, Retry: DefaultRetry}
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Method, URL string
	Code        int
	Body        string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Code, e.Body)
}

// Do sends method url with body (nil for none) and headers, and decodes a
// 2xx JSON answer into out (nil to discard it).
func (c *Client) Do(ctx context.Context, method, url string, body []byte, headers map[string]string, out any) error {
	limit := c.MaxResponse
	if limit <= 0 {
		limit = 1 << 20
	}
	return c.Retry.Do(ctx, func(ctx context.Context) error {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, url, rd)
		if err != nil {
			return Permanent(err)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
		if err != nil {
			return fmt.Errorf("%s %s: reading the answer: %w", method, url, err)
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			se := &StatusError{Method: method, URL: url, Code: resp.StatusCode, Body: string(bytes.TrimSpace(data))}
			if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
				return se
			}
			return Permanent(se)
		}
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: answer is not the expected JSON: %w", method, url, err)
		}
		return nil
	})
}

// PostJSON sends in as JSON and decodes the answer into out.
func (c *Client) PostJSON(ctx context.Context, url string, in, out any, headers map[string]string) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	return c.Do(ctx, http.MethodPost, url, b, h, out)
}
