package tests

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/iameval"
)

// workloadCalls are, per role purpose, one call the workload makes (from
// its code, chart or upstream policy) that IAM must allow, and one it must
// not be able to make. Every role CI creates needs an entry, so a new
// workload role states what it is for.
func workloadCalls(t *testing.T, m *iameval.Model, env string) map[string][2]iameval.Check {
	p := prefix(env)
	bucket := func(kind string) string {
		return fmt.Sprintf("arn:aws:s3:::spatial-%s-spatialprops-%s-%s", kind, env, region)
	}
	ca := func(name string) string {
		v, err := m.Env.Attr(env+"-identity", "aws_acmpca_certificate_authority."+name, "arn")
		require.NoError(t, err)
		return v.(string)
	}
	deviceCA, serviceCA := ca("device-ca"), ca("service-ca")
	secret := func(name string) string {
		for _, arn := range arnsOf(t, m, "aws_secretsmanager_secret") {
			if strings.Contains(arn, ":secret:spatialprops/"+env+"/"+name+"-") {
				return arn
			}
		}
		t.Fatalf("%s: no secret %s", env, name)
		return ""
	}
	template := func(name string) string { return "arn:aws:acm-pca:::template/" + name + "/V1" }
	beacons := iamArn("dynamodb", "table/"+p+"-beacons")
	beaconRead := func(c iameval.Check) iameval.Check {
		return c.With("dynamodb:Attributes", []string{"venueId", "beaconId", "packet"}).With("dynamodb:Select", "SPECIFIC_ATTRIBUTES")
	}
	asg := iamArn("autoscaling", "autoScalingGroup:6d3e0b1a-0000-4000-8000-000000000000:autoScalingGroupName/eks-"+p+"-nodes")
	role := func(purpose string) string { return p + "-" + purpose }
	return map[string][2]iameval.Check{
		"irsa-dtn-gateway": {
			iameval.Allow(role("irsa-dtn-gateway"), "sqs:SendMessage", iamArn("sqs", p+"-dtn-outbox")),
			iameval.Deny(role("irsa-dtn-gateway"), "s3:GetObject", bucket("packs")+"/published/a.pmtiles"),
		},
		"irsa-pack-service": {
			iameval.Allow(role("irsa-pack-service"), "s3:GetObject", bucket("packs")+"/published/open/parcels/1/parcels.pmtiles"),
			iameval.Deny(role("irsa-pack-service"), "s3:GetObject", bucket("packs")+"/staging/acme/parcels/1/parcels.pmtiles"),
		},
		"irsa-loki": {
			iameval.Allow(role("irsa-loki"), "s3:PutObject", bucket("loki")+"/fake/chunk"),
			iameval.Deny(role("irsa-loki"), "s3:GetObject", bucket("tempo")+"/single-tenant/block/data.parquet"),
		},
		"irsa-tempo": {
			iameval.Allow(role("irsa-tempo"), "s3:PutObject", bucket("tempo")+"/single-tenant/block/data.parquet"),
			iameval.Deny(role("irsa-tempo"), "s3:GetObject", bucket("loki")+"/fake/chunk"),
		},
		"irsa-external-secrets": {
			iameval.Allow(role("irsa-external-secrets"), "secretsmanager:GetSecretValue", iamArn("secretsmanager", "secret:spatialprops/"+env+"/grafana-AbCdEf")),
			iameval.Deny(role("irsa-external-secrets"), "secretsmanager:PutSecretValue", iamArn("secretsmanager", "secret:spatialprops/"+env+"/grafana-AbCdEf")),
		},
		"irsa-grafana-cloudwatch": {
			iameval.Allow(role("irsa-grafana-cloudwatch"), "cloudwatch:GetMetricData", "*"),
			iameval.Deny(role("irsa-grafana-cloudwatch"), "cloudwatch:DeleteAlarms", iamArn("cloudwatch", "alarm:"+p+"-any")),
		},
		"irsa-alertmanager": {
			iameval.Allow(role("irsa-alertmanager"), "sns:Publish", iamArn("sns", p+"-alerts")),
			iameval.Deny(role("irsa-alertmanager"), "sns:Publish", iamArn("sns", "somebody-elses-topic")),
		},
		"irsa-beacons": {
			beaconRead(iameval.Allow(role("irsa-beacons"), "dynamodb:GetItem", beacons)),
			iameval.Deny(role("irsa-beacons"), "dynamodb:DeleteItem", beacons),
		},
		"irsa-beacons-admin": {
			beaconRead(iameval.Allow(role("irsa-beacons-admin"), "dynamodb:Query", beacons)),
			iameval.Deny(role("irsa-beacons-admin"), "dynamodb:PutItem", beacons).Because("the admin API reads"),
		},
		"irsa-beacon-rotate": {
			iameval.Allow(role("irsa-beacon-rotate"), "dynamodb:PutItem", beacons).With("dynamodb:Attributes", []string{"venueId", "beaconId", "packet"}),
			iameval.Deny(role("irsa-beacon-rotate"), "dynamodb:DeleteTable", beacons),
		},
		"irsa-marketplace-api": {
			iameval.Allow(role("irsa-marketplace-api"), "sqs:SendMessage", iamArn("sqs", p+"-billing-events")),
			iameval.Deny(role("irsa-marketplace-api"), "sqs:ReceiveMessage", iamArn("sqs", p+"-billing-events")),
		},
		"irsa-billing-connector": {
			iameval.Allow(role("irsa-billing-connector"), "sqs:ReceiveMessage", iamArn("sqs", p+"-billing-events")),
			iameval.Deny(role("irsa-billing-connector"), "sqs:SendMessage", iamArn("sqs", p+"-billing-events")),
		},
		"irsa-billing-stub": {
			iameval.Allow(role("irsa-billing-stub"), "sqs:ReceiveMessage", iamArn("sqs", p+"-billing-events")),
			iameval.Deny(role("irsa-billing-stub"), "sqs:SendMessage", iamArn("sqs", p+"-billing-events")),
		},
		"irsa-provenance-gate": {
			iameval.Allow(role("irsa-provenance-gate"), "s3:PutObject", bucket("packs")+"/published/a.pmtiles"),
			iameval.Deny(role("irsa-provenance-gate"), "s3:DeleteObject", bucket("packs")+"/staging/acme/parcels/1/parcels.pmtiles"),
		},
		"irsa-pca-issuer": {
			iameval.Allow(role("irsa-pca-issuer"), "acm-pca:IssueCertificate", serviceCA, "acm-pca:TemplateArn", template("EndEntityServerAuthCertificate")),
			iameval.Deny(role("irsa-pca-issuer"), "acm-pca:IssueCertificate", deviceCA, "acm-pca:TemplateArn", template("EndEntityClientAuthCertificate")),
		},
		"irsa-device-enrollment": {
			iameval.Allow(role("irsa-device-enrollment"), "acm-pca:IssueCertificate", deviceCA, "acm-pca:TemplateArn", template("EndEntityClientAuthCertificate")),
			iameval.Deny(role("irsa-device-enrollment"), "acm-pca:IssueCertificate", serviceCA, "acm-pca:TemplateArn", template("EndEntityClientAuthCertificate")),
		},
		"irsa-crl-sync": {
			iameval.Allow(role("irsa-crl-sync"), "s3:PutObject", bucket("pki")+"/trust/crl/current.pem"),
			iameval.Deny(role("irsa-crl-sync"), "s3:PutObject", bucket("pki")+"/trust/device-ca.pem").Because("the ALB trusts that CA"),
		},
		"irsa-cdn-presigner": {
			iameval.Allow(role("irsa-cdn-presigner"), "dynamodb:GetItem", iamArn("dynamodb", "table/"+p+"-entitlements")),
			iameval.Deny(role("irsa-cdn-presigner"), "dynamodb:PutItem", iamArn("dynamodb", "table/"+p+"-entitlements")).Because("licences are granted by marketplace-api"),
		},
		"irsa-beacons-admin-oidc": {
			iameval.Allow(role("irsa-beacons-admin-oidc"), "secretsmanager:GetSecretValue", secret("beacons-admin-oidc")),
			iameval.Deny(role("irsa-beacons-admin-oidc"), "secretsmanager:GetSecretValue", iamArn("secretsmanager", "secret:spatialprops/"+env+"/nats-auth-callout-AbCdEf")),
		},
		"irsa-cluster-autoscaler": {
			iameval.Allow(role("irsa-cluster-autoscaler"), "autoscaling:SetDesiredCapacity", asg, "aws:ResourceTag/k8s.io/cluster-autoscaler/"+p+"-eks", "owned"),
			iameval.Deny(role("irsa-cluster-autoscaler"), "autoscaling:SetDesiredCapacity", asg, "aws:ResourceTag/k8s.io/cluster-autoscaler/other-eks", "owned"),
		},
		"irsa-aws-lbc": {
			iameval.Allow(role("irsa-aws-lbc"), "elasticloadbalancing:RegisterTargets", iamArn("elasticloadbalancing", "targetgroup/k8s-app/0123456789abcdef")),
			iameval.Deny(role("irsa-aws-lbc"), "elasticloadbalancing:ModifyTrustStore", iamArn("elasticloadbalancing", "truststore/"+p+"-devices/0123456789abcdef")),
		},
		"vpc-flow-logs": {
			iameval.Allow(role("vpc-flow-logs"), "logs:PutLogEvents", iamArn("logs", "log-group:/aws/vpc/"+p+"-vpc/flow-logs:log-stream:eni-1")),
			iameval.Deny(role("vpc-flow-logs"), "logs:PutLogEvents", iamArn("logs", "log-group:/aws/codebuild/"+p+"-gha-runner:log-stream:x")),
		},
	}
}

