package tests

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/iameval"
)

// The promises of docs/cicd.md ("Who can do what", "The workload
// boundary"), evaluated with IAM's semantics (internal/iameval) on every
// env's synthesized stacks. Names are written out here, independently of
// the code that builds them.

var iamEnvs = []string{"dev", "staging", "prod"}

const region = "ap-southeast-2"

func prefix(env string) string { return "spatialprops-" + env }

func deployRole(env string) string { return prefix(env) + "-gha-infra-deploy" }
func planRole(env string) string   { return prefix(env) + "-gha-infra-plan" }

func boundaryArn(env string) string {
	return "arn:aws:iam::" + iameval.Account + ":policy/" + prefix(env) + "-workload-boundary"
}

func roleArn(path, name string) string { return iameval.RoleArn(path, name) }

// workloadPath is the IAM path of every role CI creates (docs/cicd.md).
const workloadPath = "/workload/"

// ciStacks are the stacks `make deploy-all` deploys with the infra deploy
// role; state and cicd are deployed by a person.
func ciStack(id string) bool {
	return !strings.HasSuffix(id, "-state") && !strings.HasSuffix(id, "-cicd")
}

// arnsOf returns the ARN of every resource of type typ in env's stacks.
func arnsOf(t *testing.T, m *iameval.Model, typ string) []string {
	t.Helper()
	var out []string
	for _, id := range m.Env.Stacks() {
		for name := range m.Env.Blocks(id, "resource", typ) {
			v, err := m.Env.Attr(id, typ+"."+name, "arn")
			require.NoError(t, err)
			out = append(out, v.(string))
		}
	}
	sort.Strings(out)
	return out
}

// roleWrites are every IAM call that changes who may assume a role, what
// it may do, or whether it exists; each with the context an attacker would
// give it to satisfy the deploy role's conditions.
func roleWrites(env, target string) []iameval.Check {
	b := boundaryArn(env)
	eks := "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
	return []iameval.Check{
		iameval.Deny(deployRole(env), "iam:UpdateAssumeRolePolicy", target),
		iameval.Deny(deployRole(env), "iam:PutRolePolicy", target, "iam:PermissionsBoundary", b),
		iameval.Deny(deployRole(env), "iam:DeleteRolePolicy", target, "iam:PermissionsBoundary", b),
		iameval.Deny(deployRole(env), "iam:AttachRolePolicy", target, "iam:PermissionsBoundary", b, "iam:PolicyARN", eks),
		iameval.Deny(deployRole(env), "iam:DetachRolePolicy", target, "iam:PermissionsBoundary", b, "iam:PolicyARN", eks),
		iameval.Deny(deployRole(env), "iam:PutRolePermissionsBoundary", target, "iam:PermissionsBoundary", b),
		iameval.Deny(deployRole(env), "iam:DeleteRolePermissionsBoundary", target),
		iameval.Deny(deployRole(env), "iam:UpdateRole", target),
		iameval.Deny(deployRole(env), "iam:TagRole", target),
		iameval.Deny(deployRole(env), "iam:DeleteRole", target),
		iameval.Deny(deployRole(env), "iam:CreateRole", target, "iam:PermissionsBoundary", b).Because("no delete-and-recreate under the same name"),
		iameval.Deny(deployRole(env), "iam:PassRole", target, "iam:PassedToService", "eks.amazonaws.com"),
	}
}

// Finding 1: the infra deploy role cannot change the trust, policies or
// boundary of any role it did not create, nor delete and re-create one.
func TestIAMDeployRoleCannotTouchRolesItDidNotCreate(t *testing.T) {
	for _, env := range iamEnvs {
		t.Run(env, func(t *testing.T) {
			m := iamModel(t, env)
			targets := map[string]string{
				// created outside this repository, cluster admin
				"break-glass": roleArn("/", prefix(env)+"-break-glass"),
				// any role of this env's name outside the workload path
				"a role outside the workload path": roleArn("/", prefix(env)+"-anything"),
				"a role on another path":           roleArn("/operators/", prefix(env)+"-anything"),
			}
			// every role the human-deployed stacks hold (the GitHub roles)
			// and the operators' roles, wherever they are defined
			for _, r := range m.Roles {
				if !ciStack(r.Stack) || strings.HasSuffix(r.Name, "-device-revocation") {
					targets[r.Name] = r.Arn
				}
			}
			require.Contains(t, targets, deployRole(env), "the deploy role itself is among them")
			require.Contains(t, targets, prefix(env)+"-device-revocation")
			var checks []iameval.Check
			for what, arn := range targets {
				for _, c := range roleWrites(env, arn) {
					checks = append(checks, c.Because(what+" is not CI's to change"))
				}
			}
			iameval.Expect(t, m, checks...)
		})
	}
}

