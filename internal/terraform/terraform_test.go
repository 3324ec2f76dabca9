package terraform

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAtLeast(t *testing.T) {
	// use_lockfile needs 1.10: 1.9.8 must be refused, though "9" > "1" as text.
	assert.True(t, AtLeast("1.11.4", "1.10"))
	assert.True(t, AtLeast("1.10.0", "1.10"))
	assert.False(t, AtLeast("1.9.8", "1.10"))
	assert.False(t, AtLeast("1", "1.10"))
}

// GIVEN a directory in Terraform's unpacked mirror layout WHEN found through
// TF_PLUGIN_DIR THEN it lists the provider, and the CLI config installs it
// from there only, with the shared plugin cache.
func TestMirrorAndCLIConfig(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "registry.terraform.io", "hashicorp", "aws", "5.100.0", "linux_amd64", "terraform-provider-aws_v5.100.0_x5")
	require.NoError(t, os.MkdirAll(filepath.Dir(bin), 0o755))
	require.NoError(t, os.WriteFile(bin, []byte("#!"), 0o755))
	t.Setenv(PluginDirEnv, dir)

	m, err := FindMirror()
	require.NoError(t, err)
	assert.True(t, m.Has("aws"))
	assert.False(t, m.Has("helm"), "helm is not mirrored, so helm stacks are reported, not validated")
	assert.Equal(t, "hashicorp/aws 5.100.0", m.Describe())

	cfg := filepath.Join(t.TempDir(), "cli.tfrc")
	cache := filepath.Join(t.TempDir(), "cache")
	require.NoError(t, WriteCLIConfig(cfg, m, cache))
	raw, err := os.ReadFile(cfg)
	require.NoError(t, err)
	text := string(raw)
	assert.Contains(t, text, `path    = "`+dir+`"`)
	assert.Contains(t, text, `include = ["registry.terraform.io/hashicorp/aws"]`)
	assert.Contains(t, text, `exclude = ["registry.terraform.io/hashicorp/aws"]`, "aws must never be fetched from the registry")
	assert.Contains(t, text, `plugin_cache_dir = "`+cache+`"`)
	assert.DirExists(t, cache)
}

func TestEmptyPluginDirIsAnError(t *testing.T) {
	t.Setenv(PluginDirEnv, t.TempDir())
	_, err := FindMirror()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "holds no provider")
}

func TestWarningsAreFoundInBoxedOutput(t *testing.T) {
	out := strings.Join([]string{
		"╷",
		"│ Warning: Deprecated Parameter",
		"│ The parameter \"dynamodb_table\" is deprecated.",
		"╵",
		"Warning: Incomplete lock file information for providers",
	}, "\n")
	assert.Equal(t, []string{"Deprecated Parameter", "Incomplete lock file information for providers"}, Warnings(out))
}

func TestReadStackListsItsProviders(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev-platform")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cdk.tf.json"),
		[]byte(`{"terraform":{"required_providers":{"aws":{},"helm":{},"kubernetes":{}}}}`), 0o644))
	st, err := ReadStack(dir)
	require.NoError(t, err)
	assert.Equal(t, "dev-platform", st.ID)
	m := &Mirror{Providers: map[string][]string{Address("aws"): {"5.100.0"}}}
	assert.Equal(t, []string{"helm", "kubernetes"}, st.Missing(m))
}

func TestHasResources(t *testing.T) {
	dir := t.TempDir()
	empty, full := filepath.Join(dir, "empty.tfstate"), filepath.Join(dir, "full.tfstate")
	require.NoError(t, os.WriteFile(empty, []byte(`{"resources":[]}`), 0o644))
	require.NoError(t, os.WriteFile(full, []byte(`{"resources":[{"type":"aws_s3_bucket"}]}`), 0o644))
	// An interrupted bootstrap leaves a non-empty local state: resume from it.
	assert.True(t, hasResources(full))
	assert.False(t, hasResources(empty))
	assert.False(t, hasResources(filepath.Join(dir, "missing.tfstate")))
}

// GIVEN a terraform that, like the real one on Ctrl-C, finishes its work
// (writes state, releases the lock) when interrupted WHEN the run's context
// ends THEN it gets SIGINT, not SIGKILL, and its cleanup happens; GIVEN one
// that ignores SIGINT THEN it is killed after InterruptGrace.
func TestRunInterruptsTerraformGracefully(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "terraform")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\ntrap 'echo lock released > \"$PWD/released\"; exit 130' INT\nwhile :; do sleep 0.05; done\n"), 0o755))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := (&Runner{Bin: bin}).Run(ctx, dir, "apply")
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	got, rerr := os.ReadFile(filepath.Join(dir, "released"))
	require.NoError(t, rerr, "terraform must get the chance to release its lock")
	assert.Equal(t, "lock released\n", string(got))

	stubborn := filepath.Join(dir, "stubborn")
	require.NoError(t, os.WriteFile(stubborn, []byte("#!/bin/sh\ntrap '' INT\nwhile :; do sleep 0.05; done\n"), 0o755))
	old := InterruptGrace
	InterruptGrace = 300 * time.Millisecond
	t.Cleanup(func() { InterruptGrace = old })
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	start = time.Now()
	_, _, err = (&Runner{Bin: stubborn}).Run(ctx2, dir, "apply")
	require.Error(t, err)
	assert.Less(t, time.Since(start), 3*time.Second, "killed after the grace period")
}

// GIVEN a Runner with DebugLog WHEN it runs a command THEN the command
// gets the debug log settings for the path DebugLog names, and a command
// DebugLog names no path for gets the plain environment.
func TestDebugLogSetsTheLogPerCommand(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "terraform")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\necho \"core=$TF_LOG_CORE provider=$TF_LOG_PROVIDER path=$TF_LOG_PATH base=$BASE\"\n"), 0o755))
	logPath := filepath.Join(dir, "calls", "dev-x.log")
	r := &Runner{Bin: bin, Env: []string{"BASE=1"}, DebugLog: func(d string, args []string) string {
		if args[0] == "apply" {
			return logPath
		}
		return ""
	}}
	out, _, err := r.Run(context.Background(), dir, "apply")
	require.NoError(t, err)
	assert.Equal(t, "core=debug provider=debug path="+logPath+" base=1\n", out)
	out, _, err = r.Run(context.Background(), dir, "state", "list")
	require.NoError(t, err)
	assert.Equal(t, "core= provider= path= base=1\n", out, "an operator's command is not logged")
	assert.Equal(t, []string{"BASE=1"}, r.Env, "the runner's own environment is not changed")

	var lines []string
	p, err := r.Start(context.Background(), dir, func(_ *Process, line string) { lines = append(lines, line) }, "apply")
	require.NoError(t, err)
	_, _, _ = p.Wait()
	assert.Equal(t, []string{"core=debug provider=debug path=" + logPath + " base=1"}, lines, "Start logs the same way")
}
