package tests

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/iameval"
)

// The evaluated role table of docs/cicd.md ("Who can do what") is written
// by this test from the evaluator's answers, between two markers; it fails
// when the doc and the evaluated policies disagree. Refresh it after an
// intended change with `go test ./tests -run TestIAMRoleTableInTheDocs -update`
// (or `make update-golden`) and read the diff.

const (
	tableBegin = "<!-- evaluated-role-table: begin (tests/iam_docs_test.go writes it; do not edit by hand) -->"
	tableEnd   = "<!-- evaluated-role-table: end -->"
)

// tableRow is one question the table answers for every role.
type tableRow struct {
	what     string
	action   string
	resource func(env string) string
	context  []string
}

func tableRows(t *testing.T) []tableRow {
	bucket := func(kind, env, key string) string {
		return fmt.Sprintf("arn:aws:s3:::spatial-%s-spatialprops-%s-%s/%s", kind, env, region, key)
	}
	fixed := func(s string) func(string) string { return func(string) string { return s } }
	ca := func(env string) string { return arnsOf(t, iamModel(t, env), "aws_acmpca_certificate_authority")[0] }
	return []tableRow{
		{"read a state file", "s3:GetObject", func(env string) string {
			return fmt.Sprintf("arn:aws:s3:::tfstate-spatialprops-%s-%s/%s/cicd.tfstate", env, region, env)
		}, nil},
		{"write a state file", "s3:PutObject", func(env string) string {
			return fmt.Sprintf("arn:aws:s3:::tfstate-spatialprops-%s-%s/%s/cicd.tfstate", env, region, env)
		}, nil},
		{"read a published Spatial Pack", "s3:GetObject", func(env string) string { return bucket("packs", env, "published/a.pmtiles") }, nil},
		{"read a DTN envelope", "s3:GetObject", func(env string) string { return bucket("dtn", env, "a") }, nil},
		{"overwrite the CA bundle the ALB trusts", "s3:PutObject", func(env string) string { return bucket("pki", env, "trust/ca-bundle.pem") }, nil},
		{"read a secret of the env", "secretsmanager:GetSecretValue", func(env string) string {
			return iamArn("secretsmanager", "secret:spatialprops/"+env+"/grafana-AbCdEf")
		}, nil},
		{"read a device-ledger item", "dynamodb:GetItem", func(env string) string { return iamArn("dynamodb", "table/spatialprops-"+env+"-device-ledger") }, nil},
		{"create a table of the env", "dynamodb:CreateTable", func(env string) string { return iamArn("dynamodb", "table/spatialprops-"+env+"-next") },
			[]string{"aws:RequestTag/Environment", "{env}"}},
		{"push a pack-service image", "ecr:PutImage", func(env string) string { return iamArn("ecr", "repository/spatialprops/pack-service") }, nil},
		{"create a role on /workload/ under the boundary", "iam:CreateRole", func(env string) string {
			return roleArn(workloadPath, "spatialprops-"+env+"-next")
		}, []string{"iam:PermissionsBoundary", "{boundary}"}},
		{"re-trust break-glass", "iam:UpdateAssumeRolePolicy", func(env string) string { return roleArn("/", "spatialprops-"+env+"-break-glass") }, nil},
		{"re-trust the infra deploy role", "iam:UpdateAssumeRolePolicy", func(env string) string { return roleArn("/", deployRole(env)) }, nil},
		{"issue an end-entity certificate", "acm-pca:IssueCertificate", ca, []string{"acm-pca:TemplateArn", "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1"}},
		{"issue a CA certificate", "acm-pca:IssueCertificate", ca, []string{"acm-pca:TemplateArn", "arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1"}},
		{"revoke a certificate", "acm-pca:RevokeCertificate", ca, nil},
		{"add an EKS access entry", "eks:CreateAccessEntry", func(env string) string { return iamArn("eks", "cluster/spatialprops-"+env+"-eks") }, nil},
		{"assume another role", "sts:AssumeRole", fixed(roleArn("/", "somebody")), nil},
	}
}

// tableColumns are the principals: the GitHub roles (the two infra roles,
// a service deploy role and a privileged workload's image-only deploy role)
// and a role CI could create under the boundary, allowing itself everything.
var tableColumns = []string{"gha-infra-plan", "gha-infra-deploy", "gha-deploy-pack-service", "gha-deploy-crl-sync", "any role under the boundary"}

func TestIAMRoleTableInTheDocs(t *testing.T) {
	rows := tableRows(t)
	// answers[row][column] per env; the table states one answer per cell,
	// so every env must agree.
	answers := make([][]string, len(rows))
	for i := range answers {
		answers[i] = make([]string, len(tableColumns))
	}
	for _, env := range iamEnvs {
		m := iamModel(t, env)
		var reqs []iameval.Request
		for _, r := range rows {
			for _, col := range tableColumns {
				ctx := map[string]any{}
				for k := 0; k < len(r.context); k += 2 {
					v := strings.NewReplacer("{env}", env, "{boundary}", boundaryArn(env)).Replace(r.context[k+1])
					ctx[r.context[k]] = v
				}
				req := iameval.Request{Principal: prefix(env) + "-" + col, Action: r.action, Resource: r.resource(env), Context: ctx}
				if col == tableColumns[len(tableColumns)-1] {
					req.Principal, req.Identity, req.Boundary = roleArn(workloadPath, prefix(env)+"-whatever"), []iameval.Policy{iameval.AllowAll}, boundaryArn(env)
				}
				reqs = append(reqs, req)
			}
		}
		results, err := m.Evaluate(reqs)
		require.NoError(t, err)
		for i, res := range results {
			row, col := i/len(tableColumns), i%len(tableColumns)
			require.Empty(t, res.Err, res.Explain())
			cell := "no"
			if res.Allowed() {
				cell = "**yes**"
			}
			if answers[row][col] != "" && answers[row][col] != cell {
				t.Fatalf("%q for %s differs between envs (%s: %s); the table cannot state one answer", rows[row].what, tableColumns[col], env, cell)
			}
			answers[row][col] = cell
		}
	}
	var b strings.Builder
	b.WriteString(tableBegin + "\n")
	last := len(tableColumns) - 1
	b.WriteString("| the role may … (IAM's answer in dev, staging and prod) | `" + strings.Join(tableColumns[:last], "` | `") + "` | " + tableColumns[last] + " |\n")
	b.WriteString("|---|" + strings.Repeat("---|", len(tableColumns)) + "\n")
	for i, r := range rows {
		fmt.Fprintf(&b, "| %s (`%s`) | %s |\n", r.what, r.action, strings.Join(answers[i], " | "))
	}
	b.WriteString(tableEnd)
	want := b.String()

	const doc = "../docs/cicd.md"
	raw, err := os.ReadFile(doc)
	require.NoError(t, err)
	text := string(raw)
	begin, end := strings.Index(text, tableBegin), strings.Index(text, tableEnd)
	require.True(t, begin >= 0 && end > begin, "%s has no evaluated role table between its markers", doc)
	got := text[begin : end+len(tableEnd)]
	if *update {
		require.NoError(t, os.WriteFile(doc, []byte(text[:begin]+want+text[end+len(tableEnd):]), 0o644))
		return
	}
	require.Equal(t, want, got, "docs/cicd.md's evaluated role table disagrees with the policies; run go test ./tests -run TestIAMRoleTableInTheDocs -update and read the diff")
}
