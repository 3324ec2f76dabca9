package stacks

import (
	"testing"

	"github.com/stretchr/testify/assert"

	obs "github.com/spatialprops/spatialprops-infra/stacks/observability"
)

func TestMergeValuesKeepsFunctionalValuesAndAddsSecurity(t *testing.T) {
	// GIVEN functional values that set one resources key and a sibling
	base := map[string]any{"tempo": map[string]any{"retention": "168h", "resources": map[string]any{"limits": map[string]any{"memory": "1Gi"}}}}
	// WHEN the security overlay is merged
	got := mergeValues(base, map[string]any{"tempo": map[string]any{"resources": map[string]any{"requests": map[string]any{"cpu": "1"}}}})
	// THEN siblings survive at every depth (a shallow merge would drop
	// retention or the memory limit, silently changing the release)
	tempo := got["tempo"].(map[string]any)
	assert.Equal(t, "168h", tempo["retention"])
	assert.Equal(t, map[string]any{"limits": map[string]any{"memory": "1Gi"}, "requests": map[string]any{"cpu": "1"}}, tempo["resources"])
}

func TestEveryObservabilityReleaseHasASecurityOverlay(t *testing.T) {
	// A release added without an overlay would run with chart defaults:
	// no limits, and for some charts root.
	for _, replicated := range []bool{false, true} {
		for _, r := range []string{obs.KubePrometheusRelease, obs.LokiRelease, obs.AlloyRelease, obs.TempoRelease, obs.CollectorRelease} {
			assert.NotEmpty(t, securityValues(r, replicated), r)
		}
		assert.Nil(t, securityValues("unknown", replicated))
	}
}
