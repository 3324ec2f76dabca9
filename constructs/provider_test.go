package constructs

import (
	"testing"

	"github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// GIVEN a stack with an AWS provider WHEN synthesized THEN required_providers
// carries a range: the CI image mirrors 5.100.0 while the bindings were made
// for 5.99.1, and an exact pin made `terraform init` fail offline.
func TestAwsProviderAcceptsThe5xLine(t *testing.T) {
	stack := newTestStack(t) // creates its AWS provider through NewAwsProvider
	got := synth(t, stack).Get("terraform.required_providers.aws.version").String()
	require.Equal(t, AwsProviderConstraint, got)

	c, err := semver.NewConstraint(got)
	require.NoError(t, err, "Terraform and semver share this constraint syntax")
	for version, ok := range map[string]bool{
		"5.99.1":  true,  // what the bindings were generated from
		"5.100.0": true,  // the offline mirror on the CI image
		"5.99.0":  false, // may lack arguments the bindings set
		"6.0.0":   false, // renames and removes arguments
	} {
		assert.Equal(t, ok, c.Check(semver.MustParse(version)), "aws %s", version)
	}
}
