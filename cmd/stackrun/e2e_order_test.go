package main

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/terraform"
)

// GIVEN a dependency graph THEN every stack starts only after what it
// waits for finished (applies: its dependencies; destroys: its
// dependents), independent stacks overlap, and a failure skips only what
// waits for it.
func TestInOrderFollowsTheGraph(t *testing.T) {
	stacks := []terraform.Stack{{ID: "state"}, {ID: "network"}, {ID: "storage"}, {ID: "cluster"}, {ID: "cdn"}, {ID: "edge"}}
	deps := map[string][]string{
		"network": {"state"}, "storage": {"state"}, "cluster": {"state", "network"},
		"cdn": {"state", "storage"}, "edge": {"cluster", "cdn", "storage", "elsewhere"},
	}
	run := func(reverse bool, fail string) ([]string, map[string]time.Time, map[string]time.Time, error) {
		var mu sync.Mutex
		var order []string
		start, end := map[string]time.Time{}, map[string]time.Time{}
		err := inOrder(stacks, deps, reverse, func(st terraform.Stack) error {
			mu.Lock()
			start[st.ID] = time.Now()
			mu.Unlock()
			time.Sleep(30 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			end[st.ID] = time.Now()
			order = append(order, st.ID)
			if st.ID == fail {
				return errors.New("boom")
			}
			return nil
		})
		return order, start, end, err
	}

	order, start, end, err := run(false, "")
	require.NoError(t, err)
	assert.Len(t, order, 6)
	for id, ds := range deps {
		for _, d := range ds {
			if d == "elsewhere" {
				continue
			}
			assert.False(t, start[id].Before(end[d]), "%s started before %s finished", id, d)
		}
	}
	assert.True(t, start["storage"].Before(end["network"]), "network and storage are independent: they overlap")

	_, start, end, err = run(true, "")
	require.NoError(t, err)
	assert.False(t, start["state"].Before(end["cdn"]), "state is destroyed after what depends on it")
	assert.False(t, start["storage"].Before(end["edge"]))

	order, _, _, err = run(false, "storage")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cdn skipped: storage failed")
	assert.Contains(t, err.Error(), "edge skipped")
	assert.True(t, slices.Contains(order, "cluster"), "what does not wait for storage still runs")
	assert.False(t, slices.Contains(order, "cdn"))
}
