package envs

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseShipped parses a shipped env file after edit rewrites its text.
func parseShipped(t *testing.T, env string, edit func(string) string) (*Config, error) {
	t.Helper()
	b, err := os.ReadFile(env + ".yaml")
	require.NoError(t, err)
	return Parse("envs/"+env+".yaml", []byte(edit(string(b))), Overrides{})
}

func TestMarketplaceShippedConfig(t *testing.T) {
	dev, err := Load("dev", Overrides{})
	require.NoError(t, err)
	assert.True(t, dev.Marketplace.Enabled)
	assert.True(t, dev.Marketplace.UsesBillingStub(), "dev consumes billing events with the in-cluster stub")
	assert.False(t, dev.Marketplace.WAFOn(), "dev follows cdn.enableWaf (off)")
	for _, env := range []string{"staging", "prod"} {
		cfg, err := Load(env, Overrides{})
		require.NoError(t, err)
		assert.Equal(t, "spatialprops/"+env+"/billing-connector", cfg.BillingConnectorSecretName())
		assert.False(t, cfg.Marketplace.UsesBillingStub())
		assert.True(t, cfg.Marketplace.WAFOn(), "%s inherits cdn.enableWaf", env)
	}
}

func TestMarketplaceConnectorSecretRules(t *testing.T) {
	_, err := parseShipped(t, "prod", func(s string) string {
		return strings.Replace(s, "  billingConnectorSecret: billing-connector\n", "", 1)
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "marketplace.billingConnectorSecret: is required in prod")

	_, err = parseShipped(t, "dev", func(s string) string {
		return s + "  billingConnectorSecret: billing-connector\n"
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is set in dev, where the in-cluster billing stub consumes the queue")

	_, err = parseShipped(t, "staging", func(s string) string {
		return strings.Replace(s, "billingConnectorSecret: billing-connector", "billingConnectorSecret: arn:aws:secretsmanager:us-east-1:123456789012:secret:x", 1)
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not a Secrets Manager secret name")

	_, err = parseShipped(t, "staging", func(s string) string {
		return strings.Replace(s, "billingConnectorSecret: billing-connector", "billingConnectorSecret: spatialprops/staging/billing-connector", 1)
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be relative to spatialprops/staging/")

	_, err = parseShipped(t, "prod", func(s string) string { return s + "  enableWaf: false\n" })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "marketplace.enableWaf: is false; prod's public storefront always sits behind a web ACL")

	_, err = parseShipped(t, "staging", func(s string) string { return s + "  enableWaf: false\n" })
	require.NoError(t, err, "staging may switch its storefront WAF off")
}
