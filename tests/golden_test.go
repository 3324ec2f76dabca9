package tests

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite tests/testdata golden files from the current synth")

// machinePath matches absolute paths that would make a snapshot depend on
// the machine it was written on (a local backend or an outdir leaking).
var machinePath = regexp.MustCompile(`"/(root|home|work|tmp|Users|var)/`)

// TestGolden compares every stack of every environment with its reviewed
// snapshot in tests/testdata/<env>/<stack>.json. After an intended change,
// run `make update-golden` and read the diff before committing it.
func TestGolden(t *testing.T) {
	all := allStacks(t)
	require.NotEmpty(t, all)
	seen := map[string]bool{}
	for _, s := range all {
		t.Run(s.ID, func(t *testing.T) {
			got, err := normalize(s.Raw)
			require.NoError(t, err)
			assert.False(t, machinePath.Match(got), "snapshot contains an absolute machine path")
			path := filepath.Join("testdata", s.Env, s.ID[len(s.Env)+1:]+".json")
			seen[path] = true
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, got, 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no snapshot for %s: run `make update-golden` and review it", s.ID)
			if !bytes.Equal(want, got) {
				assert.JSONEq(t, string(want), string(got), "%s differs from its snapshot: if intended, run `make update-golden` and review the diff", s.ID)
			}
		})
	}
	// A snapshot whose stack no longer exists is stale review material.
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	for _, f := range files {
		if *update && !seen[f] {
			require.NoError(t, os.Remove(f))
			continue
		}
		assert.True(t, seen[f], "%s has no stack any more: delete it or run `make update-golden`", f)
	}
}
