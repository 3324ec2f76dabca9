package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/testtree"
)

// makeIn runs the real Makefile target in dir with the session variables
// given and none inherited, as a user or CI would type it.
func makeIn(t *testing.T, dir string, cred *syscall.Credential, target string, env ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command("make", "--no-print-directory", target)
	cmd.Dir = dir
	cmd.Env = freshEnv(env...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
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

// freshEnv is this process's environment without the variables the
// Makefile reads or a calling make exports (`make test` runs these tests),
// plus env.
func freshEnv(env ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		switch name, _, _ := strings.Cut(kv, "="); name {
		case "ENV", "STACK", "ORG", "AWS_REGION", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "CDKTF_OUTDIR", "DIFF_REPORT",
			"TF_PLUGIN_CACHE_DIR", "CDKTF_DISABLE_PLUGIN_CACHE_ENV":
		default:
			out = append(out, kv)
		}
	}
	return append(out, env...)
}

// TestMakeTargetsFailLoudly: CI runs these targets; a bad config or a
// missing variable must fail the job with the real message, never exit 0
// having deployed or diffed nothing.
func TestMakeTargetsFailLoudly(t *testing.T) {
	badOrg := `ORG (overrides org in envs/dev.yaml): "Bad_Org" must be lowercase letters, digits and inner hyphens (it is part of S3 bucket names), e.g. spatialprops`
	cases := []struct {
		target string
		env    []string
		want   string
	}{
		{"stacks", []string{"ENV=qa"}, `ENV: unknown environment "qa": use one of dev, prod, staging (each is a file envs/<env>.yaml)`},
		{"deploy-all", []string{"ENV=qa"}, `ENV: unknown environment "qa": use one of dev, prod, staging (each is a file envs/<env>.yaml)`},
		{"deploy-all", []string{"ENV=dev", "ORG=Bad_Org"}, badOrg},
		{"diff-all", []string{"ENV=dev", "ORG=Bad_Org"}, badOrg},
		{"deploy-all", nil, "set ENV, e.g. ENV=dev make deploy-all"},
		{"diff-all", nil, "set ENV, e.g. ENV=dev make diff-all"},
		{"diff", nil, "set STACK, e.g. make diff STACK=dev-network"},
		{"deploy", nil, "set STACK, e.g. make deploy STACK=dev-network"},
	}
	for _, tc := range cases {
		t.Run(tc.target+" "+strings.Join(tc.env, " "), func(t *testing.T) {
			stdout, stderr, code := makeIn(t, "..", nil, tc.target, tc.env...)
			assert.NotEqual(t, 0, code, "make %s must fail", tc.target)
			assert.Contains(t, stderr, tc.want)
			assert.NotContains(t, stderr, "unbound variable")
			assert.NotContains(t, stdout+stderr, "==> cdktf", "nothing is diffed or deployed")
		})
	}
}

func TestMakeStacksIsReadOnly(t *testing.T) {
	// GIVEN an output folder with Terraform working state (pointed at
	// through CDKTF_OUTDIR, so the repo's own cdktf.out is not involved)
	dir := t.TempDir()
	out := filepath.Join(dir, "cdktf.out")
	marker := filepath.Join(out, "stacks", "staging-network", ".terraform", "marker")
	require.NoError(t, os.MkdirAll(filepath.Dir(marker), 0o755))
	require.NoError(t, os.WriteFile(marker, []byte("keep"), 0o644))
	before := testtree.Snapshot(t, dir)

	// WHEN the stack order of one env is printed
	stdout, stderr, code := makeIn(t, "..", nil, "stacks", "ENV=dev", "CDKTF_OUTDIR="+out)

	// THEN it is the deploy order, and nothing was written: the other envs'
	// output and working state are still there
	require.Equal(t, 0, code, stderr)
	var want []string
	for _, c := range builtComponents {
		want = append(want, "dev-"+c)
	}
	assert.Equal(t, want, strings.Split(strings.TrimSpace(stdout), "\n"))
	assert.Equal(t, before, testtree.Snapshot(t, dir))
	assert.NotContains(t, stderr, "!!", "jsii's Node banner is filtered; real errors are not")
}

// TestMakeEnvFileProblemsAreConfigErrors: go:embed rejects a symlinked or
// unreadable env file with a compile error about envs/load.go, so the
// Makefile checks the files before anything compiles. Tested on a copy of
// the Makefile and envs/ (the check runs before gen and go, so nothing else
// is needed, and the real envs/ is never touched).
func TestMakeEnvFileProblemsAreConfigErrors(t *testing.T) {
	copyRepoBits := func(t *testing.T) string {
		dir, err := os.MkdirTemp("", "make-envs-")
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(dir) })
		require.NoError(t, os.Chmod(dir, 0o755))
		require.NoError(t, os.Mkdir(filepath.Join(dir, "envs"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "Makefile"), []byte(readFile(t, "../Makefile")), 0o644))
		for _, env := range []string{"dev", "staging", "prod"} {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "envs", env+".yaml"), []byte(readFile(t, "../envs/"+env+".yaml")), 0o644))
		}
		return dir
	}

	t.Run("regular files pass", func(t *testing.T) {
		_, stderr, code := makeIn(t, copyRepoBits(t), nil, "check-envs")
		assert.Equal(t, 0, code, stderr)
	})

	t.Run("symlink", func(t *testing.T) {
		dir := copyRepoBits(t)
		target := filepath.Join(dir, "dev-elsewhere.yaml")
		require.NoError(t, os.Rename(filepath.Join(dir, "envs", "dev.yaml"), target))
		require.NoError(t, os.Symlink(target, filepath.Join(dir, "envs", "dev.yaml")))

		_, stderr, code := makeIn(t, dir, nil, "stacks", "ENV=dev")

		assert.NotEqual(t, 0, code)
		assert.Contains(t, stderr, "envs/dev.yaml: is a symbolic link to "+target+"; env files are embedded into the app and Go embeds only regular files: replace the link with a copy (cp --remove-destination \""+target+"\" envs/dev.yaml)")
		assert.Contains(t, stderr, "error: configuration is invalid; nothing was written")
		assert.NotContains(t, stderr, "npm", "it fails before installing or compiling anything")
	})

	t.Run("unreadable for a non-root user", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("SKIPPED LOUDLY: running make as uid 65534 needs root; root reads any file, so this case needs another user")
		}
		dir := copyRepoBits(t)
		require.NoError(t, os.Chmod(filepath.Join(dir, "envs", "prod.yaml"), 0o600))

		_, stderr, code := makeIn(t, dir, &syscall.Credential{Uid: 65534, Gid: 65534}, "synth", "HOME="+dir)

		assert.NotEqual(t, 0, code)
		assert.Contains(t, stderr, "envs/prod.yaml: cannot be read by user nobody; make it readable: chmod a+r envs/prod.yaml")
		assert.Contains(t, stderr, "error: configuration is invalid; nothing was written")
	})
}

