package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/services/beacon-rotate/rotate"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func goodEnv() map[string]string {
	return map[string]string{
		"BEACON_TABLE": "spatialprops-dev-beacons", "AWS_REGION": "ap-southeast-2",
		"NATS_URL": "tls://nats.edge-nats.svc:4222", "NATS_CA_FILE": "/etc/nats-user/ca.crt",
		"NATS_CERT_FILE": "/etc/nats-user/tls.crt", "NATS_KEY_FILE": "/etc/nats-user/tls.key",
	}
}

// GIVEN the CronJob's environment WHEN parsed THEN every setting lands, and
// flags win over the environment.
func TestConfigFromEnvironmentAndFlags(t *testing.T) {
	env := goodEnv()
	env["BEACON_ROTATION_PERIOD"], env["BEACON_GRACE_WINDOW"] = "6h", "30m"
	c, err := parseConfig([]string{"--grace", "45m", "--dry-run"}, envOf(env), &strings.Builder{})
	require.NoError(t, err)
	assert.Equal(t, Config{
		Table: "spatialprops-dev-beacons", Region: "ap-southeast-2", NATSURL: "tls://nats.edge-nats.svc:4222",
		CAFile: "/etc/nats-user/ca.crt", CertFile: "/etc/nats-user/tls.crt", KeyFile: "/etc/nats-user/tls.key",
		Period: 6 * time.Hour, Grace: 45 * time.Minute, Timeout: DefaultTimeout, DryRun: true,
		CallTimeout: rotate.DefaultCallTimeout, PublishTimeout: rotate.DefaultPublishTimeout, PublishAttempts: rotate.DefaultPublishAttempts,
	}, c)

	// defaults, and a plaintext local URL needs no certificate
	c, err = parseConfig(nil, envOf(map[string]string{"BEACON_TABLE": "t", "AWS_REGION": "r", "NATS_URL": "nats://127.0.0.1:4222"}), &strings.Builder{})
	require.NoError(t, err)
	assert.Equal(t, DefaultPeriod, c.Period)
	assert.Equal(t, DefaultGrace, c.Grace)

	// --dry-run only reads the table: no NATS settings needed
	_, err = parseConfig([]string{"--dry-run"}, envOf(map[string]string{"BEACON_TABLE": "t", "AWS_REGION": "r"}), &strings.Builder{})
	require.NoError(t, err)
}

// GIVEN a missing or bad setting WHEN parsed THEN the one-line error names
// the variable an operator has to set.
func TestConfigErrorsNameTheVariable(t *testing.T) {
	for want, mut := range map[string]func(map[string]string){
		"BEACON_TABLE":           func(m map[string]string) { delete(m, "BEACON_TABLE") },
		"AWS_REGION":             func(m map[string]string) { delete(m, "AWS_REGION") },
		"NATS_URL (or":           func(m map[string]string) { delete(m, "NATS_URL") },
		"NATS_CA_FILE":           func(m map[string]string) { delete(m, "NATS_CA_FILE") },
		"NATS_CERT_FILE":         func(m map[string]string) { delete(m, "NATS_CERT_FILE") },
		"NATS_KEY_FILE":          func(m map[string]string) { delete(m, "NATS_KEY_FILE") },
		"BEACON_ROTATION_PERIOD": func(m map[string]string) { m["BEACON_ROTATION_PERIOD"] = "daily" },
		"BEACON_GRACE_WINDOW":    func(m map[string]string) { m["BEACON_GRACE_WINDOW"] = "0s" },
		"NATS_URL \"":            func(m map[string]string) { m["NATS_URL"] = "nats-without-host" },
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
// setting exits 2 before any connection is attempted.
func TestHelpAndUsageExitCodes(t *testing.T) {
	var out, errOut strings.Builder
	assert.Equal(t, 0, run([]string{"--help"}, envOf(nil), &out, &errOut))
	assert.Contains(t, errOut.String(), "BEACON_TABLE=spatialprops-dev-beacons")
	assert.Contains(t, errOut.String(), "-dry-run")

	errOut.Reset()
	assert.Equal(t, 2, run(nil, envOf(nil), &out, &errOut))
	assert.Equal(t, "beacon-rotate: BEACON_TABLE (or --table) is required: the beacon table, terraform output beacons_table of <env>-edge\n", errOut.String())
	assert.Equal(t, 2, run([]string{"--no-such-flag"}, envOf(goodEnv()), &out, &errOut))
	assert.Equal(t, 2, run([]string{"extra"}, envOf(goodEnv()), &out, &errOut))
}
