package envs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIdentityDefaults(t *testing.T) {
	// GIVEN a file without an identity block THEN devices get 30-day EC
	// certificates from a CA named after the env.
	cfg, err := Parse("envs/dev.yaml", []byte(validDev), Overrides{})
	require.NoError(t, err)
	assert.Equal(t, 30, cfg.Identity.DeviceCertDays)
	assert.Equal(t, "EC_prime256v1", cfg.Identity.KeyAlgorithm)
	assert.Equal(t, 10, cfg.Identity.CAValidityYears)
	assert.Equal(t, "AU", cfg.Identity.Subject.Country)
	assert.Equal(t, "spatialprops dev root CA", cfg.CACommonName())
	assert.Equal(t, "spatialprops dev device CA", cfg.SubordinateCommonName("device"))
	assert.Equal(t, CAModeGeneralPurpose, cfg.Identity.DeviceCAMode)
	assert.Equal(t, 5, cfg.Identity.SubordinateValidityYears)
}

func TestIdentityShippedEnvsKeepTheMonthlyLimit(t *testing.T) {
	cfgs, err := LoadSelected(Overrides{})
	require.NoError(t, err)
	for _, c := range cfgs {
		assert.LessOrEqual(t, c.Identity.DeviceCertDays, c.Identity.MaxCertDays(), c.Env)
		assert.GreaterOrEqual(t, c.Identity.DeviceCertDays, 1, c.Env)
		// dev and staging save USD 350/month each with a short-lived device
		// CA; prod keeps 30-day certificates for devices offline for days.
		want := CAModeShortLived
		if c.Env == "prod" {
			want = CAModeGeneralPurpose
		}
		assert.Equal(t, want, c.Identity.DeviceCAMode, c.Env)
	}
}

func TestIdentityShortLivedModeCapsDeviceCertificatesAtSevenDays(t *testing.T) {
	// GIVEN a short-lived device CA THEN 7 days passes and 8 is refused,
	// naming the mode, since ACM PCA would refuse every issuance.
	doc := withValue(t, validDev, "identity.deviceCAMode", CAModeShortLived)
	_, err := Parse("envs/dev.yaml", []byte(withValue(t, doc, "identity.deviceCertDays", "7")), Overrides{})
	require.NoError(t, err)
	_, err = Parse("envs/dev.yaml", []byte(withValue(t, doc, "identity.deviceCertDays", "8")), Overrides{})
	require.Error(t, err)
	assert.Regexp(t, `^envs/dev.yaml:\d+: identity.deviceCertDays: 8 must be between 1 and 7 days with deviceCAMode SHORT_LIVED_CERTIFICATE`, err.Error())
}

func TestIdentityExplicitValuesAreKept(t *testing.T) {
	doc := withValue(t, validDev, "identity.deviceCertDays", "7")
	doc = withValue(t, doc, "identity.keyAlgorithm", "RSA_2048")
	doc = withValue(t, doc, "identity.subject.commonName", "Test Root")
	cfg, err := Parse("envs/dev.yaml", []byte(doc), Overrides{})
	require.NoError(t, err)
	assert.Equal(t, 7, cfg.Identity.DeviceCertDays)
	assert.Equal(t, "RSA_2048", cfg.Identity.KeyAlgorithm)
	assert.Equal(t, "Test Root", cfg.CACommonName())
}

func TestIdentityBadValuesAreRefused(t *testing.T) {
	for _, tc := range []struct{ path, value, want string }{
		{"identity.deviceCertDays", "31", "envs/dev.yaml:18: identity.deviceCertDays: 31 must be between 1 and 30 days"},
		{"identity.deviceCertDays", "365", "identity.deviceCertDays: 365 must be between 1 and 30"},
		{"identity.deviceCertDays", "0", "identity.deviceCertDays: 0 must be between 1 and 30"},
		{"identity.deviceCertDays", "-1", "identity.deviceCertDays: -1 must be between 1 and 30"},
		{"identity.keyAlgorithm", "EC_secp384r1", `identity.keyAlgorithm: "EC_secp384r1" is not supported; use EC_prime256v1 (the default) or RSA_2048`},
		{"identity.keyAlgorithm", `""`, `identity.keyAlgorithm: "" is not supported`},
		{"identity.caValidityYears", "0", "identity.caValidityYears: 0 must be between 1 and 30"},
		{"identity.subordinateValidityYears", "10", "identity.subordinateValidityYears: 10 must be at least 1 and less than caValidityYears (10)"},
		{"identity.deviceCAMode", "SHORT", `identity.deviceCAMode: "SHORT" is not a usage mode`},
		{"identity.subject.country", "Australia", `identity.subject.country: "Australia" must be a two-letter`},
		{"identity.subject.organization", `""`, `identity.subject.organization: "" must be 1 to 64 characters`},
	} {
		t.Run(tc.path+"="+tc.value, func(t *testing.T) {
			_, err := Parse("envs/dev.yaml", []byte(withValue(t, validDev, tc.path, tc.value)), Overrides{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestIdentityThirtyDaysIsAccepted(t *testing.T) {
	// The boundary: exactly 30 is allowed, 31 is not (above).
	_, err := Parse("envs/dev.yaml", []byte(withValue(t, validDev, "identity.deviceCertDays", "30")), Overrides{})
	require.NoError(t, err)
}

func TestWorkloadDigestsArePinnedOrRefused(t *testing.T) {
	// GIVEN a digest THEN it is kept; a tag, a short digest or an unknown
	// workload is refused, naming the field.
	d := "sha256:" + strings.Repeat("ab", 32)
	cfg, err := Parse("envs/dev.yaml", []byte(withValue(t, validDev, "workloads.nats-auth.digest", d)), Overrides{})
	require.NoError(t, err)
	assert.Equal(t, d, cfg.WorkloadDigest(WorkloadNATSAuth))
	assert.Empty(t, cfg.WorkloadDigest(WorkloadCRLSync), "an unpinned workload has no digest")
	for _, tc := range []struct{ path, value, want string }{
		{"workloads.nats-auth.digest", "v1.2.3", `workloads.nats-auth.digest: "v1.2.3" is not an image digest`},
		{"workloads.nats-auth.digest", "sha256:abc", `workloads.nats-auth.digest: "sha256:abc" is not an image digest`},
		{"workloads.beacons.digest", d, "workloads.beacons: is not a privileged workload"},
	} {
		_, err := Parse("envs/dev.yaml", []byte(withValue(t, validDev, tc.path, tc.value)), Overrides{})
		require.Error(t, err, tc.path)
		assert.Contains(t, err.Error(), tc.want)
	}
}
