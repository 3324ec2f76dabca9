package tests

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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
			path := goldenPath(s)
			seen[path] = true
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, got, 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no snapshot for %s: run `make update-golden` and review it", s.ID)
			if !bytes.Equal(want, got) {
				t.Errorf("%s differs from %s:\n%s\nIf intended, run `make update-golden` and review the diff.", s.ID, path, firstDifference(want, got))
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

// goldenPath is tests/testdata/<env>/<stack>.json, and for a stack of no
// env (github) tests/testdata/global/<stack>.json.
func goldenPath(s synthesized) string {
	if s.Env == "" {
		return filepath.Join("testdata", "global", s.ID+".json")
	}
	return filepath.Join("testdata", s.Env, s.ID[len(s.Env)+1:]+".json")
}

// firstDifference shows the first differing line of two snapshots with a
// little context, enough to find the change without dumping both files.
func firstDifference(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			var b strings.Builder
			for j := max(0, i-3); j < i; j++ {
				fmt.Fprintf(&b, "   %5d  %s\n", j+1, w[j])
			}
			fmt.Fprintf(&b, "-  %5d  %s\n+  %5d  %s", i+1, wl, i+1, gl)
			return b.String()
		}
	}
	return "(same lines, different bytes)"
}
