package tests

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/iameval"
)

// Who may do what with the trust anchors (issue 22, docs/edge-identity.md,
// docs/cicd.md "Per-service deploy roles", docs/storage-cdn.md), evaluated
// with IAM's semantics on every env's synthesized stacks, over every role
// of the model: each promise says who may, and that nobody else can.
// Names are written out here, independently of the code that builds them.

func template(name string) string { return "arn:aws:acm-pca:::template/" + name + "/V1" }

// issuingTemplates are the end-entity templates plus the two that make a
// CA certificate, and one that makes no sense here.
var issuingTemplates = []string{
	"EndEntityClientAuthCertificate", "EndEntityServerAuthCertificate", "EndEntityCertificate",
	"SubordinateCACertificate_PathLen0", "RootCACertificate", "CodeSigningCertificate",
}

// trustFixture are the ARNs the promises talk about.
type trustFixture struct {
	env                            string
	m                              *iameval.Model
	deviceCA, serviceCA            string
	rootKey, cdnKey, provenanceKey string // provenanceKey "" without the marketplace
	packs, distribution            string
	roles                          []string // every role name of the model
}

func newTrustFixture(t *testing.T, env string) trustFixture {
	t.Helper()
	m := iamModel(t, env)
	f := trustFixture{env: env, m: m, packs: fmt.Sprintf("arn:aws:s3:::spatial-packs-spatialprops-%s-%s", env, region)}
	ca := func(name string) string {
		v, err := m.Env.Attr(env+"-identity", "aws_acmpca_certificate_authority."+name, "arn")
		require.NoError(t, err, "%s: the %s", env, name)
		return v.(string)
	}
	f.deviceCA, f.serviceCA = ca("device-ca"), ca("service-ca")
	keys := map[string]string{}
	for arn, aliases := range m.KeyAliases {
		for _, a := range aliases {
			keys[a] = arn
		}
	}
	f.rootKey, f.cdnKey, f.provenanceKey = keys["alias/"+prefix(env)+"-pki-root"], keys["alias/"+prefix(env)+"-cdn-signer"], keys["alias/"+prefix(env)+"-provenance"]
	require.NotEmpty(t, f.rootKey, "%s: the root CA key by its alias", env)
	require.NotEmpty(t, f.cdnKey, "%s: the CDN signing key by its alias", env)
	for name := range m.Env.Blocks(env+"-cdn", "resource", "aws_cloudfront_distribution") {
		v, err := m.Env.Attr(env+"-cdn", "aws_cloudfront_distribution."+name, "arn")
		require.NoError(t, err)
		f.distribution = v.(string)
	}
	require.NotEmpty(t, f.distribution, "%s: the CDN distribution", env)
	f.roles = m.RoleNames()
	require.Greater(t, len(f.roles), 20)
	return f
}

// eachEnv runs test for every env's fixture.
func eachEnv(t *testing.T, test func(t *testing.T, f trustFixture)) {
	for _, env := range iamEnvs {
		t.Run(env, func(t *testing.T) { test(t, newTrustFixture(t, env)) })
	}
}

func (f trustFixture) role(purpose string) string { return prefix(f.env) + "-" + purpose }

// want is Allow when allowed, else Deny.
func want(allowed bool, principal, action, resource string, ctx ...string) iameval.Check {
	if allowed {
		return iameval.Allow(principal, action, resource, ctx...)
	}
	return iameval.Deny(principal, action, resource, ctx...)
}

// lenient accepts context keys the action ignores (the check states the
// decision, not a condition under test).
func lenient(c iameval.Check) iameval.Check {
	c.Lenient = true
	return c
}

// Issuance: end-entity certificates only, from the CA each issuer is for,
// and nobody else issues at all. No role of any stack (CI's, the
// operators', any workload's) can issue a CA certificate.
func TestIAMOnlyEndEntityIssuanceFromTheRightCA(t *testing.T) {
	eachEnv(t, func(t *testing.T, f trustFixture) {
		issuer, enroll := f.role("irsa-pca-issuer"), f.role("irsa-device-enrollment")
		var checks []iameval.Check
		for _, r := range f.roles {
			for ca, arn := range map[string]string{"device": f.deviceCA, "service": f.serviceCA} {
				for _, tpl := range issuingTemplates {
					allowed := r == issuer && ca == "service" && strings.HasPrefix(tpl, "EndEntity") ||
						r == enroll && ca == "device" && tpl == "EndEntityClientAuthCertificate"
					checks = append(checks, want(allowed, r, "acm-pca:IssueCertificate", arn, "acm-pca:TemplateArn", template(tpl)).
						Because(fmt.Sprintf("%s from the %s CA", tpl, ca)))
				}
			}
		}
		iameval.Expect(t, f.m, checks...)
	})
}

