package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/ops/cost"
)

// GIVEN the real synthesized stacks of every env WHEN spctl cost prices
// them THEN no resource type is left unpriced: a new resource must be given
// a price, a usage price or a reason to be free in internal/ops/cost, so
// the estimate in the docs never silently omits it.
func TestCostPricesEverySynthesizedResourceType(t *testing.T) {
	allStacks(t)
	for _, env := range envs.Order {
		docs, ids, err := cost.Load(synthDir, env)
		require.NoError(t, err, env)
		est, err := cost.Compute(env, docs, ids)
		require.NoError(t, err, env)
		assert.Empty(t, est.Unpriced, "%s: add these types to internal/ops/cost (price, usage or free)", env)
		assert.Positive(t, est.Total, env)
	}
}
