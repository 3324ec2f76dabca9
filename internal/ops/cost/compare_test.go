package cost

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// GIVEN a base with a NAT gateway stack and a removed stack, and a head
// that drops the NAT and adds a stack THEN each stack shows its move and
// the lines that caused it; unchanged stacks read 0.00.
func TestCompareShowsEachStackAndLine(t *testing.T) {
	base, err := Compute("dev", map[string][]byte{
		"dev-network": []byte(sydney + `"resource":{"aws_nat_gateway":{"a":{},"b":{}},"aws_kms_key":{"k":{}}}}`),
		"dev-state":   []byte(sydney + `"resource":{"aws_kms_key":{"s":{}}}}`),
		"dev-old":     []byte(sydney + `"resource":{"aws_kms_key":{"o":{}}}}`),
	}, []string{"dev-state", "dev-network", "dev-old"})
	require.NoError(t, err)
	head, err := Compute("dev", map[string][]byte{
		"dev-network": []byte(sydney + `"resource":{"aws_nat_gateway":{"a":{}},"aws_kms_key":{"k":{}}}}`),
		"dev-state":   []byte(sydney + `"resource":{"aws_kms_key":{"s":{}}}}`),
		"dev-new":     []byte(sydney + `"resource":{"aws_route53_zone":{"z":{}}}}`),
	}, []string{"dev-state", "dev-network", "dev-new"})
	require.NoError(t, err)

	c := Compare(base, head, "main", "pr")
	nat := NATGateway.USD * HoursPerMonth
	require.Equal(t, []string{"dev-state", "dev-network", "dev-new", "dev-old"}, ids(c))
	assert.Zero(t, c.Stacks[0].Delta())
	assert.InDelta(t, -nat, c.Stacks[1].Delta(), 1e-9)
	assert.Equal(t, []Change{{Resource: "aws_nat_gateway.b", Before: nat}}, c.Stacks[1].Changes)
	assert.InDelta(t, 0.5, c.Stacks[2].Delta(), 1e-9)
	assert.InDelta(t, -1, c.Stacks[3].Delta(), 1e-9)
	assert.InDelta(t, -nat+0.5-1, c.After-c.Before, 1e-9)

	var txt, md bytes.Buffer
	c.WriteText(&txt)
	c.WriteMarkdown(&md)
	assert.Contains(t, txt.String(), "Monthly fixed cost of dev: main -> pr (USD)")
	assert.Regexp(t, `dev-state\s+1\.00\s+1\.00\s+0\.00`, txt.String())
	assert.Regexp(t, `aws_nat_gateway\.b\s+43\.07\s+0\.00\s+-43\.07`, txt.String())
	assert.Contains(t, md.String(), "| dev-network | 87.14 | 44.07 | -43.07 |")
	assert.Contains(t, md.String(), "| &nbsp;&nbsp;`aws_nat_gateway.b` | 43.07 | 0.00 | -43.07 |")
	assert.NotContains(t, md.String(), "dev-state", "an unchanged stack is left out of the PR comment")
}

func ids(c *Comparison) []string {
	var out []string
	for _, s := range c.Stacks {
		out = append(out, s.ID)
	}
	return out
}

// gitRepo makes a repository with two commits whose "synth" differs: one
// NAT gateway at first, two after.
func gitRepo(t *testing.T) (dir, first string) {
	t.Helper()
	dir = t.TempDir()
	run := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return strings.TrimSpace(string(out))
	}
	run("init", "-q")
	for _, f := range []string{"package.json", "package-lock.json"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nats"), []byte("a"), 0o644))
	run("add", ".")
	run("commit", "-qm", "one")
	first = run("rev-parse", "HEAD")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nats"), []byte("ab"), 0o644))
	run("commit", "-qam", "two")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "node_modules"), 0o755))
	return dir, first
}

// fakeSynth writes one stack with a NAT gateway per letter of ./nats.
func fakeSynth(ctx context.Context, dir, env string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "nats"))
	if err != nil {
		return err
	}
	nats := []string{}
	for _, c := range string(raw) {
		nats = append(nats, `"`+string(c)+`":{}`)
	}
	p := filepath.Join(dir, "cdktf.out", "stacks", env+"-network")
	if err := os.MkdirAll(p, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(p, "cdk.tf.json"), []byte(sydney+`"resource":{"aws_nat_gateway":{`+strings.Join(nats, ",")+`}}}`), 0o644)
}

// GIVEN a repository WHEN a ref is synthesized for comparison THEN it is
// checked out in a temporary worktree (the checkout itself is untouched),
// the checkout's node_modules is reused when the npm pins match, and the
// cleanup leaves no worktree behind.
func TestSynthRefUsesATemporaryWorktree(t *testing.T) {
	repo, first := gitRepo(t)
	var sawModules bool
	synth := func(ctx context.Context, dir, env string) error {
		fi, err := os.Lstat(filepath.Join(dir, "node_modules"))
		_, errTarget := os.Stat(filepath.Join(dir, "node_modules", "."))
		sawModules = err == nil && fi.Mode()&os.ModeSymlink != 0 && errTarget == nil
		return fakeSynth(ctx, dir, env)
	}
	// From inside the checkout, as spctl runs it (a relative repo path).
	t.Chdir(repo)
	out, cleanup, err := SynthRef(context.Background(), ".", first, "dev", synth)
	require.NoError(t, err)
	assert.True(t, sawModules, "node_modules is linked, not installed again")
	require.NoError(t, fakeSynth(context.Background(), repo, "dev"))
	c, err := CompareDirs(out, filepath.Join(repo, "cdktf.out"), "dev", first[:7], "HEAD")
	require.NoError(t, err)
	assert.InDelta(t, NATGateway.USD*HoursPerMonth, c.After-c.Before, 1e-9, "HEAD has one more NAT gateway")

	cleanup()
	_, err = os.Stat(out)
	assert.True(t, os.IsNotExist(err), "the worktree is removed")
	list, err := exec.Command("git", "-C", repo, "worktree", "list").Output()
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(string(list), "\n"), "only the main worktree stays registered")

	_, cleanup, err = SynthRef(context.Background(), repo, "no-such-branch", "dev", synth)
	cleanup()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `--compare "no-such-branch": not a commit in`)
	_, cleanup, err = SynthRef(context.Background(), repo, "--upload-pack=x", "dev", synth)
	cleanup()
	require.EqualError(t, err, `--compare "--upload-pack=x": a git ref cannot start with '-'`)
}

func TestCompareDirsNeedsTheEnvOnOneSide(t *testing.T) {
	_, err := CompareDirs(t.TempDir(), t.TempDir(), "dev", "a", "b")
	require.ErrorIs(t, err, ErrNoStacks)
}
