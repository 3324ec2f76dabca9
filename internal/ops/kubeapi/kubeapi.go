// Package kubeapi reaches HTTP APIs that run inside the cluster
// (Prometheus, Loki, Tempo, Grafana, NATS monitoring) through the Kubernetes
// API server's service proxy:
//
//	<apiserver>/api/v1/namespaces/<ns>/services/<name>:<port>/proxy/<path>
//
// so spctl needs only kubeconfig access, no port-forward and no exposed
// endpoints. The caller's RBAC must allow get on services/proxy.
package kubeapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"k8s.io/client-go/rest"
)

// ServiceGetter GETs path (with query) from port of Service ns/name.
type ServiceGetter interface {
	Get(ctx context.Context, ns, name string, port int, path string, query url.Values) ([]byte, error)
}

// Proxy is a ServiceGetter through the API server's service proxy.
type Proxy struct {
	host   string
	client *http.Client
}

// NewProxy builds a Proxy from a rest.Config (kubeconfig credentials).
func NewProxy(cfg *rest.Config) (*Proxy, error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	host := strings.TrimSuffix(cfg.Host, "/")
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	return &Proxy{host: host, client: client}, nil
}

// URL is the proxy URL of a service path.
func (p *Proxy) URL(ns, name string, port int, path string, query url.Values) string {
	u := fmt.Sprintf("%s/api/v1/namespaces/%s/services/%s:%d/proxy/%s", p.host, ns, name, port, strings.TrimPrefix(path, "/"))
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// Get implements ServiceGetter; a non-2xx answer is an error with the
// start of the body.
func (p *Proxy) Get(ctx context.Context, ns, name string, port int, path string, query url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL(ns, name, port, path, query), nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		snippet := strings.TrimSpace(string(body))
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		return nil, &StatusError{Code: resp.StatusCode, Msg: fmt.Sprintf("GET %s/%s:%d%s: HTTP %d %s", ns, name, port, path, resp.StatusCode, snippet)}
	}
	return body, nil
}

// StatusError is a non-2xx answer through the proxy.
type StatusError struct {
	Code int
	Msg  string
}

func (e *StatusError) Error() string { return e.Msg }
