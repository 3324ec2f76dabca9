package main

import (
	"context"
	"strings"
	"testing"

	"github.com/spatialprops/spatialprops-infra/services/kit"
	"github.com/spatialprops/spatialprops-infra/services/kit/kittest"
)

// GIVEN the service THEN / is the embedded page and the health routes
// answer beside it (what the chart's probes and the ALB ask).
func TestServesThePage(t *testing.T) {
	s := kittest.New("marketplace-ui", 0)
	if err := setup(context.Background(), kit.NewEnv(func(string) string { return "" }), s.Service); err != nil {
		t.Fatal(err)
	}
	r := kittest.Start(t, s.Service)
	if c, body := kittest.Get(r.API + "/"); c != 200 || !strings.Contains(body, "Spatial Packs marketplace") {
		t.Fatalf("/ = %d %q", c, body)
	}
	if c, _ := kittest.Get(r.API + "/style.css"); c != 200 {
		t.Fatalf("style.css = %d", c)
	}
	if c, _ := kittest.Get(r.API + "/readyz"); c != 200 {
		t.Fatalf("readyz = %d", c)
	}
}

// The page reads the catalogue from the api on the same origin, at the
// path the marketplace ALB routes to marketplace-api.
func TestTheScriptCallsTheAPIPath(t *testing.T) {
	s := kittest.New("marketplace-ui", 0)
	if err := setup(context.Background(), kit.NewEnv(func(string) string { return "" }), s.Service); err != nil {
		t.Fatal(err)
	}
	r := kittest.Start(t, s.Service)
	if c, body := kittest.Get(r.API + "/app.js"); c != 200 || !strings.Contains(body, `fetch("/api/v1/packs")`) {
		t.Fatalf("app.js = %d %q", c, body)
	}
}
