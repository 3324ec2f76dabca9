package tests

import (
	"sync"
	"testing"

	"github.com/spatialprops/spatialprops-infra/internal/iameval"
)

var (
	iamModelsMu sync.Mutex
	iamModels   = map[string]*iameval.Model{}
)

// iamModel is the IAM model of env's synthesized stacks (see
// internal/iameval): built once per test binary from the same synth the
// golden files compare.
func iamModel(t *testing.T, env string) *iameval.Model {
	t.Helper()
	iamModelsMu.Lock()
	defer iamModelsMu.Unlock()
	if m, ok := iamModels[env]; ok {
		return m
	}
	docs := map[string][]byte{}
	for _, s := range allStacks(t) {
		if s.Env == env {
			docs[s.ID] = s.Raw
		}
	}
	e, err := iameval.LoadEnv(env, docs)
	if err != nil {
		t.Fatalf("IAM model of %s: %v", env, err)
	}
	m, err := iameval.NewModel(e)
	if err != nil {
		t.Fatalf("IAM model of %s: %v", env, err)
	}
	iamModels[env] = m
	return m
}
