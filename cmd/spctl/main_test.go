package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/faultnet"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/internal/ops/opstest"
)

// TestMain runs the tests from the repository root, where spctl is run:
// envs/ is found as a user's spctl finds it. With SPCTL_TEST_MAIN=1 the
// test binary is spctl itself (subprocess tests send it real signals); it
// inherits the parent's working directory, the repository root.
func TestMain(m *testing.M) {
	faultnet.ChildMain("SPCTL_TEST_MAIN", "--spctl", "spctl", main)
	if err := os.Chdir("../.."); err != nil {
		panic(err)
	}
	os.Exit(motoserver.Run(m))
}

func spctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// GIVEN each command WHEN --help THEN it exits 0 and shows a real example
// and the exit statuses; every command a machine reads has --json.
func TestHelpForEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"verify"}, {"teardown"}, {"edge", "rollback"}, {"cost"},
		{"restore", "objects"}, {"restore", "table"}, {"restore", "state"}, {"pki", "ceremony"}} {
		code, out, _ := spctl(t, append(args, "--help")...)
		assert.Equal(t, 0, code, args)
		assert.Contains(t, out, "spctl "+strings.Join(args, " "), args)
		assert.Contains(t, out, "--env", args)
		assert.Contains(t, out, "--json", args)
		assert.Regexp(t, `Exit status:\n  0 +\S`, out, args)
		assert.Regexp(t, `\n  2 +bad usage`, out, args)
		assert.Regexp(t, `\n  130`, out, args)
	}
}

// GIVEN --version WHEN run THEN it prints the build it is and exits 0.
func TestVersion(t *testing.T) {
	code, out, _ := spctl(t, "--version")
	assert.Equal(t, 0, code)
	assert.Regexp(t, `^spctl \S+ \(`, out)
}

// Exit code 2 is bad usage, with the flag's name and a pointer to the
// command's own help: a missing --env, an unknown env, an unknown flag.
func TestBadUsageExitsTwo(t *testing.T) {
	cases := map[string][]string{
		"error: --env is required: one of dev, prod, staging\nRun 'spctl cost --help'":                                  {"cost"},
		"error: --env qa: unknown environment; use one of dev, prod, staging (files in envs/)\nRun 'spctl cost --help'": {"cost", "--env", "qa"},
		"error: unknown flag: --bogus\nRun 'spctl verify --help' for the flags and an example.":                         {"verify", "--env", "dev", "--bogus"},
		"error: --cohort needs --ca-arn":               {"edge", "rollback", "--env", "dev", "--cohort", "x"},
		`invalid argument "soon" for "--timeout" flag`: {"teardown", "--env", "dev", "--timeout", "soon"},
		"prod needs --break-glass":                     {"restore", "objects", "--env", "prod", "--bucket", "packs", "--key", "k", "--to", "2026-01-01T00:00:00Z", "--confirm", "prod"},
		"--confirm dev":                                {"restore", "table", "--env", "dev", "--table", "beacons", "--to", "2026-01-01T00:00:00Z"},
		"--to is required":                             {"restore", "objects", "--env", "dev", "--bucket", "packs", "--key", "k", "--dry-run"},
		"give a time as RFC 3339":                      {"restore", "objects", "--env", "dev", "--bucket", "packs", "--key", "k", "--to", "yesterday", "--dry-run"},
		"restore works on packs":                       {"restore", "objects", "--env", "dev", "--bucket", "pki", "--key", "k", "--to", "2026-01-01T00:00:00Z", "--dry-run"},
		"not both":                                     {"restore", "objects", "--env", "dev", "--bucket", "packs", "--key", "k", "--prefix", "p", "--to", "2026-01-01T00:00:00Z"},
		`--table "ledger"`:                             {"restore", "table", "--env", "dev", "--table", "ledger", "--to", "2026-01-01T00:00:00Z", "--dry-run"},
		`--stack "prod-network"`:                       {"restore", "state", "--env", "dev", "--stack", "prod-network", "--dry-run"},
	}
	for want, args := range cases {
		code, _, stderr := spctl(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, want, args)
		assert.NotContains(t, stderr, "ENV:", "the flag is named, not the variable")
	}
}

