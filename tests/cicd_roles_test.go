package tests

import (
	"encoding/json"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
)

// iamMatches reports whether an IAM action pattern (with * and ?) covers
// action, case-insensitively, as IAM evaluates it.
func iamMatches(pattern, action string) bool {
	ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(action))
	return ok
}

// condition returns the values of the condition on variable in st.
func condition(st gjson.Result, variable string) (test string, values []string) {
	for _, c := range st.Get("condition").Array() {
		if c.Get("variable").String() == variable {
			return c.Get("test").String(), strs(c.Get("values"))
		}
	}
	return "", nil
}

// dataReads are what a pull request must never be able to read: written
// out here, independently of stacks.DataReadActions.
var dataReads = []string{
	"s3:GetObject", "s3:GetObjectVersion", "secretsmanager:GetSecretValue",
	"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath",
	"logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery",
	"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem",
	"sqs:ReceiveMessage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
}

func TestPlanRoleReadsNoData(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			doc := stack(t, env+"-cicd").Doc
			stateObjects := "arn:aws:s3:::tfstate-spatialprops-" + env + "-ap-southeast-2/" + env + "/*"
			caBundle := "arn:aws:s3:::spatial-pki-spatialprops-" + env + "-ap-southeast-2/trust/device-ca.pem"
			// no managed policy: ReadOnlyAccess reads objects, parameters and logs
			for _, a := range resources(doc, "aws_iam_role_policy_attachment") {
				assert.NotContains(t, a.Get("role").String(), "gha-infra-plan", "the plan role must not carry a managed policy")
			}
			sawDeny := false
			for _, st := range policyDoc(t, doc, "gha-infra-plan_permissions").Get("statement").Array() {
				if st.Get("effect").String() == "Deny" {
					sawDeny = sawDeny || st.Get("sid").String() == "NoDataReads"
					continue
				}
				res := strs(st.Get("resources"))
				for _, pattern := range strs(st.Get("actions")) {
					for _, read := range dataReads {
						if !iamMatches(pattern, read) {
							continue
						}
						// the only data the plan reads: its env's state files, and it
						// heads the public CA bundle (the device CA's certificate) to refresh it
						switch {
						case read == "s3:GetObject" && assert.ObjectsAreEqual([]string{stateObjects}, res):
						case read == "s3:GetObject" && assert.ObjectsAreEqual([]string{caBundle}, res):
						default:
							t.Errorf("%s grants %s (via %s) on %v", st.Get("sid"), read, pattern, res)
						}
					}
					assert.NotContains(t, []string{"*", "*:*"}, pattern)
					assert.False(t, strings.HasSuffix(pattern, ":*"), "%s: no whole-service grants on the plan role", pattern)
				}
				assert.False(t, strings.Contains(strings.Join(strs(st.Get("actions")), ","), "Put") ||
					strings.Contains(strings.Join(strs(st.Get("actions")), ","), "Delete"), "%s: plans write nothing", st.Get("sid"))
			}
			assert.True(t, sawDeny, "data reads are denied outright, so a later broad grant cannot leak them")

			// Kubernetes: view without Secrets, not AmazonEKSAdminViewPolicy
			for _, a := range resources(doc, "aws_eks_access_policy_association") {
				if strings.Contains(a.Get("principal_arn").String(), "access-infra-plan") {
					assert.Equal(t, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", a.Get("policy_arn").String())
				}
			}
		})
	}
}

