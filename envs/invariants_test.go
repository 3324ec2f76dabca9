package envs

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// defeats tries to weaken each prod invariant with a value that is valid
// anywhere else: each is accepted in staging and refused in prod, naming
// the key the file wrote, on its line.
var defeats = map[string]string{
	"cdn.enableWaf":                   "false",
	"marketplace.enableWaf":           "false",
	"network.natMode":                 "single",
	"cluster.endpointPublicAccess":    "true",
	"cluster.publicAccessCidrs":       "[203.0.113.0/24]",
	"cicd.planEnvironment":            "staging-plan",
	"network.flowLogRetentionDays":    "90",
	"cluster.logRetentionDays":        "90",
	"cdn.wafLogRetentionDays":         "30",
	"storage.logRetentionDays":        "90",
	"observability.lokiRetentionDays": "14",
	"accountBaseline.retentionDays":   "90",
}

func TestEveryProdInvariantHasADefeatAttempt(t *testing.T) {
	for _, inv := range prodInvariants {
		assert.Contains(t, defeats, inv.field, "add an attempt to defeat %s to this test", inv.field)
	}
	assert.Len(t, defeats, len(prodInvariants))
}

func TestProdInvariantsCannotBeDefeated(t *testing.T) {
	for field, value := range defeats {
		t.Run(field+"="+value, func(t *testing.T) {
			// GIVEN a valid prod file WHEN it weakens one rule with a value
			// staging accepts
			staging := withValue(t, prodLike("staging"), field, value)
			if field == "cluster.endpointPublicAccess" { // staging's public endpoint needs its allow-list
				staging = withValue(t, staging, "cluster.publicAccessCidrs", "[203.0.113.0/24]")
			}
			_, err := Parse("envs/staging.yaml", []byte(staging), Overrides{})
			require.NoError(t, err, "the value is valid outside prod")

			doc := withValue(t, prodLike("prod"), field, value)
			_, err = Parse("envs/prod.yaml", []byte(doc), Overrides{})

			// THEN prod refuses it, once, at the line the file writes it
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, 1, "one refusal, naming only the key the file wrote: %v", lines)
			assert.Regexp(t, fmt.Sprintf(`^envs/prod\.yaml:%d: %s: `, lineOf(doc, field), strings.ReplaceAll(field, ".", `\.`)), lines[0])
		})
	}
}

// GIVEN a prod file that writes none of the guarded keys WHEN it loads THEN
// every invariant holds by default: prod's defaults never need a fix.
func TestProdDefaultsSatisfyEveryInvariant(t *testing.T) {
	cfg, err := Parse("envs/prod.yaml", []byte(validFor("prod")), Overrides{})
	require.NoError(t, err)
	for _, inv := range prodInvariants {
		assert.True(t, inv.holds(cfg), inv.field)
	}
	assert.True(t, cfg.Protect(), "deletion protection is on in prod by name, with no key to turn it off")
}

// GIVEN prod's CDN WAF switched off WHEN the storefront WAF follows it by
// default THEN only the key the file wrote is named, not marketplace.enableWaf.
func TestDerivedDefaultsAreNotBlamed(t *testing.T) {
	doc := withValue(t, prodLike("prod"), "cdn.enableWaf", "false")
	_, err := Parse("envs/prod.yaml", []byte(doc), Overrides{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "marketplace.enableWaf")
	assert.Contains(t, err.Error(), "cdn.enableWaf: is false")
}

// Deletion protection has no key: the ways a file could try to turn it
// off are an unknown key or another env's name, and both are refused.
func TestDeletionProtectionCannotBeSwitchedOff(t *testing.T) {
	for _, tc := range []struct{ edit, want string }{
		{"deletionProtection: false\n", "envs/prod.yaml:1: deletionProtection: unknown key"},
		{"protect: false\n", "envs/prod.yaml:1: protect: unknown key"},
	} {
		_, err := Parse("envs/prod.yaml", []byte(tc.edit+prodLike("prod")), Overrides{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
	_, err := Parse("envs/prod.yaml", []byte(strings.Replace(prodLike("prod"), "env: prod", "env: dev", 1)), Overrides{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `envs/prod.yaml:3: env: "dev" does not match the file name; set env: prod`)
}

// prodLike is a valid file for env shaped like prod (marketplace on, its
// connector secret named), so a defeat attempt trips only its own rule.
func prodLike(env string) string {
	return validFor(env) + "marketplace: {enabled: true, billingConnectorSecret: billing-connector}\n"
}

// lineOf finds the line withValue wrote field on.
func lineOf(doc, field string) int {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		return 0
	}
	src := &source{lines: map[string]int{}}
	src.index(&root, "")
	return src.lines[field]
}
