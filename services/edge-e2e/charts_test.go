package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/spatialprops/spatialprops-infra/services/kit"
)

// kitCharts are the charts whose image is a service on the kit.
var kitCharts = []string{"pack-service", "frontend", "mcp-gateway", "marketplace-api", "marketplace-ui", "billing-stub",
	"dtn-gateway", "beacons", "beacons-admin", "edge-sync", "device-enrollment", "cdn-presigner", "provenance-gate"}

// GIVEN each kit service's chart THEN Prometheus scrapes the port the kit
// serves /metrics on (kit.DefaultOpsPort), and the container port is the
// one the service listens on (kit.DefaultPort, or PORT when the chart sets
// another), so probes and the Service reach it.
func TestChartsMatchTheKitsPorts(t *testing.T) {
	for _, c := range kitCharts {
		raw, err := os.ReadFile(filepath.Join("..", "..", "helm", c, "values.yaml"))
		require.NoError(t, err, c)
		var v struct {
			Service struct {
				TargetPort int `yaml:"targetPort"`
			} `yaml:"service"`
			Metrics struct {
				Enabled bool `yaml:"enabled"`
				Port    int  `yaml:"port"`
			} `yaml:"metrics"`
			Env map[string]string `yaml:"env"`
		}
		require.NoError(t, yaml.Unmarshal(raw, &v), c)
		assert.True(t, v.Metrics.Enabled, "%s: its /metrics is scraped", c)
		assert.Equal(t, kit.DefaultOpsPort, v.Metrics.Port, "%s: metrics.port is where the kit serves /metrics", c)
		port := kit.DefaultPort
		if p, ok := v.Env["PORT"]; ok {
			port, err = strconv.Atoi(p)
			require.NoError(t, err, c)
		}
		assert.Equal(t, port, v.Service.TargetPort, "%s: service.targetPort is the port the service listens on", c)
	}
}
