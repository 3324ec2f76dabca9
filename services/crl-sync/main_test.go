package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/services/crl-sync/crlsync"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const (
	caArn         = "arn:aws:acm-pca:ap-southeast-2:111122223333:certificate-authority/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
	trustStoreArn = "arn:aws:elasticloadbalancing:ap-southeast-2:111122223333:truststore/spatialprops-dev-devices/0123456789abcdef"
)

func goodEnv() map[string]string {
	return map[string]string{
		"PKI_BUCKET": "spatial-pki-spatialprops-dev-ap-southeast-2", "CA_ARN": caArn,
		"TRUST_STORE_ARN": trustStoreArn, "AWS_REGION": "ap-southeast-2",
	}
}

// GIVEN the CronJob's environment WHEN parsed THEN every setting lands, and
// flags win over the environment.
func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	c, err := parseConfig([]string{"--dry-run", "--kms-key", "alias/spatialprops-dev-pki"}, envOf(goodEnv()), &strings.Builder{})
	require.NoError(t, err)
	assert.Equal(t, Config{
		Bucket: "spatial-pki-spatialprops-dev-ap-southeast-2", CAArn: caArn, TrustStoreArn: trustStoreArn,
		Region: "ap-southeast-2", KMSKey: "alias/spatialprops-dev-pki", Timeout: DefaultTimeout, CallTimeout: crlsync.DefaultCallTimeout, DryRun: true,
	}, c)
	c, err = parseConfig([]string{"--bucket", "other", "--timeout", "30s"}, envOf(goodEnv()), &strings.Builder{})
	require.NoError(t, err)
	assert.Equal(t, "other", c.Bucket)
	assert.Equal(t, 30*time.Second, c.Timeout)
	assert.False(t, c.DryRun, "writes unless asked not to")
}

// GIVEN a missing or bad setting WHEN parsed THEN the one-line error names
// the variable an operator has to set.
func TestConfigErrorsNameTheVariable(t *testing.T) {
	for want, mut := range map[string]func(map[string]string){
		"PKI_BUCKET":                 func(m map[string]string) { delete(m, "PKI_BUCKET") },
		"CA_ARN (or":                 func(m map[string]string) { delete(m, "CA_ARN") },
		"TRUST_STORE_ARN":            func(m map[string]string) { delete(m, "TRUST_STORE_ARN") },
		"AWS_REGION":                 func(m map[string]string) { delete(m, "AWS_REGION") },
		"CA_ARN \"0b1c2d3e\" is not": func(m map[string]string) { m["CA_ARN"] = "0b1c2d3e" },
	} {
		env := goodEnv()
		mut(env)
		_, err := parseConfig(nil, envOf(env), &strings.Builder{})
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
		assert.NotContains(t, err.Error(), "\n", "one line")
	}
}

// GIVEN --help WHEN run THEN it shows a real example and exits 0; a bad
// setting exits 2 before any AWS client is built.
func TestHelpAndUsageExitCodes(t *testing.T) {
	built := false
	build := func(Config) (crlsync.S3, crlsync.ELB) { built = true; return nil, nil }
	var out, errOut strings.Builder
	assert.Equal(t, 0, run([]string{"--help"}, envOf(nil), &out, &errOut, build))
	assert.Contains(t, errOut.String(), "PKI_BUCKET=spatial-pki-spatialprops-dev-ap-southeast-2")
	assert.Contains(t, errOut.String(), "-dry-run")

	errOut.Reset()
	assert.Equal(t, 2, run(nil, envOf(nil), &out, &errOut, build))
	assert.Equal(t, "crl-sync: PKI_BUCKET (or --bucket) is required: the PKI bucket, terraform output pki_bucket of <env>-identity\n", errOut.String())
	assert.Equal(t, 2, run([]string{"--no-such-flag"}, envOf(goodEnv()), &out, &errOut, build))
	assert.Equal(t, 2, run([]string{"extra"}, envOf(goodEnv()), &out, &errOut, build))
	assert.False(t, built, "bad usage touches no AWS API")
}
