package synth

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/internal/testtree"
)

// The synth tests run synthesize in a child process (this test binary
// again, see TestMain), so they can crash it mid-swap, run it as another
// user, or run several at once.
const (
	helperOut      = "SYNTH_HELPER_OUT"     // output folder; set means "be the helper"
	helperVersion  = "SYNTH_HELPER_VERSION" // written into every stack, to tell outputs apart
	helperCrashAt  = "SYNTH_HELPER_CRASH"   // step at which the helper dies (exit 3)
	helperStackIDs = "SYNTH_HELPER_STACKS"  // comma-separated stack ids (default helperStacks)
	helperOnly     = "SYNTH_HELPER_ONLY"    // the env synthesized, as ENV=<env> selects
)

var helperStacks = []string{"dev-network", "dev-cluster"}

func TestMain(m *testing.M) {
	if os.Getenv(mainHelper) != "" {
		os.Exit(runMainHelper())
	}
	if out := os.Getenv(helperOut); out != "" {
		stepHook = func(step string) {
			if step == os.Getenv(helperCrashAt) {
				os.Exit(3)
			}
		}
		ids := helperStacks
		if v := os.Getenv(helperStackIDs); v != "" {
			ids = strings.Split(v, ",")
		}
		var only []string
		if v := os.Getenv(helperOnly); v != "" {
			only = []string{v}
		}
		written, err := synthesize(out, only, nil, func(app constructs.Construct) error {
			for _, id := range ids {
				stack := cdktf.NewTerraformStack(app, jsii.String(id))
				cdktf.NewTerraformOutput(stack, jsii.String("version"), &cdktf.TerraformOutputConfig{Value: os.Getenv(helperVersion)})
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(1)
		}
		fmt.Println(strings.Join(written, " "))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// result is what one helper run did.
type result struct {
	code           int
	stdout, stderr string
}

// synthIn runs the helper on out. extra adds environment variables; cred,
// when set, runs it as that user.
func synthIn(t *testing.T, out string, cred *syscall.Credential, extra ...string) *exec.Cmd {
	t.Helper()
	bin := os.Args[0]
	if cred != nil {
		bin = helperBinary(t)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperOut+"="+out)
	cmd.Env = append(cmd.Env, extra...)
	if cred != nil {
		home := t.TempDir()
		require.NoError(t, os.Chmod(home, 0o777))
		cmd.Env = append(cmd.Env, "HOME="+home)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	return cmd
}

func run(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r := result{stdout: o.String(), stderr: e.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return r
}

var (
	helperOnce sync.Once
	helperBin  string
)

// helperBinary is this test binary, copied where any user may run it (the
// go test build folder is private to its owner).
func helperBinary(t *testing.T) string {
	helperOnce.Do(func() {
		dir, err := os.MkdirTemp("", "synth-helper-")
		require.NoError(t, err)
		require.NoError(t, os.Chmod(dir, 0o755))
		helperBin = filepath.Join(dir, "helper.test")
		src, err := os.ReadFile(os.Args[0])
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(helperBin, src, 0o755))
	})
	return helperBin
}

// versionOf returns the version every stack in out was synthesized with,
// failing when the folder mixes two runs or misses a stack the manifest
// lists: the proof that an output is whole.
func versionOf(t *testing.T, out string) string {
	t.Helper()
	ids, err := stackIDs(out)
	require.NoError(t, err, "manifest.json must be present")
	require.Equal(t, helperStacks, ids)
	versions := map[string]bool{}
	for _, id := range ids {
		raw, err := os.ReadFile(filepath.Join(out, "stacks", id, "cdk.tf.json"))
		require.NoError(t, err)
		for _, v := range []string{"v1", "v2"} {
			if bytes.Contains(raw, []byte(`"value": "`+v+`"`)) {
				versions[v] = true
			}
		}
	}
	require.Len(t, versions, 1, "every stack comes from the same run")
	for v := range versions {
		return v
	}
	return ""
}

// withWorkingState gives every stack of out the files `terraform init`
// leaves behind.
func withWorkingState(t *testing.T, out string) {
	t.Helper()
	for _, id := range helperStacks {
		dir := filepath.Join(out, "stacks", id)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, ".terraform", "providers"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".terraform", "marker"), []byte(id), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".terraform.lock.hcl"), []byte("# lock "+id), 0o644))
	}
}

func assertWorkingState(t *testing.T, out string) {
	t.Helper()
	for _, id := range helperStacks {
		dir := filepath.Join(out, "stacks", id)
		assert.FileExists(t, filepath.Join(dir, ".terraform", "marker"), "%s lost its .terraform", id)
		assert.FileExists(t, filepath.Join(dir, ".terraform.lock.hcl"), "%s lost its provider lock", id)
	}
}

func assertNoLeftovers(t *testing.T, out string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".cdktf.out.staging-*"))
	assert.Empty(t, left, "no staging folder is left behind")
}

