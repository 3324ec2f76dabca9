package envs

import (
	"regexp"
	"slices"
	"strings"
)

// Marketplace configures the marketplace stack: the marketplace api and ui,
// the billing-events queue and the provenance gate (docs/marketplace.md).
type Marketplace struct {
	// Enabled deploys the <env>-marketplace stack. Default: false.
	Enabled bool `yaml:"enabled"`
	// BillingConnectorSecret is the NAME (never the value) of the Secrets
	// Manager secret holding the billing provider connector's credentials,
	// relative to the environment's prefix "<org>/<env>/": billing-connector
	// means <org>/<env>/billing-connector, the only place External Secrets
	// may read (and it follows an ORG override). An ExternalSecret reads it
	// in-cluster, so no credential reaches config or Terraform state.
	// Required in staging and prod; refused in dev, where the billing stub
	// consumes the queue instead.
	BillingConnectorSecret string `yaml:"billingConnectorSecret"`
	// EnableWAF attaches a regional web ACL to the marketplace ALB. Default:
	// cdn.enableWaf, so an environment that protects its CDN protects its
	// storefront too.
	EnableWAF *bool `yaml:"enableWaf"`
}

// WAFOn reports whether the marketplace ingress gets a web ACL.
func (m Marketplace) WAFOn() bool { return m.EnableWAF != nil && *m.EnableWAF }

// BillingConnectorSecretName is the full Secrets Manager name,
// "<org>/<env>/<billingConnectorSecret>", or "" in dev.
func (c *Config) BillingConnectorSecretName() string {
	if c.Marketplace.BillingConnectorSecret == "" {
		return ""
	}
	return c.Org + "/" + c.Env + "/" + c.Marketplace.BillingConnectorSecret
}

// UsesBillingStub reports whether the dev billing stub consumes the queue
// (no connector secret named) rather than the provider's connector.
func (m Marketplace) UsesBillingStub() bool { return m.BillingConnectorSecret == "" }

// secretNameRe is Secrets Manager's allowed name alphabet; an ARN is
// refused because the ExternalSecret reads the secret by name.
var secretNameRe = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)

// MarketplaceServices get ECR repositories (cicd.services) when the
// marketplace is on (the api, the storefront and the provenance gate);
// billing-stub only in dev, where it runs.
func (c *Config) MarketplaceServices() []string {
	if !c.Marketplace.Enabled {
		return nil
	}
	out := []string{"marketplace-api", "marketplace-ui", "provenance-gate"}
	if c.Marketplace.UsesBillingStub() {
		out = append(out, "billing-stub")
	}
	return out
}

func defaultMarketplace(c *Config) {
	for _, svc := range c.MarketplaceServices() {
		if !slices.Contains(c.CICD.Services, svc) {
			c.CICD.Services = append(c.CICD.Services, svc)
		}
	}
	if c.Marketplace.EnableWAF == nil {
		on := c.CDN.EnableWAF
		c.Marketplace.EnableWAF = &on
	}
}

func validateMarketplace(p *problems, c *Config, env string) {
	m := c.Marketplace
	if !m.Enabled {
		return
	}
	name := m.BillingConnectorSecret
	switch {
	case env == "dev" && name != "":
		p.add("marketplace.billingConnectorSecret", "is set in dev, where the in-cluster billing stub consumes the queue; remove it (the connector runs in staging and prod only)")
	case env != "dev" && name == "":
		p.add("marketplace.billingConnectorSecret", "is required in %s: name the Secrets Manager secret holding the billing connector's credentials, stored as %s/%s/<name>; write e.g. billing-connector", env, c.Org, env)
	case name != "" && !secretNameRe.MatchString(name):
		p.add("marketplace.billingConnectorSecret", "%q is not a Secrets Manager secret name; give the name (letters, digits, /_+=.@-), not an ARN or a value", name)
	case strings.HasPrefix(name, c.Org+"/") || strings.HasPrefix(name, "/"):
		p.add("marketplace.billingConnectorSecret", "%q must be relative to %s/%s/ (the stacks add the prefix); write e.g. billing-connector", name, c.Org, env)
	}
}