// The other half: what CI creates it can still create, change and delete,
// on the workload path under the boundary.
func TestIAMDeployRoleMaintainsWorkloadRoles(t *testing.T) {
	for _, env := range iamEnvs {
		t.Run(env, func(t *testing.T) {
			m := iamModel(t, env)
			b := boundaryArn(env)
			seen := 0
			var checks []iameval.Check
			for _, r := range m.Roles {
				if !ciStack(r.Stack) {
					continue
				}
				seen++
				checks = append(checks,
					iameval.Allow(deployRole(env), "iam:CreateRole", r.Arn, "iam:PermissionsBoundary", b),
					iameval.Allow(deployRole(env), "iam:PutRolePolicy", r.Arn, "iam:PermissionsBoundary", b),
					iameval.Allow(deployRole(env), "iam:UpdateAssumeRolePolicy", r.Arn),
					iameval.Allow(deployRole(env), "iam:DeleteRole", r.Arn),
					iameval.Deny(deployRole(env), "iam:CreateRole", r.Arn).Because("never without the boundary"),
					iameval.Deny(deployRole(env), "iam:PutRolePermissionsBoundary", r.Arn, "iam:PermissionsBoundary",
						"arn:aws:iam::aws:policy/AdministratorAccess").Because("never another boundary"),
				)
				if r.Path != workloadPath || r.Boundary != b {
					t.Errorf("%s (%s): CI creates it, so it must be on %s under %s; got path %s, boundary %q", r.Name, r.Stack, workloadPath, b, r.Path, r.Boundary)
				}
			}
			require.GreaterOrEqual(t, seen, 10, "the CI-deployed stacks create roles")
			iameval.Expect(t, m, checks...)
		})
	}
}

