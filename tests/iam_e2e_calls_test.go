package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/awscalls"
	"github.com/spatialprops/spatialprops-infra/internal/iameval"
)

// The calls `make e2e` really made: a saved debug log of one CI-deployed
// stack's deploy (internal/awscalls/testdata/dev-identity.log), every call
// mapped to its IAM actions and evaluated for dev's infra deploy role with
// the synthesized policies. `make e2e` runs the same check over every
// stack it applies (cmd/stackrun/e2e_calls.go).

const e2eCallsFixture = "../internal/awscalls/testdata/dev-identity.log"

func e2eCalls(t *testing.T) ([]awscalls.Call, map[string]int) {
	t.Helper()
	calls, n, err := awscalls.ParseFile(e2eCallsFixture)
	require.NoError(t, err)
	return calls, map[string]int{"dev-identity": n}
}

func awsCatalog(t *testing.T) *awscalls.Catalog {
	t.Helper()
	root, err := iameval.RepoRoot()
	require.NoError(t, err)
	c, err := awscalls.NewCatalog(root)
	require.NoError(t, err)
	return c
}

func TestIAMDeployRoleAllowsTheCallsE2EMade(t *testing.T) {
	m := iamModel(t, "dev")
	role, err := awscalls.DeployRole(m)
	require.NoError(t, err)
	require.Equal(t, deployRole("dev"), role)
	calls, requests := e2eCalls(t)
	rep, err := awscalls.Check(m, awsCatalog(t), role, calls, requests)
	require.NoError(t, err)
	assert.True(t, rep.OK(), rep.String())
	assert.Equal(t, []string{"dev-identity"}, rep.Stacks)
	assert.Greater(t, len(rep.Actions), 40, "the fixture's calls need many actions")
	t.Log(rep)
}

// freshModel is dev's model built for one test, which may change it.
func freshModel(t *testing.T, env string) *iameval.Model {
	t.Helper()
	docs := map[string][]byte{}
	for _, s := range allStacks(t) {
		if s.Env == env {
			docs[s.ID] = s.Raw
		}
	}
	e, err := iameval.LoadEnv(env, docs)
	require.NoError(t, err)
	m, err := iameval.NewModel(e)
	require.NoError(t, err)
	return m
}

// dropAction removes action from every statement of role's own policies,
// inline and attached, and reports how many statements granted it.
func dropAction(m *iameval.Model, role, action string) int {
	r := m.Role(role)
	docs := []iameval.Policy{}
	docs = append(docs, r.Inline...)
	for _, arn := range r.Managed {
		if p, ok := m.Policies[arn]; ok {
			docs = append(docs, p)
		}
	}
	n := 0
	for _, p := range docs {
		stmts, _ := p.Document["Statement"].([]any)
		for _, s := range stmts {
			st := s.(map[string]any)
			switch a := st["Action"].(type) {
			case string:
				if a == action {
					st["Action"] = []any{}
					n++
				}
			case []any:
				var keep []any
				for _, x := range a {
					if x == action {
						n++
						continue
					}
					keep = append(keep, x)
				}
				st["Action"] = keep
			}
		}
	}
	return n
}

func TestIAMCallsCheckReportsAMissingAction(t *testing.T) {
	m := freshModel(t, "dev")
	role := deployRole("dev")
	require.Positive(t, dropAction(m, role, "acm-pca:CreateCertificateAuthority"))
	calls, requests := e2eCalls(t)
	rep, err := awscalls.Check(m, awsCatalog(t), role, calls, requests)
	require.NoError(t, err)
	require.Len(t, rep.Denied, 1, rep.String())
	d := rep.Denied[0]
	assert.Equal(t, "dev-identity", d.Stack)
	assert.Equal(t, "acm-pca:CreateCertificateAuthority", d.Action)
	assert.Equal(t, "aws_acmpca_certificate_authority", d.Calls[0].ResourceType)
	assert.Contains(t, rep.String(), "1 denied for "+role)
}