func TestDeployRoleIsBounded(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		t.Run(env, func(t *testing.T) {
			doc := stack(t, env+"-cicd").Doc
			boundary := "arn:aws:iam::${data.aws_caller_identity.caller.account_id}:policy/spatialprops-" + env + "-workload-boundary"
			stateBucket := "arn:aws:s3:::tfstate-spatialprops-" + env + "-ap-southeast-2"
			var sids []string
			var statements []gjson.Result
			for _, id := range []string{"gha-infra-deploy_permissions", "gha-infra-deploy-network-document", "gha-infra-deploy-guardrails-document", "gha-infra-deploy-identity-document", "gha-infra-deploy-services-document", "gha-infra-deploy-cdn-document"} {
				statements = append(statements, policyDoc(t, doc, id).Get("statement").Array()...)
			}
			// the managed parts are attached to the role
			attached := 0
			for _, a := range resources(doc, "aws_iam_role_policy_attachment") {
				if strings.Contains(a.Get("role").String(), "gha-infra-deploy") && strings.Contains(a.Get("policy_arn").String(), "aws_iam_policy.gha-infra-deploy-") {
					attached++
				}
			}
			assert.Equal(t, 5, attached, "the network, identity, service and CDN grants and the denies only bind if attached")
			for _, st := range statements {
				sid, actions, res := st.Get("sid").String(), strs(st.Get("actions")), strs(st.Get("resources"))
				sids = append(sids, sid)
				for _, c := range st.Get("condition").Array() {
					assert.NotEqual(t, "aws:ResourceTag/Service", c.Get("variable").String(), "%s: a tag the role can change protects nothing", sid)
				}
				if st.Get("effect").String() == "Deny" {
					continue
				}
				for _, a := range actions {
					assert.NotContains(t, []string{"*", "*:*", "iam:*", "s3:*", "kms:*", "ec2:*", "sqs:*"}, a, sid)
					assert.NotEqual(t, "s3:DeleteBucketOwnershipControls", a, "not an IAM action")
					if strings.HasSuffix(a, ":*") {
						// a whole service only on this env's named resources
						for _, r := range res {
							assert.Contains(t, r, "spatialprops-"+env+"-eks", "%s: %s on %s", sid, a, r)
						}
					}
					for _, write := range []string{"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"} {
						if iamMatches(a, write) {
							test, vals := condition(st, "iam:PermissionsBoundary")
							assert.Equal(t, "StringEquals", test, "%s: %s without the boundary condition", sid, write)
							assert.Equal(t, []string{boundary}, vals, sid)
						}
					}
					if iamMatches(a, "iam:AttachRolePolicy") {
						_, arns := condition(st, "iam:PolicyARN")
						assert.NotEmpty(t, arns, "%s: attach needs a policy allowlist", sid)
						for _, p := range arns {
							assert.NotContains(t, p, "AdministratorAccess")
							assert.NotContains(t, p, "IAMFullAccess")
						}
					}
					if iamMatches(a, "iam:CreateServiceLinkedRole") {
						test, names := condition(st, "iam:AWSServiceName")
						assert.Equal(t, "StringEquals", test, sid)
						assert.NotEmpty(t, names)
					}
					if strings.HasPrefix(a, "iam:") && !strings.HasPrefix(a, "iam:Get") && !strings.HasPrefix(a, "iam:List") {
						for _, r := range res {
							assert.True(t, strings.Contains(r, ":role/workload/spatialprops-"+env+"-") || strings.Contains(r, ":oidc-provider/oidc.eks.") ||
								strings.Contains(r, ":role/aws-service-role/"), "%s: %s on %s", sid, a, r)
						}
					}
					if strings.HasPrefix(a, "s3:") && a != "s3:ListBucket" {
						assert.NotContains(t, res, stateBucket, "%s: %s: CI never reshapes the state bucket", sid, a)
					}
					// every write on "*" is scoped by a condition
					if len(res) == 1 && res[0] == "*" && !isRead(a) && !takesNoResourceOrTag[a] {
						assert.NotEmpty(t, st.Get("condition").Array(), "%s: %s on * needs a tag or name condition", sid, a)
					}
				}
			}
			for _, want := range []string{"NoSelfEscalation", "BoundaryStays", "NoRoleChaining", "StateStoreIsHumanOnly", "StateKeyAliasStays", "StateKeyIsHumanOnly"} {
				assert.Contains(t, sids, want)
			}
			for _, st := range statements {
				if st.Get("sid").String() == "StateStoreIsHumanOnly" {
					assert.Contains(t, strs(st.Get("resources")), stateBucket, "protected by ARN")
					assert.Empty(t, st.Get("condition").Array(), "no condition the role could defeat")
				}
			}
		})
	}
}