// A subordinate CA becomes trusted only through the ceremony role (CA
// certificate import), and device certificates are revoked only by the
// operators' revocation role, on the device CA.
func TestIAMOnlyTheCeremonyInstallsCAsAndOnlyOperatorsRevoke(t *testing.T) {
	eachEnv(t, func(t *testing.T, f trustFixture) {
		ceremony, revoke := f.role("pki-ceremony"), f.role("device-revocation")
		var checks []iameval.Check
		for _, r := range f.roles {
			for _, arn := range []string{f.deviceCA, f.serviceCA} {
				checks = append(checks, want(r == ceremony, r, "acm-pca:ImportCertificateAuthorityCertificate", arn))
			}
			checks = append(checks,
				want(r == revoke, r, "acm-pca:RevokeCertificate", f.deviceCA),
				iameval.Deny(r, "acm-pca:RevokeCertificate", f.serviceCA).Because("the service CA keeps no revocation list"))
		}
		iameval.Expect(t, f.m, checks...)
	})
}

// The offline root: only the ceremony role signs with it, only with MFA;
// CI and every workload role (whatever a bounded role's own policy says)
// can neither sign nor take the key over; whoever deploys the cicd stack
// can still administer it but not sign.
func TestIAMOnlyTheCeremonySignsWithTheRoot(t *testing.T) {
	eachEnv(t, func(t *testing.T, f trustFixture) {
		env := f.env
		ceremony := f.role("pki-ceremony")
		key := f.rootKey
		checks := []iameval.Check{
			iameval.Allow(ceremony, "kms:Sign", key, "aws:MultiFactorAuthPresent", "true", "kms:SigningAlgorithm", "ECDSA_SHA_384"),
			iameval.Deny(ceremony, "kms:Sign", key, "aws:MultiFactorAuthPresent", "false", "kms:SigningAlgorithm", "ECDSA_SHA_384").Because("no MFA"),
			iameval.Deny(ceremony, "kms:PutKeyPolicy", key),
			iameval.Deny(ceremony, "kms:CreateGrant", key, "kms:GranteePrincipal", roleArn("/", "someone")),
		}
		for _, r := range f.roles {
			if r != ceremony {
				checks = append(checks, iameval.Deny(r, "kms:Sign", key, "aws:MultiFactorAuthPresent", "true"))
			}
		}
		takeover := []string{"kms:PutKeyPolicy", "kms:CreateGrant", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:UpdateAlias", "kms:TagResource"}
		for _, a := range takeover {
			checks = append(checks,
				lenient(iameval.Deny(deployRole(env), a, key)).Because("CI may change this env's keys, but not the root"),
				lenient(iameval.Deny(roleArn(workloadPath, prefix(env)+"-anything"), a, key).As(boundaryArn(env), iameval.AllowAll)).
					Because("whatever a bounded role's own policy says"))
		}
		admin := roleArn("/", "cicd-deployer")
		checks = append(checks,
			iameval.Allow(admin, "kms:PutKeyPolicy", key).As("", iameval.AllowAll).Because("the key's policy does not lock its administrators out"),
			iameval.Deny(admin, "kms:Sign", key, "aws:MultiFactorAuthPresent", "true").As("", iameval.AllowAll).Because("administering is not signing"),
		)
		iameval.Expect(t, f.m, checks...)
	})
}

// Licensed URLs and attestations: only the presigner signs with the CDN
// key, only the provenance gate with the provenance key, and only the gate
// writes published/.
func TestIAMOnlyThePresignerAndTheGateSign(t *testing.T) {
	eachEnv(t, func(t *testing.T, f trustFixture) {
		presigner, gate := f.role("irsa-cdn-presigner"), f.role("irsa-provenance-gate")
		var checks []iameval.Check
		for _, r := range f.roles {
			checks = append(checks,
				want(r == presigner, r, "kms:Sign", f.cdnKey, "kms:SigningAlgorithm", "ECDSA_SHA_256", "kms:MessageType", "RAW"),
				lenient(want(r == gate, r, "s3:PutObject", f.packs+"/published/licensed/p/1/data.pmtiles")))
			if f.provenanceKey != "" {
				checks = append(checks, want(r == gate, r, "kms:Sign", f.provenanceKey, "kms:SigningAlgorithm", "ECDSA_SHA_256", "kms:MessageType", "RAW"))
			}
		}
		checks = append(checks,
			iameval.Deny(presigner, "kms:Sign", f.cdnKey, "kms:SigningAlgorithm", "ECDSA_SHA_256", "kms:MessageType", "DIGEST").
				Because("a digest would let the caller sign a policy it did not show"),
			iameval.Deny(presigner, "kms:Sign", f.rootKey, "kms:SigningAlgorithm", "ECDSA_SHA_384", "kms:MessageType", "RAW"))
		iameval.Expect(t, f.m, checks...)
	})
}

// CloudFront reads published/ only, and only for this env's distribution:
// staging/ (unattested uploads) is never served.
func TestIAMCloudFrontReadsOnlyPublished(t *testing.T) {
	eachEnv(t, func(t *testing.T, f trustFixture) {
		cf := "cloudfront.amazonaws.com"
		other := "arn:aws:cloudfront::" + iameval.Account + ":distribution/EOTHERDIST00000"
		read := func(allowed bool, key, source string) iameval.Check {
			return lenient(want(allowed, cf, "s3:GetObject", f.packs+"/"+key, "aws:SourceArn", source, "aws:SourceAccount", iameval.Account))
		}
		iameval.Expect(t, f.m,
			read(true, "published/open/p/1/data.pmtiles", f.distribution),
			read(true, "published/licensed/p/1/data.pmtiles", f.distribution),
			read(false, "staging/acme/p/1/data.pmtiles", f.distribution).Because("staging/ is never served"),
			read(false, "published/open/p/1/data.pmtiles", other).Because("another distribution"),
			lenient(want(false, cf, "s3:PutObject", f.packs+"/published/open/p/1/data.pmtiles", "aws:SourceArn", f.distribution)),
		)
	})
}

// A service's deploy role is its workflow's alone and reaches its own
// image only: no other service's workflow can assume it, it pushes no
// other repository (a privileged workload's included), and it holds none
// of the privileged workloads' powers.
func TestIAMServiceDeployRolesStayInTheirLane(t *testing.T) {
	const github = "token.actions.githubusercontent.com"
	eachEnv(t, func(t *testing.T, f trustFixture) {
		env := f.env
		deployPrefix := prefix(env) + "-gha-deploy-"
		var services []string
		for _, r := range f.roles {
			if svc, ok := strings.CutPrefix(r, deployPrefix); ok {
				services = append(services, svc)
			}
		}
		sort.Strings(services)
		require.Contains(t, services, "dtn-gateway")
		require.Contains(t, services, "device-enrollment")
		repos := map[string]string{}
		for _, arn := range arnsOf(t, f.m, "aws_ecr_repository") {
			repos[arn[strings.LastIndex(arn, "/")+1:]] = arn
		}
		var provider string
		for arn := range f.m.Env.Blocks(env+"-cicd", "resource", "aws_iam_openid_connect_provider") {
			v, err := f.m.Env.Attr(env+"-cicd", "aws_iam_openid_connect_provider."+arn, "arn")
			require.NoError(t, err)
			provider = v.(string)
		}
		require.NotEmpty(t, provider)
		repo := "spatialprops/spatialprops-infra"
		sub := func(svc string) string {
			return "repo:" + repo + ":environment:" + env + "-deploy-" + svc + ":job_workflow_ref:" + repo + "/.github/workflows/deploy-" + svc + ".yml@refs/heads/main"
		}
		assume := func(allowed bool, role, subject string) iameval.Check {
			return want(allowed, provider, "sts:AssumeRoleWithWebIdentity", roleArn("/", role),
				github+":aud", "sts.amazonaws.com", github+":sub", subject)
		}
		privileged := []string{"irsa-device-enrollment", "irsa-cdn-presigner", "irsa-crl-sync", "irsa-pca-issuer"}
		if f.provenanceKey != "" {
			privileged = append(privileged, "irsa-provenance-gate")
		}
		var checks []iameval.Check
		for _, svc := range services {
			r := deployPrefix + svc
			other := "dtn-gateway"
			if svc == other {
				other = "beacons"
			}
			checks = append(checks,
				assume(true, r, sub(svc)),
				assume(false, r, sub(other)).Because("another service's workflow"),
				assume(false, r, "repo:spatialprops/spatialprops-infra:pull_request").Because("a pull request"),
				assume(false, r, "repo:"+repo+":environment:"+env+":job_workflow_ref:"+repo+"/.github/workflows/deploy-"+svc+".yml@refs/heads/main").Because("the env's shared environment of old"),
				assume(false, r, "repo:"+repo+":environment:"+env+"-deploy-"+svc).Because("an environment name alone is not enough"),
				assume(false, r, "repo:spatialprops/spatialprops-infra:environment:"+env+"-infra").Because("the infra environment"),
			)
			for repo, arn := range repos {
				checks = append(checks, want(repo == svc, r, "ecr:PutImage", arn).Because("only its own image"))
			}
			for _, key := range []string{f.rootKey, f.cdnKey, f.provenanceKey} {
				if key != "" {
					checks = append(checks, iameval.Deny(r, "kms:Sign", key, "aws:MultiFactorAuthPresent", "true"))
				}
			}
			checks = append(checks,
				iameval.Deny(r, "acm-pca:IssueCertificate", f.deviceCA, "acm-pca:TemplateArn", template("EndEntityClientAuthCertificate")),
				iameval.Deny(r, "acm-pca:IssueCertificate", f.serviceCA, "acm-pca:TemplateArn", template("EndEntityServerAuthCertificate")),
				lenient(iameval.Deny(r, "s3:PutObject", f.packs+"/published/open/p/1/data.pmtiles")),
				iameval.Deny(r, "eks:CreateAccessEntry", iamArn("eks", "cluster/"+prefix(env)+"-eks")).Because("no access to other namespaces"),
				iameval.Deny(r, "eks:AssociateAccessPolicy", iamArn("eks", "access-entry/"+prefix(env)+"-eks/role/"+iameval.Account+"/"+r+"/0")),
				iameval.Deny(r, "secretsmanager:GetSecretValue", iamArn("secretsmanager", "secret:spatialprops/"+env+"/nats-auth-callout-AbCdEf")),
			)
			for _, p := range privileged {
				arn := roleArn(workloadPath, prefix(env)+"-"+p)
				checks = append(checks,
					iameval.Deny(r, "sts:AssumeRole", arn).Because("cannot act as "+p),
					iameval.Deny(r, "iam:PassRole", arn, "iam:PassedToService", "eks.amazonaws.com"))
			}
		}
		iameval.Expect(t, f.m, checks...)
	})
}

// Per-purpose keys, used only through the services that hold the data: no
// role CI creates can call kms:Decrypt or GenerateDataKey on any key of its
// env directly (every grant carries kms:ViaService), and a workload reaches
// only its own owner's key: the DTN gateway the edge key through S3, never
// the devices key; the enrollment service, the presigner and the operators'
// revocation role the devices key through DynamoDB (the ledger), never the
// edge key.
func TestIAMWorkloadRolesUseKeysOnlyThroughTheirServices(t *testing.T) {
	via := func(service string) string { return service + "." + region + ".amazonaws.com" }
	eachEnv(t, func(t *testing.T, f trustFixture) {
		env := f.env
		keys := map[string]string{}
		for arn, aliases := range f.m.KeyAliases {
			for _, a := range aliases {
				keys[strings.TrimPrefix(a, "alias/"+prefix(env)+"-")] = arn
			}
		}
		for _, k := range []string{"data", "edge", "devices", "alarms"} {
			require.Contains(t, keys, k, "%s: key alias/%s-%s", env, prefix(env), k)
		}
		var checks []iameval.Check
		for _, name := range f.roles {
			r := f.m.Role(name)
			if r.Path != workloadPath {
				continue
			}
			for alias, key := range keys {
				for _, action := range []string{"kms:Decrypt", "kms:GenerateDataKey"} {
					checks = append(checks, iameval.Deny(name, action, key).Because("a direct call on "+alias+", not through a service"))
				}
			}
		}
		require.Greater(t, len(checks), 100)
		gw, enroll := f.role("irsa-dtn-gateway"), f.role("irsa-device-enrollment")
		checks = append(checks,
			iameval.Allow(gw, "kms:Decrypt", keys["edge"], "kms:ViaService", via("s3")),
			iameval.Deny(gw, "kms:Decrypt", keys["devices"], "kms:ViaService", via("dynamodb")),
			iameval.Deny(gw, "kms:Decrypt", keys["data"], "kms:ViaService", via("s3")).Because("packs and STAC are not the gateway's"),
			iameval.Allow(enroll, "kms:Decrypt", keys["devices"], "kms:ViaService", via("dynamodb")),
			iameval.Allow(enroll, "kms:GenerateDataKey", keys["devices"], "kms:ViaService", via("dynamodb")).Because("it writes the ledger"),
			iameval.Deny(enroll, "kms:Decrypt", keys["edge"], "kms:ViaService", via("s3")),
			iameval.Allow(f.role("irsa-cdn-presigner"), "kms:Decrypt", keys["devices"], "kms:ViaService", via("dynamodb")).Because("it reads the ledger"),
			iameval.Deny(f.role("irsa-cdn-presigner"), "kms:GenerateDataKey", keys["devices"], "kms:ViaService", via("dynamodb")).Because("it writes nothing"),
			iameval.Allow(f.role("device-revocation"), "kms:Decrypt", keys["devices"], "kms:ViaService", via("dynamodb")).
				With("aws:MultiFactorAuthPresent", "true").Because("rollback reads the cohort's serials"),
		)
		iameval.Expect(t, f.m, checks...)
	})
}
