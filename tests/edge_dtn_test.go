package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// GIVEN the DTN charts THEN the envelope limit their pods read is exactly
// edge.MaxEnvelopeBytes: a gateway and adapters that disagree with the edge
// contract would drop (or forward) envelopes the rest of the mesh refuses.
func TestDTNChartsCarryTheEnvelopeLimit(t *testing.T) {
	for _, svc := range []string{"dtn-gateway", "uplink-satellite", "uplink-lpwan"} {
		raw, err := os.ReadFile(filepath.Join("..", "helm", svc, "values.yaml"))
		require.NoError(t, err, svc)
		var v struct {
			Env map[string]string `yaml:"env"`
		}
		require.NoError(t, yaml.Unmarshal(raw, &v), svc)
		n, err := strconv.Atoi(v.Env["MAX_ENVELOPE_BYTES"])
		require.NoError(t, err, "%s: MAX_ENVELOPE_BYTES must be a number", svc)
		assert.Equal(t, edge.MaxEnvelopeBytes, n, svc)
	}
}