// takesNoResourceOrTag are writes IAM authorizes only on "*" and without
// a tag condition key: nothing narrower can be written for them.
var takesNoResourceOrTag = map[string]bool{
	"cloudfront:CreateOriginAccessControl": true, "cloudfront:CreateResponseHeadersPolicy": true,
	"logs:CreateLogDelivery": true, "logs:DeleteLogDelivery": true, "logs:DeleteResourcePolicy": true,
	"logs:PutResourcePolicy": true, "logs:UpdateLogDelivery": true,
	// the CDN's URL-signing public key and key group (docs/storage-cdn.md)
	"cloudfront:CreateKeyGroup": true, "cloudfront:CreatePublicKey": true, "cloudfront:DeleteKeyGroup": true,
	"cloudfront:DeletePublicKey": true, "cloudfront:UpdateKeyGroup": true, "cloudfront:UpdatePublicKey": true,
}

func isRead(action string) bool {
	verb := action[strings.Index(action, ":")+1:]
	for _, p := range []string{"Describe", "Get", "List", "BatchGet"} {
		if strings.HasPrefix(verb, p) {
			return true
		}
	}
	return false
}

func TestEveryWorkloadRoleCarriesTheBoundary(t *testing.T) {
	// The deploy role can create a role only with the boundary, so every
	// role in the stacks it deploys must declare it, or the deploy fails.
	seen := 0
	for _, s := range allStacks(t) {
		for _, r := range resources(s.Doc, "aws_iam_role") {
			if strings.Contains(r.Get("name").String(), "-gha-") && !strings.HasSuffix(r.Get("name").String(), "-runner") ||
				strings.HasSuffix(r.Get("name").String(), "-device-revocation") || strings.HasSuffix(r.Get("name").String(), "-pki-ceremony") ||
				strings.HasSuffix(s.ID, "-state") {
				continue // the GitHub, operator and state-stack (AWS Backup) roles: human-deployed, CI cannot touch them
			}
			seen++
			assert.Equal(t, "arn:aws:iam::${data.aws_caller_identity.caller.account_id}:policy/spatialprops-"+s.Env+"-workload-boundary",
				r.Get("permissions_boundary").String(), "%s: role %s", s.ID, r.Get("name"))
		}
	}
	assert.GreaterOrEqual(t, seen, 3*8, "flow logs, cluster, node, EBS CSI, autoscaler, LBC, DTN gateway, runner per env")
}

func TestWorkloadBoundaryLivesWithTheStateStore(t *testing.T) {
	doc := stack(t, "prod-state").Doc
	policies := resources(doc, "aws_iam_policy")
	require.Len(t, policies, 1)
	assert.Equal(t, "spatialprops-prod-workload-boundary", policies[0].Get("name").String())
	var denied []string
	for _, st := range policyDoc(t, doc, "workload-boundary_document").Get("statement").Array() {
		if st.Get("effect").String() == "Deny" {
			denied = append(denied, strs(st.Get("resources"))...)
			continue
		}
		for _, a := range strs(st.Get("actions")) {
			assert.False(t, iamMatches(a, "iam:CreateRole") || iamMatches(a, "iam:PutRolePolicy") || iamMatches(a, "sts:AssumeRole"),
				"a bounded role must not create roles or chain into others (%s)", a)
		}
	}
	assert.Contains(t, denied, "arn:aws:s3:::tfstate-spatialprops-prod-ap-southeast-2/*", "workloads never touch state")
}