func TestMakeUsesAProviderPluginCache(t *testing.T) {
	// cdktf's own cache switch stays on, and Terraform run by any target
	// shares one cache that make creates.
	home := t.TempDir()
	stdout, stderr, code := makeIn(t, "..", nil, "plugin-cache", "HOME="+home)
	require.Equal(t, 0, code, stderr)
	assert.DirExists(t, filepath.Join(home, ".terraform.d", "plugin-cache"))

	cmd := exec.Command("make", "--no-print-directory", "--eval",
		"print-cache-env: ; @echo \"$$TF_PLUGIN_CACHE_DIR $${CDKTF_DISABLE_PLUGIN_CACHE_ENV:-unset}\"", "print-cache-env")
	cmd.Dir = ".."
	cmd.Env = freshEnv("HOME=" + home)
	out, err := cmd.Output()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(home, ".terraform.d", "plugin-cache")+" unset", strings.TrimSpace(string(out)), stdout)
}

// TestMakeListsEveryTarget: `make` alone is the index of targets (README),
// so every documented target appears, names with digits (e2e) included.
func TestMakeListsEveryTarget(t *testing.T) {
	stdout, stderr, code := makeIn(t, "..", nil, "help")
	require.Equal(t, 0, code, stderr)
	var documented []string
	for _, line := range strings.Split(readFile(t, "../Makefile"), "\n") {
		if name, rest, ok := strings.Cut(line, ":"); ok && strings.Contains(rest, "## ") && !strings.ContainsAny(name, " \t$=") {
			documented = append(documented, name)
		}
	}
	require.Contains(t, documented, "e2e")
	for _, target := range documented {
		assert.Regexp(t, `(?m)^  (\x1b\[36m)?`+target+`\s`, stdout, "make does not list %s", target)
	}
	cmd := exec.Command("make", "--no-print-directory")
	cmd.Dir, cmd.Env = "..", freshEnv()
	plain, err := cmd.Output()
	require.NoError(t, err)
	assert.Equal(t, stdout, string(plain), "make with no target is make help")
}

// TestBuildProgressLine: `make spctl` pipes `go build -v` through
// GO_PROGRESS, so a long first build prints a line every 50 packages and a
// total instead of minutes of "go: downloading"; compiler errors pass
// through unchanged.
func TestBuildProgressLine(t *testing.T) {
	var in strings.Builder
	for i := range 3 {
		fmt.Fprintf(&in, "go: downloading example.com/m%d v1.0.0\n", i)
	}
	for i := range 120 {
		fmt.Fprintf(&in, "github.com/example/pkg%d\n", i)
	}
	in.WriteString("cmd/spctl/main.go:12:2: undefined: nope\n")
	src := filepath.Join(t.TempDir(), "build.log")
	require.NoError(t, os.WriteFile(src, []byte(in.String()), 0o644))
	cmd := exec.Command("make", "--no-print-directory", "--eval", "progress-check: ; @$(GO_PROGRESS) < "+src, "progress-check")
	cmd.Dir, cmd.Env = "..", freshEnv()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "  downloading modules: 1 so far\n"+
		"  compiled 50 packages (github.com/example/pkg49)\n"+
		"  compiled 100 packages (github.com/example/pkg99)\n"+
		"cmd/spctl/main.go:12:2: undefined: nope\n"+
		"  done: 3 modules downloaded, 120 packages compiled\n", string(out))
}
