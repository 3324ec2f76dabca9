package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
)

func TestGuardrailFailureWritesNothing(t *testing.T) {
	// GIVEN a previous good synth in cdktf.out
	out := filepath.Join(t.TempDir(), "cdktf.out")
	require.NoError(t, os.MkdirAll(out, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(out, "previous"), nil, 0o644))

	// WHEN a stack without a backend is synthesized
	_, err := synthesize(out, func(app constructs.Construct) error {
		stack := cdktf.NewTerraformStack(app, jsii.String("dev-broken"))
		sp.AddGuardrails(stack, sp.GuardrailProps{})
		return nil
	})

	// THEN synth fails with the guardrail's message and the old output
	// survives, with no staging directory left behind
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stack dev-broken has no S3 backend")
	assert.FileExists(t, filepath.Join(out, "previous"))
	entries, _ := os.ReadDir(filepath.Dir(out))
	assert.Len(t, entries, 1)
}
