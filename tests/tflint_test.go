package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tflint runs the pinned TFLint with the repository's .tflint.hcl and the
// AWS ruleset plugin make builds (bin/tflint-plugins), in dir.
func tflint(t *testing.T, dir string) (string, int) {
	t.Helper()
	bin := tool(t, "TFLINT", "tflint")
	plugins, _ := filepath.Abs(filepath.Join("..", "bin", "tflint-plugins"))
	if p := os.Getenv("TFLINT_PLUGIN_DIR"); p != "" {
		plugins = p
	}
	config, _ := filepath.Abs("../.tflint.hcl")
	cmd := exec.Command(bin, "--chdir="+dir, "--config="+config, "--format=compact")
	cmd.Env = append(os.Environ(), "TFLINT_PLUGIN_DIR="+plugins)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err, string(out))
	}
	return string(out), code
}

// GIVEN the configuration `make tflint` uses WHEN TFLint checks a stack
// with an instance type AWS does not have THEN the AWS ruleset refuses it,
// and the same stack with a real type passes: the plugin is loaded and its
// catalogue checks run (a missing plugin would pass everything).
func TestTFLintRunsTheAWSRuleset(t *testing.T) {
	const stack = `terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.99.1" }
  }
}
resource "aws_instance" "node" {
  ami           = "ami-12345678"
  instance_type = "%s"
}
`
	for typ, want := range map[string]string{"m6i.lrage": `"m6i.lrage" is an invalid value as instance_type (aws_instance_invalid_type)`, "m6i.large": ""} {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(fmt.Sprintf(stack, typ)), 0o644))
		out, code := tflint(t, dir)
		if want == "" {
			assert.Equal(t, 0, code, out)
			continue
		}
		assert.Equal(t, 2, code, out)
		assert.Contains(t, out, want)
	}
}
