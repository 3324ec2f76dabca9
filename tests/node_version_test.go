package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsiiSupportedNode is the only Node release the jsii runtime under cdktf
// 0.20.12 supports (its check-node table: 18 and 20 are end-of-life, 22 is
// "^22.0.0"). Every synth on another release prints a warning banner.
const jsiiSupportedNode = "22"

func TestNodeVersionIsTheOneJsiiSupports(t *testing.T) {
	var pkg struct {
		Engines map[string]string `json:"engines"`
	}
	require.NoError(t, json.Unmarshal([]byte(readFile(t, "../package.json")), &pkg))
	assert.Equal(t, "^"+jsiiSupportedNode+".0.0", pkg.Engines["node"], "package.json engines")

	nodeVersion := regexp.MustCompile(`node-version:\s*"?([^"\s]+)"?`)
	files, err := filepath.Glob("../.github/*/*.yml")
	require.NoError(t, err)
	more, err := filepath.Glob("../.github/actions/*/action.yml")
	require.NoError(t, err)
	seen := 0
	for _, f := range append(files, more...) {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range nodeVersion.FindAllStringSubmatch(string(raw), -1) {
			seen++
			assert.Equal(t, jsiiSupportedNode, m[1], "%s sets up Node %s", f, m[1])
		}
	}
	assert.NotZero(t, seen, "the workflows set up Node somewhere")
}
