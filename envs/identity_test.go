package envs

import (
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
	assert.Equal(t, "spatialprops dev device root CA", cfg.CACommonName())
}

func TestIdentityShippedEnvsKeepTheMonthlyLimit(t *testing.T) {
	cfgs, err := LoadSelected(Overrides{})
	require.NoError(t, err)
	for _, c := range cfgs {
		assert.LessOrEqual(t, c.Identity.DeviceCertDays, 30, c.Env)
		assert.GreaterOrEqual(t, c.Identity.DeviceCertDays, 1, c.Env)
	}
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
