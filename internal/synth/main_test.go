package synth

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/envs"
)

// The Main helper runs Main itself (flags, config, scratch folder, signals)
// with the real env files and one small stack per env, so these tests see
// the jsii runtime start and stop as `make synth` does, in seconds.
const (
	mainHelper = "SYNTH_MAIN_HELPER"
	// mainPause makes the helper write this file once jsii runs, then wait
	// to be signalled.
	mainPause = "SYNTH_MAIN_PAUSE"
)

func runMainHelper() int {
	IsolateTemp()
	return Main(Options{
		Args: nil, Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr,
		Envs: envs.Embedded(),
		Build: func(app constructs.Construct, cfg *envs.Config) error {
			stack := cdktf.NewTerraformStack(app, jsii.String(cfg.Env+"-network"))
			cdktf.NewTerraformOutput(stack, jsii.String("org"), &cdktf.TerraformOutputConfig{Value: cfg.Org})
			if ready := os.Getenv(mainPause); ready != "" {
				_ = os.WriteFile(ready, nil, 0o644)
				time.Sleep(2 * time.Minute)
			}
			return nil
		},
	})
}

// mainIn starts the helper with TMPDIR=tmp, writing into out.
func mainIn(t *testing.T, tmp, out string, extra ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), mainHelper+"=1", "TMPDIR="+tmp, "CDKTF_OUTDIR="+out, "ENV=dev")
	cmd.Env = append(cmd.Env, extra...)
	return cmd
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	list, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

// GIVEN an empty $TMPDIR WHEN a synth runs THEN it leaves nothing there:
// jsii's runtime copy and the Node kernel's folders were ~2 MB per run.
func TestSynthLeavesNothingInTMPDIR(t *testing.T) {
	tmp, out := t.TempDir(), filepath.Join(t.TempDir(), "cdktf.out")
	r := run(t, mainIn(t, tmp, out))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "synthesized dev-network")
	assert.Empty(t, entries(t, tmp))
}

// GIVEN a synth that is interrupted while jsii runs WHEN SIGINT or SIGTERM
// arrives THEN it exits 130/143, says nothing was written, and $TMPDIR is
// clean; after SIGKILL, which no process can handle, the next run removes
// what the dead one left.
func TestInterruptedSynthLeavesNothingInTMPDIR(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}, {syscall.SIGKILL, -1}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			tmp, out := t.TempDir(), filepath.Join(t.TempDir(), "cdktf.out")
			ready := filepath.Join(t.TempDir(), "ready")
			cmd := mainIn(t, tmp, out, mainPause+"="+ready)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			deadline := time.Now().Add(90 * time.Second)
			for time.Now().Before(deadline) {
				if _, err := os.Stat(ready); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			require.FileExists(t, ready, "the helper reached the build")
			require.NotEmpty(t, entries(t, tmp), "jsii is running from the scratch folder")
			require.NoError(t, cmd.Process.Signal(tc.sig))
			err := cmd.Wait()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee)
			assert.NoDirExists(t, out, "nothing was written")
			if tc.sig == syscall.SIGKILL {
				assert.NotEmpty(t, entries(t, tmp), "a killed run cannot clean up after itself")
				r := run(t, mainIn(t, tmp, out))
				require.Equal(t, 0, r.code, r.stderr)
			} else {
				assert.Equal(t, tc.code, ee.ExitCode(), stderr.String())
				assert.Contains(t, stderr.String(), "interrupted ("+tc.sig.String()+"): nothing was written")
			}
			// The Node kernel may outlive its parent by a moment.
			for time.Now().Before(deadline) && len(entries(t, tmp)) > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			assert.Empty(t, entries(t, tmp))
		})
	}
}

// manifestIDs lists the stacks manifest.json names, sorted.
func manifestIDs(t *testing.T, out string) []string {
	t.Helper()
	m, err := readManifest(out)
	require.NoError(t, err)
	var ids []string
	for id := range m.stacks {
		ids = append(ids, id)
	}
	return deployOrder(ids)
}

