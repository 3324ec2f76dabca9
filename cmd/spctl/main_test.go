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
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
	"github.com/spatialprops/spatialprops-infra/internal/ops/opstest"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

func spctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// GIVEN each command WHEN --help THEN it exits 0 and shows a real example.
func TestHelpForEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"verify"}, {"teardown"}, {"edge", "rollback"}, {"cost"},
		{"restore", "objects"}, {"restore", "table"}, {"restore", "state"}} {
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
		"prod needs --break-glass": {"restore", "objects", "--env", "prod", "--bucket", "packs", "--key", "k", "--to", "2026-01-01T00:00:00Z", "--confirm", "prod"},
		"--confirm dev":            {"restore", "table", "--env", "dev", "--table", "beacons", "--to", "2026-01-01T00:00:00Z"},
		"--to is required":         {"restore", "objects", "--env", "dev", "--bucket", "packs", "--key", "k", "--dry-run"},
		"give a time as RFC 3339":  {"restore", "objects", "--env", "dev", "--bucket", "packs", "--key", "k", "--to", "yesterday", "--dry-run"},
		"restore works on packs":   {"restore", "objects", "--env", "dev", "--bucket", "pki", "--key", "k", "--to", "2026-01-01T00:00:00Z", "--dry-run"},
		"not both":                 {"restore", "objects", "--env", "dev", "--bucket", "packs", "--key", "k", "--prefix", "p", "--to", "2026-01-01T00:00:00Z"},
		`--table "ledger"`:         {"restore", "table", "--env", "dev", "--table", "ledger", "--to", "2026-01-01T00:00:00Z", "--dry-run"},
		`--stack "prod-network"`:   {"restore", "state", "--env", "dev", "--stack", "prod-network", "--dry-run"},
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

// GIVEN an env with nothing deployed (moto, no kubeconfig) WHEN verify
// THEN exit 1, every check listed with ❌ and a fix, and --json parses.
func TestVerifyAgainstEmptyAccountFails(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", motoserver.Endpoint(t))
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("ORG", motoserver.UniqueName("t"))
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	code, out, _ := spctl(t, "verify", "--env", "dev", "--json")
	assert.Equal(t, 1, code)
	var rep struct {
		Passed, Failed int
		Results        []struct {
			ID  string `json:"id"`
			OK  bool   `json:"ok"`
			Fix string `json:"fix"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Zero(t, rep.Passed)
	assert.Greater(t, rep.Failed, 30)
	for _, r := range rep.Results {
		assert.NotEmpty(t, r.Fix, r.ID)
	}
	code, out, _ = spctl(t, "verify", "--env", "dev")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "❌ EKS cluster active")
	assert.Contains(t, out, "fix: ")
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
}
