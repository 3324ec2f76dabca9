package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/faultnet"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
)

// TestMain runs the tests; with SPCTL_TEST_MAIN=1 the test binary is spctl
// itself (subprocess tests send it real signals).
func TestMain(m *testing.M) {
	faultnet.ChildMain("SPCTL_TEST_MAIN", "--spctl", "spctl", main)
	os.Exit(motoserver.Run(m))
}

func spctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// GIVEN each command WHEN --help THEN it exits 0 and shows a real example.
func TestHelpForEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"verify"}, {"teardown"}, {"edge", "rollback"}, {"cost"}} {
		code, out, _ := spctl(t, append(args, "--help")...)
		assert.Equal(t, 0, code, args)
		assert.Contains(t, out, "spctl "+strings.Join(args, " "), args)
		assert.Contains(t, out, "--env", args)
	}
}

// Exit code 2 is bad usage: a missing --env, an unknown env, an unknown
// flag, a prod teardown, a staging teardown without --confirm.
func TestBadUsageExitsTwo(t *testing.T) {
	cases := map[string][]string{
		"--env is required":        {"cost"},
		`unknown environment "qa"`: {"cost", "--env", "qa"},
		"unknown flag":             {"verify", "--env", "dev", "--bogus"},
		"never tears down prod":    {"teardown", "--env", "prod", "--confirm", "prod"},
		"--confirm staging":        {"teardown", "--env", "staging"},
		"--cohort needs --ca-arn":  {"edge", "rollback", "--env", "dev", "--cohort", "x"},
	}
	for want, args := range cases {
		code, _, stderr := spctl(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, want, args)
	}
}

// GIVEN no cdktf.out WHEN cost THEN exit 1 telling the user to run make
// synth; GIVEN a synthesized stack THEN a table and a total, or JSON.
func TestCostCommand(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := spctl(t, "cost", "--env", "dev", "--outdir", dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "make synth")

	p := filepath.Join(dir, "stacks", "dev-cluster")
	require.NoError(t, os.MkdirAll(p, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(p, "cdk.tf.json"), []byte(`{"resource":{"aws_eks_cluster":{"c":{}},"aws_mystery":{"m":{}}}}`), 0o644))
	code, out, _ := spctl(t, "cost", "--env", "dev", "--outdir", dir)
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "TOTAL fixed monthly: 73.00 USD")
	assert.Contains(t, out, "UNPRICED resource types (add them to internal/ops/cost/prices.go): aws_mystery")

	code, out, _ = spctl(t, "cost", "--env", "dev", "--outdir", dir, "--summary")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "dev-cluster               73.00  (UNPRICED: aws_mystery ×1)")

	code, out, _ = spctl(t, "cost", "--env", "dev", "--outdir", dir, "--json")
	require.Equal(t, 0, code)
	var est struct {
		Total    float64  `json:"totalMonthlyUsd"`
		Unpriced []string `json:"unpriced"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &est))
	assert.InDelta(t, 73.0, est.Total, 0.001)
	assert.Equal(t, []string{"aws_mystery"}, est.Unpriced)
}

// GIVEN dev WHEN teardown --dry-run THEN the steps are listed in order and
// nothing needs credentials.
func TestTeardownDryRun(t *testing.T) {
	code, out, stderr := spctl(t, "teardown", "--env", "dev", "--dry-run", "--progress-dir", t.TempDir())
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "helm uninstall observability/kube-prometheus-stack (dry run: nothing done)")
	assert.Less(t, strings.Index(out, "cdktf destroy dev-edge"), strings.Index(out, "cdktf destroy dev-network"))
	assert.NotContains(t, out, "dev-state")
}