// GIVEN an output holding dev's and prod's stacks WHEN only dev is
// synthesized again THEN dev's stacks are replaced (a stale dev stack
// goes), prod's stay byte for byte with their Terraform working state, and
// the manifest lists both envs, so `spctl cost --env prod` still works.
func TestOneEnvReplacesOnlyItsOwnStacks(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cdktf.out")
	r := run(t, synthIn(t, out, nil, helperVersion+"=v1", helperStackIDs+"=dev-network,dev-edge,prod-network,prod-cluster"))
	require.Equal(t, 0, r.code, r.stderr)
	prodTF := filepath.Join(out, "stacks", "prod-network", ".terraform", "marker")
	require.NoError(t, os.MkdirAll(filepath.Dir(prodTF), 0o755))
	require.NoError(t, os.WriteFile(prodTF, []byte("prod"), 0o644))
	prodBefore, err := os.ReadFile(filepath.Join(out, "stacks", "prod-network", "cdk.tf.json"))
	require.NoError(t, err)

	r = run(t, synthIn(t, out, nil, helperVersion+"=v2", helperOnly+"=dev", helperStackIDs+"=dev-network,dev-cluster"))
	require.Equal(t, 0, r.code, r.stderr)

	assert.Equal(t, "dev-network dev-cluster", strings.TrimSpace(r.stdout), "only dev's stacks were synthesized")
	assert.Equal(t, []string{"dev-network", "dev-cluster", "prod-network", "prod-cluster"}, manifestIDs(t, out))
	assert.NoDirExists(t, filepath.Join(out, "stacks", "dev-edge"), "a stack dev no longer has is gone")
	dev, err := os.ReadFile(filepath.Join(out, "stacks", "dev-network", "cdk.tf.json"))
	require.NoError(t, err)
	assert.Contains(t, string(dev), `"value": "v2"`)
	prodAfter, err := os.ReadFile(filepath.Join(out, "stacks", "prod-network", "cdk.tf.json"))
	require.NoError(t, err)
	assert.Equal(t, prodBefore, prodAfter)
	assert.FileExists(t, prodTF, "prod's Terraform working state is kept")
	assertNoLeftovers(t, out)

	// Without ENV every env is synthesized, so the whole output is replaced.
	r = run(t, synthIn(t, out, nil, helperVersion+"=v3", helperStackIDs+"=dev-network"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, []string{"dev-network"}, manifestIDs(t, out))
}

// GIVEN dev's and prod's stacks WHEN a synth of dev dies at any step THEN
// the output is still whole: prod's stacks and working state are there.
func TestOneEnvCrashKeepsTheOtherEnvs(t *testing.T) {
	for _, step := range []string{"staged", "carried", "swapped"} {
		t.Run(step, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "cdktf.out")
			r := run(t, synthIn(t, out, nil, helperVersion+"=v1", helperStackIDs+"=dev-network,prod-network"))
			require.Equal(t, 0, r.code, r.stderr)
			prodTF := filepath.Join(out, "stacks", "prod-network", ".terraform.lock.hcl")
			require.NoError(t, os.WriteFile(prodTF, []byte("# lock"), 0o644))

			r = run(t, synthIn(t, out, nil, helperVersion+"=v2", helperOnly+"=dev", helperStackIDs+"=dev-network", helperCrashAt+"="+step))
			require.Equal(t, 3, r.code, r.stderr)
			r = run(t, synthIn(t, out, nil, helperVersion+"=v2", helperOnly+"=dev", helperStackIDs+"=dev-network"))
			require.Equal(t, 0, r.code, r.stderr)

			assert.Equal(t, []string{"dev-network", "prod-network"}, manifestIDs(t, out))
			assert.FileExists(t, prodTF)
			assertNoLeftovers(t, out)
		})
	}
}

// GIVEN folders in $TMPDIR that look like a dead run's scratch folder but
// lack its marker (another tool's, such as the tests' own synth folders)
// WHEN a synth runs THEN they are left alone; a real dead run's goes.
func TestSweepRemovesOnlyDeadRunsScratch(t *testing.T) {
	tmp, out := t.TempDir(), filepath.Join(t.TempDir(), "cdktf.out")
	others := []string{"spatialprops-synth-966115212", tempPrefix + "999999999-abc", "spatialprops-synth-1-x"}
	for _, d := range others {
		require.NoError(t, os.Mkdir(filepath.Join(tmp, d), 0o755))
	}
	dead := filepath.Join(tmp, tempPrefix+"999999998-def")
	require.NoError(t, os.Mkdir(dead, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dead, scratchMarker), nil, 0o600))

	r := run(t, mainIn(t, tmp, out))
	require.Equal(t, 0, r.code, r.stderr)
	assert.ElementsMatch(t, others, entries(t, tmp))
}
