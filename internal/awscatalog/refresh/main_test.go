package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/awscatalog"
	"github.com/spatialprops/spatialprops-infra/internal/motoserver"
)

func TestMain(m *testing.M) { os.Exit(motoserver.Run(m)) }

// GIVEN an EC2 API (moto_server) WHEN the refresh runs for two regions
// THEN it writes files the catalogue parses, with the zones and offerings
// EC2 answered, and regions from the pinned SDK's partition metadata.
func TestRefreshWritesWhatEC2Answers(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", motoserver.Endpoint(t))
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	out := t.TempDir()
	var log bytes.Buffer
	// go list runs in the module root, as the documented command does.
	wd, err := os.Getwd()
	require.NoError(t, err)
	require.NoError(t, os.Chdir(filepath.Join(wd, "..", "..", "..")))
	t.Cleanup(func() { _ = os.Chdir(wd) })

	require.NoError(t, run(context.Background(), out, "", "ap-southeast-2,us-west-1,sa-west-1", "test", &log))

	regions, err := os.ReadFile(filepath.Join(out, "regions.txt"))
	require.NoError(t, err)
	ec2, err := os.ReadFile(filepath.Join(out, "ec2.tsv"))
	require.NoError(t, err)
	c, err := awscatalog.Parse(string(regions), string(ec2))
	require.NoError(t, err)
	z, ok := c.Zones("ap-southeast-2")
	assert.True(t, ok)
	assert.Equal(t, "abc", z)
	assert.Equal(t, "abc", c.OfferedIn("ap-southeast-2", "m6i.large"))
	_, ok = c.Zones("sa-west-1")
	assert.False(t, ok, "a region EC2 did not answer for is left out, not guessed")
	assert.Contains(t, log.String(), "sa-west-1: left out of ec2.tsv")
	assert.Equal(t, awscatalog.Default().Regions(), c.Regions(), "regions come from the SDK go.mod pins, as the committed file does")
	assert.Equal(t, []string{"x86_64"}, c.Architectures("m6i.large"))
}