// awsManagedOnly are workload roles whose permissions are AWS managed
// policies (not in the model): only the denial is evaluated for them,
// through the boundary.
var awsManagedOnly = map[string]string{
	"irsa-ebs-csi": "s3:GetObject", "eks-cluster": "s3:GetObject", "eks-node": "s3:GetObject",
}

// Every workload role can make the call its workload needs and not the
// one it does not.
func TestIAMWorkloadRolesDoWhatTheirWorkloadNeeds(t *testing.T) {
	for _, env := range iamEnvs {
		t.Run(env, func(t *testing.T) {
			m := iamModel(t, env)
			calls := workloadCalls(t, m, env)
			var checks []iameval.Check
			var missing []string
			for _, r := range m.Roles {
				if !ciStack(r.Stack) {
					continue
				}
				purpose := strings.TrimPrefix(r.Name, prefix(env)+"-")
				if c, ok := calls[purpose]; ok {
					checks = append(checks, c[0].Because(purpose+" needs it"), c[1].Because(purpose+" does not need it"))
				} else if action, ok := awsManagedOnly[purpose]; ok {
					checks = append(checks, iameval.Deny(r.Name, action, fmt.Sprintf("arn:aws:s3:::spatial-packs-spatialprops-%s-%s/published/a.pmtiles", env, region)))
				} else {
					missing = append(missing, r.Name)
				}
			}
			sort.Strings(missing)
			require.Empty(t, missing, "workload roles without a needed and a forbidden call in workloadCalls")
			iameval.Expect(t, m, checks...)
		})
	}
}