// Finding 2: whatever trust and inline policy CI gives a role, the
// boundary keeps it off other envs, the state store, secrets outside
// <org>/<env>/, certificate issuance beyond end-entity templates,
// revocation and cluster access.
func TestIAMBoundaryBoundsAnyRole(t *testing.T) {
	for _, env := range iamEnvs {
		t.Run(env, func(t *testing.T) {
			m := iamModel(t, env)
			other := map[string]string{"dev": "prod", "staging": "prod", "prod": "dev"}[env]
			anyRole := roleArn(workloadPath, prefix(env)+"-whatever")
			b := boundaryArn(env)
			bucket := func(kind, e string) string {
				return fmt.Sprintf("arn:aws:s3:::spatial-%s-spatialprops-%s-%s", kind, e, region)
			}
			stateBucket := fmt.Sprintf("arn:aws:s3:::tfstate-spatialprops-%s-%s", env, region)
			lockTable := iamArn("dynamodb", fmt.Sprintf("table/tf-lock-spatialprops-%s-%s", env, region))
			var stateKey []string
			for _, k := range arnsOfStack(t, m, env+"-state", "aws_kms_key") {
				if slices.Contains(m.KeyAliases[k], "alias/"+prefix(env)+"-tfstate") {
					stateKey = append(stateKey, k)
				}
			}
			require.Len(t, stateKey, 1, "the state stack has one state key (prod's backup vault keys are others)")
			cas := arnsOf(t, m, "aws_acmpca_certificate_authority")
			require.NotEmpty(t, cas)
			cluster := iamArn("eks", "cluster/"+prefix(env)+"-eks")
			deny := func(action, resource string, ctx ...string) iameval.Check {
				return iameval.Deny(anyRole, action, resource, ctx...).As(b, iameval.AllowAll)
			}
			allow := func(action, resource string, ctx ...string) iameval.Check {
				return iameval.Allow(anyRole, action, resource, ctx...).As(b, iameval.AllowAll)
			}
			checks := []iameval.Check{
				deny("s3:GetObject", stateBucket+"/"+env+"/cicd.tfstate").Because("the state store is CI's, never a workload's"),
				deny("s3:PutObject", stateBucket+"/"+env+"/cicd.tfstate"),
				deny("dynamodb:PutItem", lockTable),
				deny("kms:Decrypt", stateKey[0]).With("kms:ResourceAliases", []string{"alias/" + prefix(env) + "-tfstate"}),
				// The catalogue services (pack-service, marketplace-api, the
				// provenance gate) read this env's published packs, so a bounded
				// role may; never another env's, and nothing outside staging/ and
				// published/ (docs/cicd.md, "The workload boundary").
				allow("s3:GetObject", bucket("packs", env)+"/published/any.pmtiles").Because("the catalogue services read published packs"),
				deny("s3:GetObject", bucket("packs", other)+"/published/any.pmtiles").Because("another env's packs"),
				deny("s3:GetObject", bucket("packs", env)+"/raw/any.pmtiles").Because("only staging/ and published/"),
				deny("s3:GetObject", bucket("stac", env)+"/catalog.json"),
				deny("s3:GetObject", bucket("logs", env)+"/any"),
				deny("s3:PutObject", bucket("pki", env)+"/trust/device-ca.pem").Because("the ALB trust store trusts this CA"),
				deny("s3:GetObject", bucket("dtn", other)+"/any").Because("another env's data"),
				deny("s3:GetObject", "arn:aws:s3:::somebody-elses-bucket/any"),
				deny("dynamodb:Scan", iamArn("dynamodb", "table/"+prefix(other)+"-device-ledger")),
				deny("dynamodb:Scan", iamArn("dynamodb", "table/somebody-elses-table")),
				deny("secretsmanager:GetSecretValue", iamArn("secretsmanager", "secret:spatialprops/"+other+"/grafana-AbCdEf")),
				deny("secretsmanager:GetSecretValue", iamArn("secretsmanager", "secret:elsewhere-AbCdEf")),
				allow("secretsmanager:GetSecretValue", iamArn("secretsmanager", "secret:spatialprops/"+env+"/grafana-AbCdEf")).
					Because("External Secrets reads this env's secrets"),
				deny("eks:CreateAccessEntry", cluster).Because("cluster admin comes only from the cicd and cluster stacks"),
				deny("eks:UpdateClusterConfig", cluster).Because("the endpoint stays private"),
				deny("iam:CreateRole", roleArn(workloadPath, prefix(env)+"-next")),
				deny("sts:AssumeRole", roleArn("/", prefix(env)+"-break-glass")),
			}
			for _, ca := range cas {
				checks = append(checks,
					allow("acm-pca:IssueCertificate", ca, "acm-pca:TemplateArn", "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1").
						Because("device enrollment issues end-entity client certificates"),
					deny("acm-pca:IssueCertificate", ca, "acm-pca:TemplateArn", "arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1").
						Because("no CA certificates"),
					deny("acm-pca:IssueCertificate", ca, "acm-pca:TemplateArn", "arn:aws:acm-pca:::template/RootCACertificate/V1"),
					deny("acm-pca:RevokeCertificate", ca).Because("revocation is an operator's act with MFA"),
				)
			}
			iameval.Expect(t, m, checks...)
		})
	}
}

func arnsOfStack(t *testing.T, m *iameval.Model, id, typ string) []string {
	t.Helper()
	var out []string
	for name := range m.Env.Blocks(id, "resource", typ) {
		v, err := m.Env.Attr(id, typ+"."+name, "arn")
		require.NoError(t, err)
		out = append(out, v.(string))
	}
	sort.Strings(out)
	return out
}

func iamArn(service, resource string) string {
	return "arn:aws:" + service + ":" + region + ":" + iameval.Account + ":" + resource
}

