package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// manifestDeps reads the dependencies CDKTF wrote into manifest.json, by
// stack id: what `cdktf deploy '*'` orders the stacks by.
func manifestDeps(t *testing.T) map[string][]string {
	t.Helper()
	allStacks(t)
	raw, err := os.ReadFile(filepath.Join(synthDir, "manifest.json"))
	require.NoError(t, err)
	var m struct {
		Stacks map[string]struct {
			Dependencies []string `json:"dependencies"`
		} `json:"stacks"`
	}
	require.NoError(t, json.Unmarshal(raw, &m))
	out := map[string][]string{}
	for id, s := range m.Stacks {
		out[id] = s.Dependencies
	}
	return out
}

// GIVEN the synthesized manifest WHEN any tool orders the stacks by it THEN
// the order is naming.DeployOrder's: every dependency comes earlier in it,
// and the dependencies no output carries are declared (the edge stack's
// PodMonitor needs observability's CRD, its issuers and certificates need
// platform's cert-manager; observability's ExternalSecrets need platform;
// every stack needs the state bucket).
func TestManifestOrderMatchesDeployOrder(t *testing.T) {
	deps := manifestDeps(t)
	for _, env := range envs.Order {
		var order []string // Kahn's algorithm, ties broken by DeployOrder
		done := map[string]bool{}
		for len(order) < len(builtComponents) {
			progressed := false
			for _, c := range naming.DeployOrder {
				id := env + "-" + c
				if done[id] {
					continue
				}
				ready := true
				for _, d := range deps[id] {
					ready = ready && done[d]
				}
				if ready {
					order, done[id], progressed = append(order, c), true, true
					break
				}
			}
			require.True(t, progressed, "%s: the manifest's dependencies have a cycle", env)
		}
		assert.Equal(t, naming.DeployOrder, order, env)
		for id, ds := range deps {
			if !strings.HasPrefix(id, env+"-") {
				continue
			}
			for _, d := range ds {
				assert.Less(t, slices.Index(naming.DeployOrder, strings.TrimPrefix(d, env+"-")),
					slices.Index(naming.DeployOrder, strings.TrimPrefix(id, env+"-")), "%s depends on %s, which DeployOrder puts later", id, d)
			}
		}
		for stack, needs := range map[string][]string{
			"edge":          {"cluster", "platform", "observability", "storage", "identity", "state"},
			"observability": {"cluster", "platform", "state"},
			"marketplace":   {"cluster", "platform", "storage", "state"},
			"platform":      {"cluster", "network", "state"},
			"network":       {"state"},
		} {
			for _, n := range needs {
				assert.Contains(t, deps[env+"-"+stack], env+"-"+n, "%s-%s must wait for %s-%s", env, stack, env, n)
			}
		}
	}
}
