package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// GIVEN every synthesized stack THEN each IAM role it creates is one of
// naming.RolePurposes: that list is what config validation length-checks
// (IAM's 64-character limit), so a role missing from it could fail at apply
// time in an org with a long name even though synth and validate pass.
func TestEveryRoleIsLengthChecked(t *testing.T) {
	known := map[string]map[string]bool{}
	for _, s := range allStacks(t) {
		if s.Env == "" {
			continue // the github stack has no IAM role
		}
		if known[s.Env] == nil {
			cfg, err := envs.Load(s.Env, envs.Overrides{})
			if !assert.NoError(t, err) {
				return
			}
			known[s.Env] = map[string]bool{}
			for _, r := range naming.New(cfg.Org, cfg.Env, cfg.Region).Roles(cfg.CICD.Services...) {
				known[s.Env][r] = true
			}
		}
		for _, r := range resources(s.Doc, "aws_iam_role") {
			name := r.Get("name").String()
			assert.True(t, known[s.Env][name], "%s: role %q is not in naming.RolePurposes", s.ID, name)
		}
	}
}