// goodOutput synthesizes v1 into a fresh folder and gives it working state.
// The folder's parents can be traversed by any user (t.TempDir's cannot),
// so a run as nobody meets exactly the permissions each test sets.
func goodOutput(t *testing.T) string {
	t.Helper()
	parent, err := os.MkdirTemp("", "synth-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(parent) })
	require.NoError(t, os.Chmod(parent, 0o755))
	out := filepath.Join(parent, "cdktf.out")
	r := run(t, synthIn(t, out, nil, helperVersion+"=v1"))
	require.Equal(t, 0, r.code, r.stderr)
	withWorkingState(t, out)
	return out
}

func TestGuardrailFailureWritesNothing(t *testing.T) {
	// GIVEN a previous good synth in cdktf.out
	out := filepath.Join(t.TempDir(), "cdktf.out")
	require.NoError(t, os.MkdirAll(out, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(out, "previous"), nil, 0o644))

	// WHEN a stack without a backend is synthesized
	_, err := synthesize(out, nil, nil, func(app constructs.Construct) error {
		stack := cdktf.NewTerraformStack(app, jsii.String("dev-broken"))
		sp.AddGuardrails(stack)
		return nil
	})

	// THEN synth fails with the guardrail's message and the old output
	// survives, with no staging folder left behind
	require.Error(t, err)
	assert.Contains(t, err.Error(), "stack dev-broken has a local backend and would keep its state on this machine")
	assert.FileExists(t, filepath.Join(out, "previous"))
	assertNoLeftovers(t, out)
}

func TestSynthKeepsTerraformWorkingState(t *testing.T) {
	// GIVEN an output whose stacks were initialised by terraform, and a
	// stack folder the new synth no longer has
	out := goodOutput(t)
	require.NoError(t, os.MkdirAll(filepath.Join(out, "stacks", "dev-gone"), 0o755))

	// WHEN the app is synthesized again
	r := run(t, synthIn(t, out, nil, helperVersion+"=v2"))
	require.Equal(t, 0, r.code, r.stderr)

	// THEN the output is the new one, each stack keeps .terraform and its
	// lock (so the next diff does not unpack providers again), and nothing
	// else of the old output survives
	assert.Equal(t, "v2", versionOf(t, out))
	assertWorkingState(t, out)
	assert.NoDirExists(t, filepath.Join(out, "stacks", "dev-gone"))
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o755), st.Mode().Perm(), "readable like any build output, not 0700 from the temp folder")
	assertNoLeftovers(t, out)
}

// TestCrashAtAnyStepLeavesAWholeOutput kills the process between each pair
// of steps. Whatever the moment, cdktf.out is one whole run, old or new,
// and the next synth recovers the working state a dead run had moved.
func TestCrashAtAnyStepLeavesAWholeOutput(t *testing.T) {
	for step, want := range map[string]string{"staged": "v1", "carried": "v1", "swapped": "v2"} {
		t.Run(step, func(t *testing.T) {
			out := goodOutput(t)
			r := run(t, synthIn(t, out, nil, helperVersion+"=v2", helperCrashAt+"="+step))
			require.Equal(t, 3, r.code, "the helper died at %s: %s", step, r.stderr)
			assert.Equal(t, want, versionOf(t, out))

			r = run(t, synthIn(t, out, nil, helperVersion+"=v2"))
			require.Equal(t, 0, r.code, r.stderr)
			assert.Equal(t, "v2", versionOf(t, out))
			assertWorkingState(t, out)
			assertNoLeftovers(t, out)
		})
	}
}