func TestClusterAccessIsOnlyThroughEntries(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-cluster").Doc
		c := resources(doc, "aws_eks_cluster")[0]
		assert.Equal(t, "API", c.Get("access_config.authentication_mode").String(), env)
		assert.Equal(t, false, c.Get("access_config.bootstrap_cluster_creator_admin_permissions").Value(), env)
		entries := resources(doc, "aws_eks_access_entry")
		require.Len(t, entries, 1, "%s: the break-glass role is the only human entry", env)
		assert.Regexp(t, `^arn:aws:iam::\d{12}:role/spatialprops-`+env+`-break-glass$`, entries[0].Get("principal_arn").String())
	}
	// and the CI roles' entries, each with its listed scope
	byPolicy := map[string]string{}
	for _, a := range resources(stack(t, "prod-cicd").Doc, "aws_eks_access_policy_association") {
		byPolicy[a.Get("principal_arn").String()] = a.Get("policy_arn").String() + " " + a.Get("access_scope.type").String()
	}
	want := map[string]string{
		"${aws_eks_access_entry.access-infra-plan.principal_arn}":   "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy cluster",
		"${aws_eks_access_entry.access-infra-deploy.principal_arn}": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy cluster",
	}
	// one Edit entry per service its own workflow deploys; none for the
	// privileged workloads, which only the infra stacks deploy
	for _, svc := range []string{"pack-service", "frontend", "mcp-gateway", "dtn-gateway", "uplink-satellite", "uplink-lpwan",
		"beacons", "beacons-admin", "beacon-rotate", "edge-sync", "marketplace-api", "marketplace-ui"} {
		want["${aws_eks_access_entry.access-gha-deploy-"+svc+".principal_arn}"] = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy namespace"
	}
	assert.Equal(t, want, byPolicy)
}

func TestRunnersSitInTheVPC(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-cicd").Doc
		projects := resources(doc, "aws_codebuild_project")
		require.Len(t, projects, 2)
		var names []string
		for _, p := range projects {
			names = append(names, p.Get("name").String())
			subnets := strs(p.Get("vpc_config.subnets"))
			require.Len(t, subnets, 3)
			for _, sn := range subnets {
				assert.Contains(t, sn, "aws_subnetvpc_private-", "%s: in the private subnets, which have no route from the internet", env)
			}
			assert.Equal(t, "CODECONNECTIONS", p.Get("source.auth.type").String(), "no token in state")
			assert.False(t, p.Get("environment.privileged_mode").Bool())
		}
		assert.ElementsMatch(t, []string{"spatialprops-" + env + "-gha-runner", "spatialprops-" + env + "-gha-plan-runner"}, names,
			"workflows address them by these names")
		assert.Len(t, resources(doc, "aws_codeconnections_connection"), 1, "one GitHub handshake per env")
		// no ingress on the runners; the cluster admits them on 443 only
		for _, sg := range resources(doc, "aws_security_group") {
			assert.Empty(t, sg.Get("ingress").Array())
		}
		assert.Len(t, resources(doc, "aws_vpc_security_group_egress_rule"), 2)
		in := resources(doc, "aws_vpc_security_group_ingress_rule")
		require.Len(t, in, 2)
		for _, rule := range in {
			assert.Contains(t, rule.Get("security_group_id").String(), "cluster_security_group_id")
			assert.Equal(t, int64(443), rule.Get("from_port").Int())
			assert.Contains(t, rule.Get("referenced_security_group_id").String(), "aws_security_group.")
		}
	}
	// with CI inside the VPC, prod has no public endpoint at all
	c := resources(stack(t, "prod-cluster").Doc, "aws_eks_cluster")[0]
	assert.False(t, c.Get("vpc_config.endpoint_public_access").Bool())
	assert.False(t, c.Get("vpc_config.public_access_cidrs").Exists())
}

// iamJSON renders a policy document the way IAM measures it: minified,
// with a real 12-digit account id in place of the lookup.
func iamJSON(t *testing.T, doc gjson.Result) string {
	t.Helper()
	var sts []map[string]any
	for _, st := range doc.Get("statement").Array() {
		o := map[string]any{"Sid": st.Get("sid").String(), "Effect": st.Get("effect").String(), "Action": strs(st.Get("actions"))}
		for _, k := range []string{"resources", "not_resources"} {
			var rs []string
			for _, r := range strs(st.Get(k)) {
				rs = append(rs, strings.ReplaceAll(r, "${data.aws_caller_identity.caller.account_id}", "123456789012"))
			}
			if rs != nil {
				o[k] = rs
			}
		}
		cond := map[string]map[string][]string{}
		for _, c := range st.Get("condition").Array() {
			if cond[c.Get("test").String()] == nil {
				cond[c.Get("test").String()] = map[string][]string{}
			}
			cond[c.Get("test").String()][c.Get("variable").String()] = strs(c.Get("values"))
		}
		if len(cond) > 0 {
			o["Condition"] = cond
		}
		sts = append(sts, o)
	}
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": sts})
	require.NoError(t, err)
	return string(b)
}