// The plan role (pull requests in dev and staging) reads no object of any
// data bucket, no secret, no table item and no message, in any env.
func TestIAMPlanRoleReadsNoData(t *testing.T) {
	for _, env := range iamEnvs {
		t.Run(env, func(t *testing.T) {
			m := iamModel(t, env)
			var checks []iameval.Check
			for _, kind := range []string{"packs", "stac", "logs", "dtn", "pki"} {
				b := fmt.Sprintf("arn:aws:s3:::spatial-%s-spatialprops-%s-%s", kind, env, region)
				checks = append(checks, iameval.Deny(planRole(env), "s3:GetObject", b+"/any/object"),
					iameval.Deny(planRole(env), "s3:GetObjectVersion", b+"/any/object"))
			}
			for _, table := range arnsOf(t, m, "aws_dynamodb_table") {
				for _, a := range []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem"} {
					checks = append(checks, iameval.Deny(planRole(env), a, table))
				}
			}
			for _, q := range arnsOf(t, m, "aws_sqs_queue") {
				checks = append(checks, iameval.Deny(planRole(env), "sqs:ReceiveMessage", q))
			}
			checks = append(checks,
				iameval.Deny(planRole(env), "secretsmanager:GetSecretValue", iamArn("secretsmanager", "secret:spatialprops/"+env+"/grafana-AbCdEf")),
				iameval.Deny(planRole(env), "ssm:GetParameter", iamArn("ssm", "parameter/anything")),
				iameval.Allow(planRole(env), "s3:GetObject", fmt.Sprintf("arn:aws:s3:::tfstate-spatialprops-%s-%s/%s/cicd.tfstate", env, region, env)).
					Because("a plan reads its env's state"),
			)
			iameval.Expect(t, m, checks...)
		})
	}
}

// IAM refuses a managed policy over 6,144 characters and a role's inline
// policies over 10,240 in all (whitespace not counted): measured on the
// resolved documents, with real-length ARNs, so a growing policy fails
// here rather than in the first deploy.
func TestIAMPoliciesFitIAMsLimits(t *testing.T) {
	size := func(doc map[string]any) int {
		raw, err := json.Marshal(doc)
		require.NoError(t, err)
		return len(raw)
	}
	for _, env := range iamEnvs {
		m := iamModel(t, env)
		for arn, p := range m.Policies {
			require.LessOrEqual(t, size(p.Document), 6144, "%s: managed policy %s", env, arn)
		}
		for _, r := range m.Roles {
			total := 0
			for _, p := range r.Inline {
				total += size(p.Document)
			}
			require.LessOrEqual(t, total, 10240, "%s: inline policies of %s", env, r.Name)
			require.LessOrEqual(t, size(r.Trust.Document), 2048, "%s: trust policy of %s", env, r.Name)
		}
	}
}

