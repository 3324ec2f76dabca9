package mcp

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

func start(t *testing.T, packService string) string {
	t.Helper()
	ks := kittest.New("mcp-gateway", 0)
	c := kit.NewClient()
	c.Retry = kit.Retry{Attempts: 2, PerCall: time.Second, Base: 10 * time.Millisecond, Max: 10 * time.Millisecond}
	(&Server{PackService: packService, Client: c, Log: ks.Log}).Routes(ks.Service)
	return kittest.Start(t, ks.Service).API
}

func rpc(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url+"/mcp", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// GIVEN an MCP client THEN initialize names the protocol and the tools
// capability, tools/list offers list_packs, and tools/call returns what
// pack-service lists; protocol errors carry JSON-RPC codes.
func TestListPacksThroughMCP(t *testing.T) {
	packs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/packs" {
			http.NotFound(w, r)
			return
		}
		kit.WriteJSON(w, 200, map[string]any{"packs": []map[string]string{{"pack": "perth-cbd", "version": "2026.12"}}})
	}))
	defer packs.Close()
	url := start(t, packs.URL)

	_, out := rpc(t, url, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	res := out["result"].(map[string]any)
	if res["protocolVersion"] != ProtocolVersion || res["capabilities"].(map[string]any)["tools"] == nil {
		t.Fatalf("initialize: %v", out)
	}
	if code, _ := rpc(t, url, `{"jsonrpc":"2.0","method":"notifications/initialized"}`); code != http.StatusAccepted {
		t.Fatalf("a notification gets 202 and no body, got %d", code)
	}
	_, out = rpc(t, url, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	tools := out["result"].(map[string]any)["tools"].([]any)
	if len(tools) != 1 || tools[0].(map[string]any)["name"] != "list_packs" {
		t.Fatalf("tools/list: %v", out)
	}
	_, out = rpc(t, url, `{"jsonrpc":"2.0","id":"three","method":"tools/call","params":{"name":"list_packs","arguments":{}}}`)
	if out["id"] != "three" {
		t.Fatalf("the answer carries the request id: %v", out)
	}
	text := out["result"].(map[string]any)["content"].([]any)[0].(map[string]any)["text"].(string)
	if !strings.Contains(text, `"pack":"perth-cbd"`) {
		t.Fatalf("tools/call: %v", out)
	}
	for body, code := range map[string]float64{
		`{"jsonrpc":"2.0","id":4,"method":"resources/list"}`:                    MethodNotFound,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"rm"}}`: InvalidParams,
		`{not json`:                      ParseError,
		`{"id":6,"method":"tools/list"}`: InvalidRequest,
	} {
		_, out := rpc(t, url, body)
		if e, ok := out["error"].(map[string]any); !ok || e["code"] != code {
			t.Errorf("%s: want error %v, got %v", body, code, out)
		}
	}
}

// GIVEN pack-service down THEN list_packs answers a tool error the model
// can read, quickly, instead of hanging or failing the protocol.
func TestPackServiceDown(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	url := start(t, "http://"+addr)
	start := time.Now()
	_, out := rpc(t, url, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_packs"}}`)
	if out["result"].(map[string]any)["isError"] != true || time.Since(start) > 3*time.Second {
		t.Fatalf("want a prompt tool error, got %v after %s", out, time.Since(start))
	}
}
