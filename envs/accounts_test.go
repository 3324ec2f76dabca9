package envs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parseAs builds a valid config for env from validDev, changed by edit.
func parseAs(t *testing.T, env string, edit func(string) string) *Config {
	t.Helper()
	cfg, err := Parse("envs/"+env+".yaml", []byte(edit(validFor(env))), Overrides{})
	require.NoError(t, err)
	return cfg
}

func withAccount(account string, shared, ownsOIDC bool) func(string) string {
	return func(s string) string {
		s = strings.Replace(s, "region:", "accountId: \""+account+"\"\nregion:", 1)
		s = strings.ReplaceAll(s, "111122223333", account)
		extra := ""
		if shared {
			extra += "sharedAccount: true, "
		}
		if ownsOIDC {
			extra += "createOidcProvider: true, "
		}
		return strings.Replace(s, "cicd: {", "cicd: {"+extra, 1)
	}
}

func TestOneAccountPerEnvByDefault(t *testing.T) {
	// GIVEN dev and staging in the same account without sharedAccount
	// THEN both are refused: the guide's ECR names "<org>/<service>" would
	// collide and staging's deploy role would reach dev's resources.
	dev := parseAs(t, "dev", withAccount("111111111111", false, true))
	staging := parseAs(t, "staging", withAccount("111111111111", false, false))
	err := ValidateAccounts([]*Config{dev, staging})
	require.Error(t, err)
	assert.Equal(t, []string{
		"envs/dev.yaml:4: accountId: 111111111111 is also the account of staging; give each env its own account (recommended), or set cicd.sharedAccount: true in every env of that account so ECR repositories carry the env",
		"envs/staging.yaml:4: accountId: 111111111111 is also the account of dev; give each env its own account (recommended), or set cicd.sharedAccount: true in every env of that account so ECR repositories carry the env",
	}, strings.Split(err.Error(), "\n"))

	// separate accounts, each owning its provider: fine
	staging = parseAs(t, "staging", withAccount("222222222222", false, true))
	assert.NoError(t, ValidateAccounts([]*Config{dev, staging}))
}

func TestSharedAccountNeedsExactlyOneOIDCOwner(t *testing.T) {
	dev := parseAs(t, "dev", withAccount("111111111111", true, true))
	staging := parseAs(t, "staging", withAccount("111111111111", true, true))
	err := ValidateAccounts([]*Config{dev, staging})
	require.EqualError(t, err, "envs/dev.yaml:16: cicd.createOidcProvider: envs dev, staging share account 111111111111, and 2 of them create the GitHub OIDC provider; IAM allows one per account, so set it to true in exactly one of them")

	staging = parseAs(t, "staging", withAccount("111111111111", true, false))
	assert.NoError(t, ValidateAccounts([]*Config{dev, staging}))
}

func TestBreakGlassRoleIsRequiredAndInTheEnvsAccount(t *testing.T) {
	_, err := Parse("envs/dev.yaml", []byte(strings.Replace(validDev, "  breakGlassRoleArn: arn:aws:iam::111122223333:role/spatialprops-dev-break-glass\n", "", 1)), Overrides{})
	require.EqualError(t, err, "envs/dev.yaml:12: cluster.breakGlassRoleArn: is missing; name the audited IAM role that gets cluster-admin in an emergency, e.g. arn:aws:iam::<account>:role/spatialprops-dev-break-glass")

	src := strings.Replace(validDev, "region:", "accountId: \"999999999999\"\nregion:", 1)
	_, err = Parse("envs/dev.yaml", []byte(src), Overrides{})
	require.EqualError(t, err, `envs/dev.yaml:15: cluster.breakGlassRoleArn: "arn:aws:iam::111122223333:role/spatialprops-dev-break-glass" is in another account than accountId 999999999999; use a role of this env's account`)
}

func TestProdPlansNeedAnApprovalEnvironment(t *testing.T) {
	// Left out, prod's plan role still trusts only prod-plan (its default);
	// any other environment is refused (invariants_test.go).
	src := strings.Replace(validFor("prod"), "planEnvironment: prod-plan, ", "", 1)
	cfg, err := Parse("envs/prod.yaml", []byte(src), Overrides{})
	require.NoError(t, err)
	assert.Equal(t, "prod-plan", cfg.CICD.PlanEnvironment)
}

func TestShippedEnvsEachHaveTheirOwnAccount(t *testing.T) {
	cfgs, err := LoadSelected(Overrides{})
	require.NoError(t, err)
	for _, c := range cfgs {
		assert.False(t, c.CICD.SharedAccount, "%s: one account per env is the default", c.Env)
		assert.True(t, c.CICD.CreateOIDCProvider, "%s: its own account, so its own GitHub OIDC provider", c.Env)
	}
	prod := cfgs[2]
	assert.Equal(t, "prod-plan", prod.CICD.PlanEnvironment)
	assert.Equal(t, "prod-infra", prod.InfraEnvironment())
	assert.Equal(t, "prod-deploy-dtn-gateway", prod.ServiceEnvironment("dtn-gateway"))
}