// Every grant a workload role's own policy makes survives the boundary:
// a boundary tighter than the workload breaks it at run time, which no
// deploy would notice. Each concrete action of each Allow statement is
// evaluated on each of its resources (a wildcard in an ARN taken as one
// concrete name), with its conditions' first values as the context.
func TestIAMBoundaryKeepsEveryWorkloadGrant(t *testing.T) {
	for _, env := range iamEnvs {
		t.Run(env, func(t *testing.T) {
			m := iamModel(t, env)
			var checks []iameval.Check
			for _, r := range m.Roles {
				if r.Boundary == "" {
					continue
				}
				for _, p := range r.Inline {
					for _, raw := range p.Document["Statement"].([]any) {
						checks = append(checks, grantChecks(r.Name, raw.(map[string]any), keysByAlias(m))...)
					}
				}
			}
			require.Greater(t, len(checks), 50)
			// A resource pattern the service catalogue (iam-data) has no
			// resource type for cannot be evaluated; those are counted and
			// must stay few (today: the load balancer controller's tagging
			// of listeners and target groups).
			reqs := make([]iameval.Request, len(checks))
			for i, c := range checks {
				reqs[i] = c.Request
			}
			results, err := m.Evaluate(reqs)
			require.NoError(t, err)
			unknown := 0
			for _, r := range results {
				switch {
				case strings.Contains(r.Err, "no.resource.types"):
					unknown++
				case !r.Allowed():
					t.Errorf("must be allowed: %s", r.Explain())
				}
			}
			require.Less(t, unknown, len(checks)/10, "grants on resources the catalogue does not know")
		})
	}
}

