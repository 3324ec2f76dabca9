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

	"github.com/spatialprops/spatialprops-infra/internal/testtree"
)

// buildApp compiles the app once per test, as `go run .` would.
func buildApp(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "spatialprops-infra")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// run executes the app in dir with only the given session variables set.
func run(t *testing.T, bin, dir string, env ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runArgs(t, bin, dir, nil, env...)
}

// runArgs is run with command-line arguments.
func runArgs(t *testing.T, bin, dir string, args []string, env ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return o.String(), e.String(), code
}

func TestCommandLine(t *testing.T) {
	bin := buildApp(t)

	full := t.TempDir()
	t.Run("synthesizes and names every stack of every env", func(t *testing.T) {
		stdout, _, code := run(t, bin, full)
		require.Equal(t, 0, code)
		// the env-independent github stack comes with every env
		want := []string{"synthesized github"}
		assert.FileExists(t, filepath.Join(full, "cdktf.out", "stacks", "github", "cdk.tf.json"))
		for _, env := range []string{"dev", "staging", "prod"} {
			for _, c := range builtComponents {
				want = append(want, "synthesized "+env+"-"+c)
				assert.FileExists(t, filepath.Join(full, "cdktf.out", "stacks", env+"-"+c, "cdk.tf.json"))
			}
		}
		assert.Equal(t, want, strings.Split(strings.TrimSpace(stdout), "\n"))
	})

	t.Run("ENV=dev replaces dev's stacks and keeps the other envs'", func(t *testing.T) {
		// README: "ENV=<env> make synth replaces only that env's stacks".
		prodBefore := testtree.Snapshot(t, filepath.Join(full, "cdktf.out", "stacks", "prod-network"))
		require.NotEmpty(t, prodBefore)
		stale := filepath.Join(full, "cdktf.out", "stacks", "dev-network", "stale")
		require.NoError(t, os.WriteFile(stale, []byte("from an older synth"), 0o644))

		stdout, stderr, code := run(t, bin, full, "ENV=dev")

		require.Equal(t, 0, code, stderr)
		assert.NotContains(t, stdout, "staging-")
		assert.NoFileExists(t, stale, "dev's stacks are replaced")
		assert.Equal(t, prodBefore, testtree.Snapshot(t, filepath.Join(full, "cdktf.out", "stacks", "prod-network")), "prod's stack is kept byte for byte")
		manifest := readFile(t, filepath.Join(full, "cdktf.out", "manifest.json"))
		for _, env := range []string{"dev", "staging", "prod"} {
			assert.Contains(t, manifest, `"`+env+`-marketplace"`, "the manifest still lists %s", env)
			assert.FileExists(t, filepath.Join(full, "cdktf.out", "config", env+".json"), "spctl's record of the configuration %s was synthesized from", env)
		}
	})

	t.Run("ENV selects one environment", func(t *testing.T) {
		dir := t.TempDir()
		stdout, _, code := run(t, bin, dir, "ENV=prod")
		require.Equal(t, 0, code)
		assert.Contains(t, stdout, "synthesized prod-network")
		assert.NotContains(t, stdout, "dev-")
		assert.NoDirExists(t, filepath.Join(dir, "cdktf.out", "stacks", "dev-network"))
	})

	t.Run("unknown env fails and writes nothing", func(t *testing.T) {
		dir := t.TempDir()
		_, stderr, code := run(t, bin, dir, "ENV=qa")
		assert.Equal(t, 1, code)
		assert.Contains(t, stderr, `ENV: unknown environment "qa": use one of dev, prod, staging`)
		assert.NoDirExists(t, filepath.Join(dir, "cdktf.out"))
	})

	t.Run("bad override leaves an existing cdktf.out untouched", func(t *testing.T) {
		dir := t.TempDir()
		marker := filepath.Join(dir, "cdktf.out", "previous-run")
		require.NoError(t, os.MkdirAll(filepath.Dir(marker), 0o755))
		require.NoError(t, os.WriteFile(marker, []byte("keep"), 0o644))
		_, stderr, code := run(t, bin, dir, "ENV=dev", "AWS_REGION=sydney")
		assert.Equal(t, 1, code)
		assert.Contains(t, stderr, `AWS_REGION (overrides region in envs/dev.yaml): "sydney" is not an AWS region; use e.g. ap-southeast-2`)
		assert.FileExists(t, marker)
		staging, _ := filepath.Glob(filepath.Join(dir, ".cdktf.out.staging-*"))
		assert.Empty(t, staging, "no staging directory is left behind")
	})

	t.Run("--list prints the deploy order and writes nothing", func(t *testing.T) {
		dir := t.TempDir()
		marker := filepath.Join(dir, "cdktf.out", "stacks", "dev-network", ".terraform", "marker")
		require.NoError(t, os.MkdirAll(filepath.Dir(marker), 0o755))
		require.NoError(t, os.WriteFile(marker, []byte("keep"), 0o644))
		before := testtree.Snapshot(t, dir)

		stdout, _, code := runArgs(t, bin, dir, []string{"--list"}, "ENV=staging")

		require.Equal(t, 0, code)
		var want []string
		for _, c := range builtComponents {
			want = append(want, "staging-"+c)
		}
		assert.Equal(t, want, strings.Split(strings.TrimSpace(stdout), "\n"))
		assert.Equal(t, before, testtree.Snapshot(t, dir), "no output, staging folder or lock file")
	})

	t.Run("--list refuses bad config", func(t *testing.T) {
		dir := t.TempDir()
		stdout, stderr, code := runArgs(t, bin, dir, []string{"--list"}, "ENV=dev", "ORG=Bad_Org")
		assert.Equal(t, 1, code)
		assert.Empty(t, stdout, "no stack ids for a caller to loop over")
		assert.Contains(t, stderr, `ORG (overrides org in envs/dev.yaml): "Bad_Org" must be lowercase letters, digits and inner hyphens`)
		assert.Empty(t, testtree.Snapshot(t, dir))
	})

	t.Run("a synth keeps each stack's Terraform working state", func(t *testing.T) {
		// .terraform holds the providers `terraform init` unpacked; losing it
		// on every synth made every diff unpack ~700 MB again.
		dir := t.TempDir()
		marker := filepath.Join(dir, "cdktf.out", "stacks", "dev-network", ".terraform", "marker")
		lock := filepath.Join(dir, "cdktf.out", "stacks", "dev-network", ".terraform.lock.hcl")
		require.NoError(t, os.MkdirAll(filepath.Dir(marker), 0o755))
		require.NoError(t, os.WriteFile(marker, []byte("keep"), 0o644))
		require.NoError(t, os.WriteFile(lock, []byte("# lock"), 0o644))

		_, stderr, code := run(t, bin, dir, "ENV=dev")

		require.Equal(t, 0, code, stderr)
		assert.FileExists(t, filepath.Join(dir, "cdktf.out", "stacks", "dev-network", "cdk.tf.json"))
		assert.Equal(t, "keep", readFile(t, marker))
		assert.Equal(t, "# lock", readFile(t, lock))
	})
}

// builtComponents are the stacks every environment must have, in deploy
// order; `make synth` prints them in this order.
var builtComponents = []string{"state", "network", "cluster", "cicd", "platform", "storage", "identity", "cdn", "observability", "edge", "marketplace"}