// A refusal (exit 2) says why and what to run instead; it does not send the
// user to --help. Every destructive command needs the env typed back in
// every env, and prod also needs --break-glass; --dry-run needs neither.
func TestDestructiveCommandsNeedConfirmation(t *testing.T) {
	out := t.TempDir()
	refused := map[string][]string{
		"tearing down dev needs its name typed back: spctl teardown --env dev --confirm dev":                  {"teardown", "--env", "dev", "--outdir", out},
		"tearing down staging needs its name typed back: spctl teardown --env staging --confirm staging":      {"teardown", "--env", "staging", "--confirm", "dev", "--outdir", out},
		"tearing down prod is refused: prod changes go through review and deploy":                             {"teardown", "--env", "prod", "--confirm", "prod", "--outdir", out},
		"rolling the edge back in dev needs its name typed back: spctl edge rollback --env dev --confirm dev": {"edge", "rollback", "--env", "dev"},
		"rolling the edge back in prod is refused":                                                            {"edge", "rollback", "--env", "prod", "--confirm", "prod"},
	}
	for want, args := range refused {
		code, stdout, stderr := spctl(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.Contains(t, stderr, "error: "+want, args)
		assert.NotContains(t, stderr, "--help", "a refusal says what to run instead")
		assert.Empty(t, stdout, "nothing was done")
	}
	// prod with --break-glass passes the confirmation rule (and then needs
	// credentials it does not have here, so nothing happens).
	code, _, stderr := spctl(t, "edge", "rollback", "--env", "prod", "--confirm", "prod", "--break-glass", "--dry-run")
	assert.Equal(t, 0, code, stderr)
	code, _, stderr = spctl(t, "edge", "rollback", "--env", "prod", "--dry-run")
	assert.Equal(t, 0, code, "a dry run changes nothing and needs no confirmation: %s", stderr)
}

// synthesized writes what `ENV=<env> make synth` leaves for spctl: the
// record of the configuration (from the env files on disk, with the
// session's overrides) and the stacks given, each deploying to region.
func synthesized(t *testing.T, env, region string, stacks map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	cfg, err := envs.LoadFrom(envs.DirFS("envs"), env, envs.OverridesFromEnv(os.Getenv))
	require.NoError(t, err)
	record, err := envs.Record(cfg)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, envs.RecordDir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, envs.RecordDir, env+".json"), record, 0o644))
	for id, resources := range stacks {
		p := filepath.Join(dir, "stacks", id)
		require.NoError(t, os.MkdirAll(p, 0o755))
		doc := `{"provider":{"aws":[{"region":"` + region + `"}]},"resource":` + resources + `}`
		require.NoError(t, os.WriteFile(filepath.Join(p, "cdk.tf.json"), []byte(doc), 0o644))
	}
	return dir
}

