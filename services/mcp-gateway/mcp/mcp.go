// Package mcp is a minimal Model Context Protocol server over HTTP
// (JSON-RPC 2.0 on POST /mcp): it answers initialize, tools/list and
// tools/call for one tool, list_packs, which returns the published packs
// from pack-service (GET /v1/packs, a bounded outbound call). It is the
// mcp-gateway's walking skeleton: enough for an agent to discover and call
// a tool, and for the deploy workflow to ship a real image.
package mcp

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/spatialprops/spatialprops-infra/services/kit"
)

// ProtocolVersion is the MCP revision the server speaks.
const ProtocolVersion = "2025-06-18"

// JSON-RPC error codes.
const (
	ParseError     = -32700
	InvalidRequest = -32600
	MethodNotFound = -32601
	InvalidParams  = -32602
)

// Server answers MCP requests.
type Server struct {
	// PackService is pack-service's base URL.
	PackService string
	Client      *kit.Client
	Log         *slog.Logger
}

type request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

// Routes adds POST /mcp.
func (s *Server) Routes(k *kit.Service) { k.Handle("POST /mcp", s.serve) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := kit.ReadBody(r, 64<<10)
	if err != nil {
		kit.WriteJSON(w, http.StatusOK, response{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{InvalidRequest, err.Error()}})
		return
	}
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		kit.WriteJSON(w, http.StatusOK, response{JSONRPC: "2.0", ID: json.RawMessage("null"), Error: &rpcError{ParseError, "not JSON: " + err.Error()}})
		return
	}
	if req.JSONRPC != "2.0" || req.Method == "" {
		kit.WriteJSON(w, http.StatusOK, response{JSONRPC: "2.0", ID: idOrNull(req.ID), Error: &rpcError{InvalidRequest, "a JSON-RPC 2.0 request needs jsonrpc \"2.0\" and a method"}})
		return
	}
	if len(req.ID) == 0 {
		// A notification (notifications/initialized and the like): no answer.
		w.WriteHeader(http.StatusAccepted)
		return
	}
	result, rpcErr := s.call(r, req)
	kit.WriteJSON(w, http.StatusOK, response{JSONRPC: "2.0", ID: req.ID, Result: result, Error: rpcErr})
}

func idOrNull(id json.RawMessage) json.RawMessage {
	if len(id) == 0 {
		return json.RawMessage("null")
	}
	return id
}

// listPacks is the one tool.
var listPacks = map[string]any{
	"name":        "list_packs",
	"description": "List the published Spatial Packs (pack, version, licence, publisher, access, CDN path).",
	"inputSchema": map[string]any{"type": "object", "properties": map[string]any{}, "additionalProperties": false},
}

func (s *Server) call(r *http.Request, req request) (any, *rpcError) {
	switch req.Method {
	case "initialize":
		return map[string]any{
			"protocolVersion": ProtocolVersion,
			"capabilities":    map[string]any{"tools": map[string]any{"listChanged": false}},
			"serverInfo":      map[string]any{"name": "spatialprops-mcp-gateway", "version": "0.1.0"},
		}, nil
	case "ping":
		return map[string]any{}, nil
	case "tools/list":
		return map[string]any{"tools": []any{listPacks}}, nil
	case "tools/call":
		var p struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(req.Params, &p); err != nil || p.Name != "list_packs" {
			return nil, &rpcError{InvalidParams, "unknown tool; tools/list names the tools"}
		}
		var packs json.RawMessage
		if err := s.Client.Do(r.Context(), http.MethodGet, strings.TrimRight(s.PackService, "/")+"/v1/packs", nil, nil, &packs); err != nil {
			s.Log.WarnContext(r.Context(), "list_packs", "error", err.Error())
			// A tool failure is a result the model can read, not a protocol error.
			return map[string]any{"isError": true, "content": []any{map[string]any{"type": "text", "text": "pack-service is unavailable; try again shortly"}}}, nil
		}
		return map[string]any{"content": []any{map[string]any{"type": "text", "text": string(packs)}}}, nil
	default:
		return nil, &rpcError{MethodNotFound, "method " + req.Method + " is not supported"}
	}
}