// TestUnwritableOutputAsNonRoot runs synth as nobody (uid 65534) against an
// output owned by root: the permission error must come before anything is
// touched, with the fix, and the old output must stay byte for byte.
func TestUnwritableOutputAsNonRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED LOUDLY: switching to uid 65534 needs root; run as root (CI and `make test` here are)")
	}
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}

	t.Run("output folder not writable", func(t *testing.T) {
		out := goodOutput(t)
		require.NoError(t, os.Chmod(filepath.Dir(out), 0o777)) // nobody may create the staging folder beside it
		before := testtree.Snapshot(t, out)

		r := run(t, synthIn(t, out, nobody, helperVersion+"=v2"))

		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "error: "+out+" is not writable (permission denied): fix its permissions (chmod -R u+w "+out+") or run as its owner")
		assert.Equal(t, before, testtree.Snapshot(t, out), "the old output is untouched")
		assertNoLeftovers(t, out)
	})

	t.Run("only a stack folder is not writable", func(t *testing.T) {
		// The check must cover every folder a move touches, not only the top.
		out := goodOutput(t)
		require.NoError(t, os.Chmod(filepath.Dir(out), 0o777))
		require.NoError(t, filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				err = os.Chown(p, 65534, 65534)
			}
			return err
		}))
		require.NoError(t, os.Chown(filepath.Join(out, "stacks", "dev-cluster"), 0, 0))
		before := testtree.Snapshot(t, out)

		r := run(t, synthIn(t, out, nobody, helperVersion+"=v2"))

		assert.Equal(t, 1, r.code)
		stackDir := filepath.Join(out, "stacks", "dev-cluster")
		assert.Contains(t, r.stderr, "error: "+stackDir+" is not writable (permission denied)")
		assert.Equal(t, before, testtree.Snapshot(t, out))
		assertNoLeftovers(t, out)
	})

	t.Run("folder holding the output not writable", func(t *testing.T) {
		out := goodOutput(t)
		before := testtree.Snapshot(t, out)

		r := run(t, synthIn(t, out, nobody, helperVersion+"=v2"))
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "error: "+filepath.Dir(out)+" is not writable (permission denied): fix its permissions (chmod u+w "+filepath.Dir(out)+"; synth stages its output beside "+out+") or run as its owner")

		// without a lock file from an earlier run, the lock is what fails
		require.NoError(t, os.Remove(filepath.Join(filepath.Dir(out), ".cdktf.out.lock")))
		r = run(t, synthIn(t, out, nobody, helperVersion+"=v2"))
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "error: cannot lock "+out+" for synthesis (open "+filepath.Join(filepath.Dir(out), ".cdktf.out.lock")+": permission denied); make the folder that holds it writable")
		assert.Equal(t, before, testtree.Snapshot(t, out))
	})
}

func TestConcurrentSynthsAreSerialized(t *testing.T) {
	t.Run("a second run waits for the lock", func(t *testing.T) {
		out := goodOutput(t)
		lock, err := os.OpenFile(filepath.Join(filepath.Dir(out), ".cdktf.out.lock"), os.O_RDWR, 0)
		require.NoError(t, err)
		defer lock.Close()
		require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX))

		cmd := synthIn(t, out, nil, helperVersion+"=v2")
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()

		// While another holder has the lock, the run waits and says so, and
		// the output is still the old one.
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(e.String(), "waiting for another synth") && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		assert.Contains(t, e.String(), "waiting for another synth of "+out+" to finish")
		select {
		case err := <-done:
			t.Fatalf("the run finished while the lock was held: %v", err)
		case <-time.After(2 * time.Second):
		}
		assert.Equal(t, "v1", versionOf(t, out))

		require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_UN))
		require.NoError(t, <-done, e.String())
		assert.Equal(t, "v2", versionOf(t, out))
		assertWorkingState(t, out)
	})

	t.Run("three at once all succeed", func(t *testing.T) {
		out := goodOutput(t)
		var wg sync.WaitGroup
		results := make([]result, 3)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = run(t, synthIn(t, out, nil, helperVersion+"=v2"))
			}()
		}
		wg.Wait()
		var codes []int
		for _, r := range results {
			codes = append(codes, r.code)
			assert.NotContains(t, r.stderr, "directory not empty")
		}
		sort.Ints(codes)
		assert.Equal(t, []int{0, 0, 0}, codes)
		assert.Equal(t, "v2", versionOf(t, out))
		assertWorkingState(t, out)
		assertNoLeftovers(t, out)
	})
}
