package teardown

import "testing"

// GIVEN a DTN service THEN teardown uninstalls its release from edge-sync,
// where its workflow installed it; every other service stays in
// spatial-properties (uninstalling from the wrong namespace finds nothing
// and leaves the pods running).
func TestServiceNamespace(t *testing.T) {
	for svc, want := range map[string]string{
		"dtn-gateway": "edge-sync", "uplink-satellite": "edge-sync", "uplink-lpwan": "edge-sync",
		"pack-service": "spatial-properties", "frontend": "spatial-properties", "mcp-gateway": "spatial-properties",
	} {
		if got := serviceNamespace(svc); got != want {
			t.Errorf("serviceNamespace(%q) = %q, want %q", svc, got, want)
		}
	}
}