// Finding 5: the GitHub roles trust reviewed workflow files on main, not
// only a GitHub environment's name. The repository's subject template
// (the github stack) puts job_workflow_ref into the sub claim.
func TestIAMGitHubRolesTrustReviewedWorkflowsOnMain(t *testing.T) {
	const repo = "spatialprops/spatialprops-infra"
	provider := "arn:aws:iam::" + iameval.Account + ":oidc-provider/token.actions.githubusercontent.com"
	sub := func(context, workflow, ref string) string {
		return "repo:" + repo + ":" + context + ":job_workflow_ref:" + repo + "/.github/workflows/" + workflow + "@" + ref
	}
	assume := func(allow bool, role, subject string) iameval.Check {
		c := iameval.Deny(provider, "sts:AssumeRoleWithWebIdentity", roleArn("/", role),
			"token.actions.githubusercontent.com:sub", subject, "token.actions.githubusercontent.com:aud", "sts.amazonaws.com")
		c.Want = allow
		return c.Because(subject)
	}
	for _, env := range iamEnvs {
		t.Run(env, func(t *testing.T) {
			infra, svc := "environment:"+env+"-infra", "environment:"+env+"-deploy-pack-service"
			packDeploy := prefix(env) + "-gha-deploy-pack-service"
			checks := []iameval.Check{
				assume(true, deployRole(env), sub(infra, "infra-deploy.yml", "refs/heads/main")),
				assume(true, deployRole(env), sub(infra, "security.yml", "refs/heads/main")),
				assume(false, deployRole(env), sub(infra, "infra-deploy.yml", "refs/heads/attacker")).Because("a branch's own copy of the workflow"),
				assume(false, deployRole(env), sub(infra, "edited.yml", "refs/heads/main")),
				assume(false, deployRole(env), "repo:"+repo+":"+infra).Because("an environment name alone is not enough"),
				assume(false, deployRole(env), sub("pull_request", "infra-ci.yml", "refs/pull/7/merge")),
				assume(true, packDeploy, sub(svc, "deploy-pack-service.yml", "refs/heads/main")),
				assume(false, packDeploy, sub(svc, "deploy-pack-service.yml", "refs/heads/attacker")),
				assume(false, packDeploy, sub(svc, "infra-deploy.yml", "refs/heads/main")),
				assume(false, packDeploy, sub(svc, "deploy-frontend.yml", "refs/heads/main")).Because("another service's workflow in its environment"),
				assume(false, packDeploy, sub(infra, "deploy-pack-service.yml", "refs/heads/main")),
				assume(false, packDeploy, "repo:"+repo+":"+svc).Because("an environment name alone is not enough"),
				assume(true, planRole(env), sub("ref:refs/heads/main", "security.yml", "refs/heads/main")).Because("weekly drift"),
				assume(false, planRole(env), sub("pull_request", "edited.yml", "refs/pull/7/merge")),
			}
			if env == "prod" {
				checks = append(checks,
					assume(true, planRole(env), sub("environment:prod-plan", "infra-ci.yml", "refs/pull/7/merge")).Because("an approved prod plan"),
					assume(false, planRole(env), sub("pull_request", "infra-ci.yml", "refs/pull/7/merge")).Because("unreviewed PR code never gets prod credentials"))
			} else {
				checks = append(checks, assume(true, planRole(env), sub("pull_request", "infra-ci.yml", "refs/pull/7/merge")))
			}
			iameval.Expect(t, iamModel(t, env), checks...)
		})
	}
}

// A role under the boundary signs only with the provenance attestation
// key: no other asymmetric key of the env (a CA's KMS root key, say)
// signs for a role CI could create.
func TestIAMBoundarySignsOnlyAttestationsAndURLs(t *testing.T) {
	for _, env := range iamEnvs {
		t.Run(env, func(t *testing.T) {
			m := iamModel(t, env)
			anyRole := roleArn(workloadPath, prefix(env)+"-whatever")
			gate := roleArn(workloadPath, prefix(env)+"-irsa-provenance-gate")
			presigner := roleArn(workloadPath, prefix(env)+"-irsa-cdn-presigner")
			var provenance, signer, other string
			for key, aliases := range m.KeyAliases {
				for _, a := range aliases {
					switch {
					case a == "alias/"+prefix(env)+"-provenance":
						provenance = key
					case a == "alias/"+prefix(env)+"-cdn-signer":
						signer = key
					case m.ResourceTags[key]["Environment"] == env && other == "":
						other = key
					}
				}
			}
			require.NotEmpty(t, provenance, "the marketplace's attestation key")
			require.NotEmpty(t, signer, "the CDN's URL signing key")
			require.NotEmpty(t, other)
			signing := []string{"kms:SigningAlgorithm", "ECDSA_SHA_256", "kms:MessageType", "RAW"}
			iameval.Expect(t, m,
				iameval.Allow(gate, "kms:Sign", provenance).As(boundaryArn(env), iameval.AllowAll),
				iameval.Allow(presigner, "kms:Sign", signer, signing...).As(boundaryArn(env), iameval.AllowAll),
				iameval.Deny(anyRole, "kms:Sign", other).As(boundaryArn(env), iameval.AllowAll).Because("only attestations and CDN URLs are signed"),
				iameval.Deny(anyRole, "kms:Sign", provenance).As(boundaryArn(env), iameval.AllowAll).Because("the key names its one signer"),
				iameval.Deny(anyRole, "kms:Sign", signer, signing...).As(boundaryArn(env), iameval.AllowAll).Because("the key names its one signer"),
			)
		})
	}
}
