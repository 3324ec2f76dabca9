// Package testtree snapshots a directory for tests that must prove a
// command wrote nothing: two snapshots compare equal only if no file or
// folder was added, removed or changed.
package testtree

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Snapshot lists every path under dir, hidden ones included, with file
// contents; folders end in "/".
func Snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatalf("snapshot %s: %v", dir, err)
	}
	return out
}
