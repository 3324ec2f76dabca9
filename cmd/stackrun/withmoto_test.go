package main

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/faultnet"
)

// TestMain lets the test binary stand in for stackrun: with
// STACKRUN_TEST_MAIN=1 it runs main() with the arguments after "--stackrun".
func TestMain(m *testing.M) {
	faultnet.ChildMain("STACKRUN_TEST_MAIN", "--stackrun", "stackrun", main)
	os.Exit(m.Run())
}

// stackrun starts this test binary as stackrun with args.
func stackrun(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *bufio.Reader) {
	t.Helper()
	cmd := faultnet.Child("STACKRUN_TEST_MAIN", "--stackrun", nil, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, &stderr, bufio.NewReader(out)
}

// alive reports whether a process with this pid still exists (and is not
// a zombie waiting for its parent).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat))
	return len(fields) > 2 && fields[2] != "Z"
}

func waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never written", path)
	return ""
}

// GIVEN `stackrun with-moto -- <a shell that starts a sleeping child>` WHEN
// with-moto gets SIGTERM or SIGINT THEN it exits 143 or 130 within a few
// seconds, the command and its child are gone, and moto_server no longer
// answers. A command that ignores the signal is killed after -grace.
func TestWithMotoStopsEverythingOnSignal(t *testing.T) {
	for _, c := range []struct {
		name   string
		sig    syscall.Signal
		flags  []string
		script string
		want   int
	}{
		{"SIGTERM", syscall.SIGTERM, nil, `sleep 300 & echo $! > "$D/child"; echo $$ > "$D/cmd"; wait`, 143},
		{"SIGINT", syscall.SIGINT, nil, `sleep 300 & echo $! > "$D/child"; echo $$ > "$D/cmd"; wait`, 130},
		{"SIGTERM ignored", syscall.SIGTERM, []string{"-grace", "500ms"},
			`trap '' TERM; sleep 300 & echo $! > "$D/child"; echo $$ > "$D/cmd"; while :; do sleep 1; done`, 143},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("D", dir)
			args := append(append([]string{"with-moto"}, c.flags...), "--", "sh", "-c", c.script)
			cmd, stderr, out := stackrun(t, args...)
			line, err := out.ReadString('\n')
			require.NoError(t, err, stderr.String())
			url := strings.Fields(line)[1]
			require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), line)
			cmdPid, _ := strconv.Atoi(waitFile(t, filepath.Join(dir, "cmd")))
			childPid, _ := strconv.Atoi(waitFile(t, filepath.Join(dir, "child")))
			require.True(t, alive(childPid))
			t.Cleanup(func() { _ = syscall.Kill(childPid, syscall.SIGKILL); _ = syscall.Kill(cmdPid, syscall.SIGKILL) })

			start := time.Now()
			require.NoError(t, cmd.Process.Signal(c.sig))
			faultnet.Wait(t, cmd, 10*time.Second)
			took := time.Since(start)
			assert.Equal(t, c.want, cmd.ProcessState.ExitCode(), stderr.String())
			assert.Less(t, took, 5*time.Second, "with-moto must stop promptly")
			assert.Contains(t, stderr.String(), "interrupted by")
			assert.False(t, alive(cmdPid), "the command must not outlive with-moto")
			assert.False(t, alive(childPid), "nor its children")
			client := &http.Client{Timeout: time.Second}
			if resp, err := client.Get(url + "/moto-api/"); err == nil {
				resp.Body.Close()
				t.Errorf("moto_server at %s still answers after with-moto exited", url)
			}
		})
	}
}

// GIVEN a command that exits 3 THEN with-moto exits 3 and the server is
// stopped; GIVEN no command THEN it is bad usage (2).
func TestWithMotoPassesTheExitStatus(t *testing.T) {
	cmd, stderr, out := stackrun(t, "with-moto", "--", "sh", "-c", "exit 3")
	line, _ := out.ReadString('\n')
	err := cmd.Wait()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), stderr.String())
	assert.Equal(t, 3, ee.ExitCode())
	if f := strings.Fields(line); len(f) > 1 {
		if resp, err := (&http.Client{Timeout: time.Second}).Get(f[1] + "/moto-api/"); err == nil {
			resp.Body.Close()
			t.Errorf("moto_server still answers")
		}
	}

	cmd, _, _ = stackrun(t, "with-moto")
	err = cmd.Wait()
	require.True(t, errors.As(err, &ee))
	assert.Equal(t, 2, ee.ExitCode())
}