// concrete turns a policy's resource pattern into one resource it covers:
// a wildcard region or account becomes the test's, any other wildcard "x".
func concrete(pattern string) string {
	if pattern == "*" {
		return pattern
	}
	parts := strings.SplitN(pattern, ":", 6)
	if len(parts) == 6 {
		if parts[3] == "*" {
			parts[3] = region
		}
		if parts[4] == "*" {
			parts[4] = iameval.Account
		}
		pattern = strings.Join(parts, ":")
	}
	return strings.NewReplacer("*", "x", "?", "x").Replace(pattern)
}

// keysByAlias maps every alias of the model's KMS keys to the key's ARN.
func keysByAlias(m *iameval.Model) map[string]string {
	out := map[string]string{}
	for arn, aliases := range m.KeyAliases {
		for _, a := range aliases {
			out[a] = arn
		}
	}
	return out
}

// grantChecks: a grant on keys named by alias (kms:ResourceAliases) is
// evaluated on the key that carries the alias, not on a made-up one.
func grantChecks(role string, st map[string]any, keys map[string]string) []iameval.Check {
	if st["Effect"] != "Allow" || st["NotAction"] != nil || st["NotResource"] != nil {
		return nil
	}
	ctx := map[string]any{}
	if conds, ok := st["Condition"].(map[string]any); ok {
		for op, kv := range conds {
			for k, v := range kv.(map[string]any) {
				vals := v.([]any)
				switch {
				case op == "Null" && vals[0] == "false":
					ctx[k] = "present"
				case op == "Null":
				case strings.HasPrefix(op, "ForAllValues:") || strings.HasPrefix(op, "ForAnyValue:"):
					ctx[k] = []string{vals[0].(string)}
				default:
					ctx[k] = strings.ReplaceAll(vals[0].(string), "*", "x")
				}
			}
		}
	}
	var out []iameval.Check
	for _, a := range st["Action"].([]any) {
		action := a.(string)
		if strings.Contains(action, "*") {
			continue
		}
		for _, res := range st["Resource"].([]any) {
			resource := concrete(res.(string))
			if aliases, ok := ctx["kms:ResourceAliases"].([]string); ok && strings.Contains(resource, ":key/") && keys[aliases[0]] != "" {
				resource = keys[aliases[0]]
			}
			if strings.HasPrefix(action, "logs:") && strings.Contains(resource, ":log-group:") && action != "logs:DescribeLogStreams" {
				// stream actions name a stream: the group's "…:*" grant
				if !strings.HasSuffix(res.(string), ":*") {
					continue
				}
				resource = strings.TrimSuffix(resource, ":x") + ":log-stream:x"
			}
			c := iameval.Allow(role, action, resource).Because("the role's own policy grants it")
			if action == "acm-pca:IssueCertificate" && ctx["acm-pca:TemplateArn"] == nil {
				// the issuer picks an end-entity template per certificate
				c = c.With("acm-pca:TemplateArn", "arn:aws:acm-pca:::template/EndEntityCertificate/V1")
			}
			for k, v := range ctx {
				c = c.With(k, v)
			}
			c.Lenient = true
			out = append(out, c)
		}
	}
	return out
}