// GIVEN no cdktf.out WHEN cost THEN exit 1 telling the user to run make
// synth; GIVEN a synthesized stack THEN a table and a total, or JSON.
func TestCostCommand(t *testing.T) {
	code, _, stderr := spctl(t, "cost", "--env", "dev", "--outdir", t.TempDir())
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "has no stacks of dev: run `ENV=dev make synth` first")

	dir := synthesized(t, "dev", "ap-southeast-2", map[string]string{"dev-cluster": `{"aws_eks_cluster":{"c":{}},"aws_mystery":{"m":{}}}`})
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
		Region   string   `json:"region"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &est))
	assert.InDelta(t, 73.0, est.Total, 0.001)
	assert.Equal(t, []string{"aws_mystery"}, est.Unpriced)
	assert.Equal(t, "ap-southeast-2", est.Region)
}

// GIVEN a node type the price table lacks WHEN cost THEN exit 1 naming it:
// a type EC2 does not have is "probably wrong", with the nearest real one;
// a real type asks for its price. The total is not presented as complete.
func TestCostFailsOnAnUnknownNodeType(t *testing.T) {
	for typ, want := range map[string]string{
		"m6i.lrage":  `node type "m6i.lrage" (cluster.nodeGroup.instanceTypes in envs/dev.yaml) is probably wrong: EC2 has no such instance type; did you mean m6i.large?`,
		"c6i.xlarge": `node type "c6i.xlarge" (cluster.nodeGroup.instanceTypes in envs/dev.yaml) is an EC2 instance type without a price in internal/ops/cost/prices.go: add its ap-southeast-2 on-demand price`,
	} {
		dir := synthesized(t, "dev", "ap-southeast-2", map[string]string{"dev-cluster": `{"aws_eks_node_group":{"n":{"instance_types":["` + typ + `"],"scaling_config":{"desired_size":3}}}}`})
		code, _, stderr := spctl(t, "cost", "--env", "dev", "--outdir", dir, "--summary")
		assert.Equal(t, 1, code, typ)
		assert.Contains(t, stderr, want)
	}
}

// GIVEN stacks synthesized for us-east-1 WHEN cost THEN exit 1: the table
// prices ap-southeast-2 only, and says so instead of pricing it as Sydney.
func TestCostRefusesARegionItDoesNotPrice(t *testing.T) {
	t.Setenv("AWS_REGION", "us-east-1")
	dir := synthesized(t, "dev", "us-east-1", map[string]string{"dev-cluster": `{"aws_eks_cluster":{"c":{}}}`})
	code, stdout, stderr := spctl(t, "cost", "--env", "dev", "--outdir", dir)
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "the dev stacks were synthesized for us-east-1, but the pinned price table (internal/ops/cost/prices.go) has ap-southeast-2 prices only")
}

// spctl reads the env files and cdktf.out at run time. GIVEN an env file
// changed after the last synth WHEN teardown --dry-run THEN it refuses,
// naming what changed; after the synth, the plan uses the file's new names.
func TestTeardownNeverPlansStaleNames(t *testing.T) {
	conf := t.TempDir()
	for _, env := range []string{"dev", "staging", "prod"} {
		raw, err := os.ReadFile(filepath.Join("envs", env+".yaml"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(conf, env+".yaml"), raw, 0o644))
	}
	out := synthesized(t, "dev", "ap-southeast-2", map[string]string{"dev-network": `{}`})

	// The file changes after the synth: org spatialprops -> acme.
	raw, err := os.ReadFile(filepath.Join(conf, "dev.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(conf, "dev.yaml"), []byte(strings.Replace(string(raw), "org: spatialprops", "org: acme", 1)), 0o644))

	code, stdout, stderr := spctl(t, "teardown", "--env", "dev", "--dry-run", "--config-dir", conf, "--outdir", out, "--progress-dir", t.TempDir())
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout, "no plan from stale names")
	assert.Contains(t, stderr, "was synthesized from another configuration than "+conf+"/dev.yaml (and ORG/AWS_REGION) gives now:\n  org: \"spatialprops\" -> \"acme\"")
	assert.Contains(t, stderr, "Run `ENV=dev make synth`, then this command again")

	// make synth of the changed file: the plan names acme's buckets.
	cfg, err := envs.LoadFrom(envs.DirFS(conf), "dev", envs.Overrides{})
	require.NoError(t, err)
	record, err := envs.Record(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(out, envs.RecordDir, "dev.json"), record, 0o644))
	code, stdout, stderr = spctl(t, "teardown", "--env", "dev", "--dry-run", "--config-dir", conf, "--outdir", out, "--progress-dir", t.TempDir())
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "empty bucket spatial-packs-acme-dev-ap-southeast-2")
	assert.NotContains(t, stdout, "spatialprops-dev")
}

// GIVEN spctl run where there are no env files WHEN any command THEN it
// refuses to guess from a built-in copy and says where to run it.
func TestNoEnvFilesIsARefusal(t *testing.T) {
	code, _, stderr := spctl(t, "teardown", "--env", "dev", "--dry-run", "--config-dir", t.TempDir())
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "no env files in ")
	assert.Contains(t, stderr, "run spctl from the repository root")
}

// GIVEN dev WHEN teardown --dry-run THEN the steps are listed in order and
// nothing needs credentials; --json gives the same steps to a machine.
func TestTeardownDryRun(t *testing.T) {
	outdir := t.TempDir()
	code, out, stderr := spctl(t, "teardown", "--env", "dev", "--dry-run", "--progress-dir", t.TempDir(), "--outdir", outdir)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "helm uninstall observability/kube-prometheus-stack (dry run: nothing done)")
	assert.Less(t, strings.Index(out, "cdktf destroy dev-edge"), strings.Index(out, "cdktf destroy dev-network"))
	assert.NotContains(t, out, "dev-state")

	code, out, stderr = spctl(t, "teardown", "--env", "dev", "--dry-run", "--json", "--progress-dir", t.TempDir(), "--outdir", outdir)
	require.Equal(t, 0, code, stderr)
	var rep struct {
		Env    string `json:"env"`
		DryRun bool   `json:"dryRun"`
		Steps  []struct {
			Name string `json:"name"`
			Done bool   `json:"done"`
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, "dev", rep.Env)
	assert.True(t, rep.DryRun)
	assert.Equal(t, "cdktf destroy dev-network", rep.Steps[len(rep.Steps)-1].Name)
	assert.Contains(t, stderr, "(dry run: nothing done)", "progress goes to stderr")
}

// GIVEN edge rollback --dry-run --json THEN the four steps as JSON.
func TestRollbackDryRunJSON(t *testing.T) {
	code, out, stderr := spctl(t, "edge", "rollback", "--env", "staging", "--dry-run", "--json")
	require.Equal(t, 0, code, stderr)
	var rep struct {
		Env   string   `json:"env"`
		Steps []string `json:"steps"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.Equal(t, "staging", rep.Env)
	assert.Len(t, rep.Steps, 4)
}

