package envs

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ValidateAccounts checks the rules that span env files. By default every env
// has its own AWS account: account-global names (the guide's ECR repositories
// "<org>/<service>", the GitHub OIDC provider) would otherwise collide, and a
// deploy role of one env could reach the other's resources. Two envs may
// share an accountId only when both set cicd.sharedAccount, which puts the
// env into every account-global name, and exactly one of them owns the OIDC
// provider. Envs without accountId are not compared: set it to get the check.
func ValidateAccounts(cfgs []*Config) error {
	byAccount := map[string][]*Config{}
	for _, c := range cfgs {
		if c.AccountID != "" {
			byAccount[c.AccountID] = append(byAccount[c.AccountID], c)
		}
	}
	accounts := make([]string, 0, len(byAccount))
	for a := range byAccount {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	var errs []error
	for _, account := range accounts {
		group := byAccount[account]
		if len(group) < 2 {
			continue
		}
		var names, owners []string
		for _, c := range group {
			names = append(names, c.Env)
			if c.CICD.CreateOIDCProvider {
				owners = append(owners, c.Env)
			}
		}
		for _, c := range group {
			if !c.CICD.SharedAccount {
				errs = append(errs, fmt.Errorf("%s: accountId: %s is also the account of %s; give each env its own account (recommended), or set cicd.sharedAccount: true in every env of that account so ECR repositories carry the env",
					c.At("accountId"), account, strings.Join(others(names, c.Env), ", ")))
			}
		}
		if len(owners) != 1 {
			errs = append(errs, fmt.Errorf("%s: cicd.createOidcProvider: envs %s share account %s, and %d of them create the GitHub OIDC provider; IAM allows one per account, so set it to true in exactly one of them",
				group[0].At("cicd.createOidcProvider"), strings.Join(names, ", "), account, len(owners)))
		}
	}
	return errors.Join(errs...)
}

func others(all []string, self string) []string {
	var out []string
	for _, s := range all {
		if s != self {
			out = append(out, s)
		}
	}
	return out
}
