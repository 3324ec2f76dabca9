package awscatalog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// GIVEN the pinned files WHEN they are parsed THEN they say what AWS says
// about the places the shipped envs use, and keep their provenance.
func TestPinnedCatalogue(t *testing.T) {
	c := Default()
	p, ok := c.Partition("ap-southeast-2")
	assert.True(t, ok)
	assert.Equal(t, "aws", p)
	_, ok = c.Partition("ap-southeast-9")
	assert.False(t, ok, "not a region")
	_, ok = c.Partition("aws-global")
	assert.False(t, ok, "an endpoint, not a place")
	p, _ = c.Partition("us-gov-west-1")
	assert.Equal(t, "aws-us-gov", p)

	z, ok := c.Zones("ap-southeast-2")
	assert.True(t, ok)
	assert.Equal(t, "abc", z)
	z, _ = c.Zones("us-east-1")
	assert.Equal(t, "abcdef", z)
	_, ok = c.Zones("us-gov-west-1")
	assert.False(t, ok, "a region without zone data is not guessed")

	assert.Equal(t, "abc", c.OfferedIn("ap-southeast-2", "m6i.large"))
	assert.True(t, c.IsInstanceType("m6i.large"))
	assert.False(t, c.IsInstanceType("m6i.lrage"))
	assert.Contains(t, c.RegionsSource, "github.com/aws/aws-sdk-go-v2 v")
	assert.Contains(t, c.EC2Source, "DescribeInstanceTypeOfferings")
}

func TestParseRefusesABrokenLine(t *testing.T) {
	_, err := Parse("aws ap-southeast-2\n", "ap-southeast-2\tm6i.large\n")
	require.EqualError(t, err, `ec2.tsv:1: want "<region>\t<type or zones>\t<zone letters>", got "ap-southeast-2\tm6i.large"`)
}

func TestArchitectures(t *testing.T) {
	c := Default()
	assert.Equal(t, []string{"x86_64"}, c.Architectures("m6i.large"))
	assert.Equal(t, []string{"arm64"}, c.Architectures("m7g.large"))
}
