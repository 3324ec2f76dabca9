package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxTrackedBytes bounds every committed file. The largest legitimate ones
// are lock files and golden snapshots (a few hundred KB); a compiled Go
// binary is tens of MB and once in history it can never be pushed away.
const maxTrackedBytes = 1 << 20

// GIVEN the files git tracks THEN none is a compiled program or larger than
// 1 MiB: a build output committed by mistake (go build without -o writes
// into the working tree) bloats every clone forever.
func TestNoBinaryOrOversizedFileIsTracked(t *testing.T) {
	out, err := exec.Command("git", "-C", "..", "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	files := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	require.NotEmpty(t, files)
	magics := [][]byte{{0x7f, 'E', 'L', 'F'}, {0xcf, 0xfa, 0xed, 0xfe}, {'M', 'Z'}}
	for _, f := range files {
		path := filepath.Join("..", f)
		info, err := os.Lstat(path)
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		assert.LessOrEqual(t, info.Size(), int64(maxTrackedBytes), "%s is %d bytes: keep build outputs and downloads out of git", f, info.Size())
		head := make([]byte, 4)
		fh, err := os.Open(path)
		require.NoError(t, err)
		n, _ := fh.Read(head)
		fh.Close()
		for _, m := range magics {
			assert.False(t, n >= len(m) && bytes.Equal(head[:len(m)], m), "%s is a compiled executable: add it to .gitignore and git rm --cached it", f)
		}
	}
}