// GIVEN a dev packs bucket (moto) whose pack file was overwritten WHEN
// spctl restore objects runs with the env typed back THEN exit 0 and the
// file is as it was; the same with --dry-run changes nothing.
func TestRestoreObjectsCommand(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", motoserver.Endpoint(t))
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	org := motoserver.UniqueName("t")
	t.Setenv("ORG", org)
	ctx := context.Background()
	c := s3.NewFromConfig(opstest.AWS(t, motoserver.Region), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := naming.New(org, "dev", motoserver.Region).DataBucket("packs")
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket, CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: motoserver.Region}})
	require.NoError(t, err)
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	key := "published/open/parcels/3/parcels.pmtiles"
	write := func(body string) {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)})
		require.NoError(t, err)
	}
	read := func() string {
		o, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		require.NoError(t, err)
		defer o.Body.Close()
		b, _ := io.ReadAll(o.Body)
		return string(b)
	}
	write("good tiles")
	time.Sleep(1100 * time.Millisecond)
	at := time.Now().UTC().Format(time.RFC3339)
	time.Sleep(1100 * time.Millisecond)
	write("bad tiles")

	code, out, stderr := spctl(t, "restore", "objects", "--env", "dev", "--bucket", "packs", "--prefix", "published/open/parcels/", "--to", at, "--dry-run")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "1 to restore")
	assert.Equal(t, "bad tiles", read(), "a dry run changes nothing")
	code, out, stderr = spctl(t, "restore", "objects", "--env", "dev", "--bucket", "packs", "--prefix", "published/open/parcels/", "--to", at, "--confirm", "dev")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "restored 1 object(s)")
	assert.Equal(t, "good tiles", read())

	// --json: the plan and the result on stdout for a machine, progress on
	// stderr; a second run has nothing left to restore.
	code, out, stderr = spctl(t, "restore", "objects", "--env", "dev", "--bucket", "packs", "--prefix", "published/open/parcels/", "--to", at, "--confirm", "dev", "--json")
	require.Equal(t, 0, code, stderr)
	var res struct {
		Plan struct {
			Bucket    string
			Restore   []struct{ Key string }
			Unchanged int
		}
		Restored int
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	assert.Equal(t, bucket, res.Plan.Bucket)
	assert.Empty(t, res.Plan.Restore, "restored already: a rerun changes nothing")
	assert.Equal(t, 1, res.Plan.Unchanged)
	assert.Zero(t, res.Restored)
}