func TestRolePoliciesFitIAMLimits(t *testing.T) {
	// IAM refuses an inline policy set over 10,240 characters per role and a
	// managed policy over 6,144 at apply time, long after the plan looked
	// fine. Keep a margin for a longer org name.
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-cicd").Doc
		for _, role := range []string{"gha-infra-plan", "gha-infra-deploy", "gha-deploy-pack-service"} {
			n := len(iamJSON(t, policyDoc(t, doc, role+"_permissions")))
			assert.Less(t, n, 10240-1000, "%s %s inline policy is %d characters", env, role, n)
		}
		for _, managed := range []string{"gha-infra-deploy-network-document", "gha-infra-deploy-guardrails-document", "gha-infra-deploy-identity-document", "gha-infra-deploy-services-document", "gha-infra-deploy-cdn-document"} {
			n := len(iamJSON(t, policyDoc(t, doc, managed)))
			assert.Less(t, n, 6144-500, "%s %s is %d characters", env, managed, n)
		}
	}
}

// Finding 4: a runner starts a build only for the jobs it is for. The
// webhook filters (all of one group must match; CodeBuild's regular
// expressions, which these patterns share with Go's) are run against the
// jobs a pull request could queue.
func TestRunnersRunOnlyReviewedCode(t *testing.T) {
	type job struct{ workflow, ref string }
	accepts := func(hook gjson.Result, j job) bool {
		for _, g := range hook.Get("filter_group").Array() {
			all := true
			for _, f := range g.Get("filter").Array() {
				value := map[string]string{"EVENT": "WORKFLOW_JOB_QUEUED", "WORKFLOW_NAME": j.workflow, "HEAD_REF": j.ref}[f.Get("type").String()]
				if f.Get("type").String() == "EVENT" {
					all = all && strings.Contains(f.Get("pattern").String(), value)
					continue
				}
				ok, err := regexp.MatchString(f.Get("pattern").String(), value)
				require.NoError(t, err)
				all = all && ok
			}
			if all {
				return true
			}
		}
		return false
	}
	for _, env := range []string{"dev", "staging", "prod"} {
		var deploy, plan gjson.Result
		for _, h := range resources(stack(t, env+"-cicd").Doc, "aws_codebuild_webhook") {
			switch project := h.Get("project_name").String(); {
			case strings.HasPrefix(project, "${aws_codebuild_project.gha-runner_project"):
				deploy = h
			case strings.HasPrefix(project, "${aws_codebuild_project.gha-plan-runner_project"):
				plan = h
			}
		}
		require.True(t, deploy.Exists() && plan.Exists(), "%s: a webhook per runner project", env)
		for _, c := range []struct {
			hook gjson.Result
			j    job
			want bool
		}{
			{deploy, job{"infra-deploy", "refs/heads/main"}, true},
			{deploy, job{"deploy-pack-service", "refs/heads/main"}, true},
			{deploy, job{"security", "refs/heads/main"}, true},
			{deploy, job{"infra-deploy", "refs/heads/attacker"}, false},
			{deploy, job{"infra-ci", "refs/heads/main"}, false},
			{deploy, job{"edited-to-run-here", "refs/heads/main"}, false},
			{deploy, job{"infra-deploy-evil", "refs/heads/main"}, false},
			{deploy, job{"infra-deploy", "refs/heads/main-evil"}, false},
			{plan, job{"infra-ci", "refs/pull/7/merge"}, true},
			{plan, job{"infra-deploy", "refs/heads/main"}, false},
			{plan, job{"edited-to-run-here", "refs/pull/7/merge"}, false},
		} {
			assert.Equal(t, c.want, accepts(c.hook, c.j), "%s: %v", env, c.j)
		}
	}
}
