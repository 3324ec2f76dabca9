package tests

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/iameval"
)

// Sufficiency, from the resource list: for every AWS resource a
// CI-deployed stack declares, the calls the AWS provider makes to create
// it (the authorizing action, the real resource ARN, the tags it sends)
// must be allowed for the infra deploy role. This covers every stack,
// including those `make e2e` does not apply (identity, platform,
// observability, edge, marketplace: providers not mirrored here);
// tests/iam_e2e_calls_test.go checks the calls e2e really made.

// planned is one resource while its create calls are derived.
type planned struct {
	t        *testing.T
	m        *iameval.Model
	env, id  string
	typ, key string
	cfg      map[string]any
}

func (p planned) addr() string { return p.typ + "." + p.key }

func (p planned) attr(name string) string {
	p.t.Helper()
	v, err := p.m.Env.Attr(p.id, p.addr(), name)
	require.NoError(p.t, err, "%s %s.%s", p.id, p.addr(), name)
	s, ok := v.(string)
	require.True(p.t, ok, "%s %s.%s is %T", p.id, p.addr(), name, v)
	return s
}

// ref resolves a configured attribute that names another resource.
func (p planned) ref(name string) string {
	p.t.Helper()
	s, err := p.m.Env.String(p.id, p.cfg[name])
	require.NoError(p.t, err, "%s %s.%s", p.id, p.addr(), name)
	return s
}

func (p planned) region() string { return p.m.Env.Region(p.id, p.addr()) }

func (p planned) arn(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, p.region(), iameval.Account, resource)
}

// create is a call that creates the resource: it carries the resource's
// tags as aws:RequestTag/* and aws:TagKeys, and the resource has no tags
// yet (aws:ResourceTag/* absent).
func (p planned) create(action, resource string, ctx ...string) iameval.Check {
	p.t.Helper()
	tags, err := p.m.Env.Tags(p.id, p.addr())
	require.NoError(p.t, err)
	c := iameval.Allow(deployRole(p.env), action, resource, ctx...)
	var keys []string
	for k, v := range tags {
		c = c.With("aws:RequestTag/"+k, v)
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c = c.With("aws:TagKeys", keys)
	for k := range tags {
		c = c.With("aws:ResourceTag/"+k, nil)
	}
	c.Lenient = true
	return c.Because(p.id + " creates " + p.addr())
}

// change is a call on an existing resource of the stacks (its tags come
// from the model).
func (p planned) change(action, resource string, ctx ...string) iameval.Check {
	c := iameval.Allow(deployRole(p.env), action, resource, ctx...)
	c.Lenient = true
	return c.Because(p.id + " configures " + p.addr())
}

// createCalls are the calls that create one resource (authorization, not
// every read the provider makes afterwards).
func createCalls(p planned) []iameval.Check {
	ec2 := func(kind string) string { return p.arn("ec2", kind+"/*") }
	ec2Create := func(action, kind string, parents ...string) []iameval.Check {
		out := []iameval.Check{p.create(action, ec2(kind)),
			p.create("ec2:CreateTags", ec2(kind), "ec2:CreateAction", strings.TrimPrefix(action, "ec2:"))}
		for _, parent := range parents {
			// the same call is authorized on the parent, with the request's
			// tags and the parent's own
			c := p.create(action, parent)
			for k := range c.Context {
				if strings.HasPrefix(k, "aws:ResourceTag/") {
					delete(c.Context, k)
				}
			}
			out = append(out, c)
		}
		return out
	}
	vpcOf := func(attr string) string { return p.arn("ec2", "vpc/"+p.ref(attr)) }
	switch p.typ {
	case "aws_vpc":
		return append(ec2Create("ec2:CreateVpc", "vpc"), p.change("ec2:ModifyVpcAttribute", p.attr("arn")))
	case "aws_subnet":
		return ec2Create("ec2:CreateSubnet", "subnet", vpcOf("vpc_id"))
	case "aws_internet_gateway":
		return append(ec2Create("ec2:CreateInternetGateway", "internet-gateway"),
			p.change("ec2:AttachInternetGateway", p.attr("arn")), p.change("ec2:AttachInternetGateway", vpcOf("vpc_id")))
	case "aws_eip":
		return ec2Create("ec2:AllocateAddress", "elastic-ip")
	case "aws_nat_gateway":
		return ec2Create("ec2:CreateNatGateway", "natgateway", p.arn("ec2", "subnet/"+p.ref("subnet_id")),
			p.arn("ec2", "elastic-ip/"+p.ref("allocation_id")))
	case "aws_route_table":
		return ec2Create("ec2:CreateRouteTable", "route-table", vpcOf("vpc_id"))
	case "aws_route":
		return []iameval.Check{p.change("ec2:CreateRoute", p.arn("ec2", "route-table/"+p.ref("route_table_id")))}
	case "aws_route_table_association":
		return []iameval.Check{p.change("ec2:AssociateRouteTable", p.arn("ec2", "route-table/"+p.ref("route_table_id"))),
			p.change("ec2:AssociateRouteTable", p.arn("ec2", "subnet/"+p.ref("subnet_id")))}
	case "aws_security_group":
		return ec2Create("ec2:CreateSecurityGroup", "security-group", vpcOf("vpc_id"))
	case "aws_default_security_group":
		// The VPC's default group exists untagged; Terraform tags it and
		// revokes its rules.
		sg := p.arn("ec2", "security-group/"+p.attr("id"))
		return []iameval.Check{p.create("ec2:CreateTags", sg).Because(p.id + " tags the untagged default security group"),
			p.change("ec2:RevokeSecurityGroupIngress", sg), p.change("ec2:RevokeSecurityGroupEgress", sg)}
	case "aws_vpc_security_group_ingress_rule":
		return []iameval.Check{p.change("ec2:AuthorizeSecurityGroupIngress", p.arn("ec2", "security-group/"+p.ref("security_group_id")))}
	case "aws_vpc_security_group_egress_rule":
		return []iameval.Check{p.change("ec2:AuthorizeSecurityGroupEgress", p.arn("ec2", "security-group/"+p.ref("security_group_id")))}
	case "aws_launch_template":
		return ec2Create("ec2:CreateLaunchTemplate", "launch-template")
	case "aws_flow_log":
		return append(ec2Create("ec2:CreateFlowLogs", "vpc-flow-log", p.arn("ec2", "vpc/"+p.ref("vpc_id"))),
			p.change("iam:PassRole", p.ref("iam_role_arn"), "iam:PassedToService", "vpc-flow-logs.amazonaws.com"))
	case "aws_iam_role":
		c := p.create("iam:CreateRole", p.attr("arn"))
		if b := p.cfg["permissions_boundary"]; b != nil {
			c = c.With("iam:PermissionsBoundary", p.ref("permissions_boundary"))
		}
		return []iameval.Check{c}
	case "aws_iam_role_policy":
		role := roleNamed(p, p.ref("role"))
		return []iameval.Check{p.change("iam:PutRolePolicy", role.Arn, "iam:PermissionsBoundary", role.Boundary)}
	case "aws_iam_role_policy_attachment":
		role := roleNamed(p, p.ref("role"))
		return []iameval.Check{p.change("iam:AttachRolePolicy", role.Arn, "iam:PermissionsBoundary", role.Boundary, "iam:PolicyARN", p.ref("policy_arn"))}
	case "aws_iam_openid_connect_provider":
		return []iameval.Check{p.create("iam:CreateOpenIDConnectProvider", p.attr("arn"))}
	case "aws_kms_key":
		return []iameval.Check{p.create("kms:CreateKey", "*"), p.change("kms:EnableKeyRotation", p.attr("arn")),
			p.change("kms:PutKeyPolicy", p.attr("arn"))}
	case "aws_kms_alias":
		return []iameval.Check{p.change("kms:CreateAlias", p.attr("arn")), p.change("kms:CreateAlias", keyArn(p, p.ref("target_key_id")))}
	case "aws_s3_bucket":
		return []iameval.Check{p.change("s3:CreateBucket", p.attr("arn")), p.change("s3:PutBucketTagging", p.attr("arn"))}
	case "aws_s3_bucket_policy":
		return []iameval.Check{p.change("s3:PutBucketPolicy", "arn:aws:s3:::"+p.ref("bucket"))}
	case "aws_s3_bucket_versioning":
		return []iameval.Check{p.change("s3:PutBucketVersioning", "arn:aws:s3:::"+p.ref("bucket"))}
	case "aws_s3_bucket_server_side_encryption_configuration":
		return []iameval.Check{p.change("s3:PutEncryptionConfiguration", "arn:aws:s3:::"+p.ref("bucket"))}
	case "aws_s3_bucket_public_access_block":
		return []iameval.Check{p.change("s3:PutBucketPublicAccessBlock", "arn:aws:s3:::"+p.ref("bucket"))}
	case "aws_s3_bucket_ownership_controls":
		return []iameval.Check{p.change("s3:PutBucketOwnershipControls", "arn:aws:s3:::"+p.ref("bucket"))}
	case "aws_s3_bucket_lifecycle_configuration":
		return []iameval.Check{p.change("s3:PutLifecycleConfiguration", "arn:aws:s3:::"+p.ref("bucket"))}
	case "aws_s3_bucket_logging":
		return []iameval.Check{p.change("s3:PutBucketLogging", "arn:aws:s3:::"+p.ref("bucket"))}
	case "aws_s3_bucket_cors_configuration":
		return []iameval.Check{p.change("s3:PutBucketCORS", "arn:aws:s3:::"+p.ref("bucket"))}
	case "aws_s3_object":
		return []iameval.Check{p.change("s3:PutObject", "arn:aws:s3:::"+p.ref("bucket")+"/"+p.ref("key")),
			p.change("s3:PutObjectTagging", "arn:aws:s3:::"+p.ref("bucket")+"/"+p.ref("key")),
			p.change("kms:GenerateDataKey", keyArn(p, p.ref("kms_key_id")))}
	case "aws_dynamodb_table":
		return []iameval.Check{p.create("dynamodb:CreateTable", p.attr("arn")), p.change("dynamodb:TagResource", p.attr("arn")),
			p.change("dynamodb:UpdateContinuousBackups", p.attr("arn"))}
	case "aws_sqs_queue":
		return []iameval.Check{p.create("sqs:CreateQueue", p.attr("arn")), p.change("sqs:TagQueue", p.attr("arn"))}
	case "aws_secretsmanager_secret":
		return []iameval.Check{p.create("secretsmanager:CreateSecret", p.attr("arn"))}
	case "aws_cloudwatch_log_group":
		return []iameval.Check{p.create("logs:CreateLogGroup", p.attr("arn")+":*"), p.change("logs:PutRetentionPolicy", p.attr("arn")+":*")}
	case "aws_cloudwatch_log_resource_policy":
		return []iameval.Check{p.change("logs:PutResourcePolicy", "*")}
	case "aws_cloudwatch_metric_alarm":
		return []iameval.Check{p.create("cloudwatch:PutMetricAlarm", p.attr("arn"))}
	case "aws_acm_certificate":
		return []iameval.Check{p.create("acm:RequestCertificate", "*"), p.create("acm:AddTagsToCertificate", p.attr("arn"))}
	case "aws_acm_certificate_validation":
		return []iameval.Check{p.change("acm:DescribeCertificate", p.ref("certificate_arn"))}
	case "aws_route53_record":
		zone := "arn:aws:route53:::hostedzone/" + p.ref("zone_id")
		name := p.cfg["name"]
		s, err := p.m.Env.String(p.id, name)
		if err != nil { // a for_each record names its record by each.value
			return []iameval.Check{p.change("route53:ChangeResourceRecordSets", zone,
				"route53:ChangeResourceRecordSetsNormalizedRecordNames", "_validation."+domainOf(p))}
		}
		return []iameval.Check{p.change("route53:ChangeResourceRecordSets", zone).
			With("route53:ChangeResourceRecordSetsNormalizedRecordNames", []string{strings.ToLower(strings.TrimSuffix(s, "."))})}
	case "aws_cloudfront_distribution":
		return []iameval.Check{p.create("cloudfront:CreateDistribution", p.attr("arn")), p.create("cloudfront:TagResource", p.attr("arn"))}
	case "aws_cloudfront_origin_access_control":
		return []iameval.Check{p.change("cloudfront:CreateOriginAccessControl", fmt.Sprintf("arn:aws:cloudfront::%s:origin-access-control/%s", iameval.Account, p.attr("id")))}
	case "aws_cloudfront_response_headers_policy":
		return []iameval.Check{p.change("cloudfront:CreateResponseHeadersPolicy", fmt.Sprintf("arn:aws:cloudfront::%s:response-headers-policy/%s", iameval.Account, p.attr("id")))}
	case "aws_wafv2_web_acl":
		return []iameval.Check{p.create("wafv2:CreateWebACL", p.attr("arn"))}
	case "aws_wafv2_web_acl_logging_configuration":
		return []iameval.Check{p.change("wafv2:PutLoggingConfiguration", p.ref("resource_arn")),
			p.change("logs:CreateLogDelivery", "*"), p.change("logs:PutResourcePolicy", "*")}
	case "aws_eks_cluster":
		return []iameval.Check{p.create("eks:CreateCluster", p.attr("arn")),
			p.change("iam:PassRole", p.ref("role_arn"), "iam:PassedToService", "eks.amazonaws.com")}
	case "aws_eks_node_group":
		return []iameval.Check{p.create("eks:CreateNodegroup", p.arn("eks", "cluster/"+p.ref("cluster_name"))),
			p.change("iam:PassRole", p.ref("node_role_arn"), "iam:PassedToService", "eks.amazonaws.com")}
	case "aws_eks_addon":
		return []iameval.Check{p.create("eks:CreateAddon", p.arn("eks", "cluster/"+p.ref("cluster_name")))}
	case "aws_eks_access_entry":
		return []iameval.Check{p.create("eks:CreateAccessEntry", p.arn("eks", "cluster/"+p.ref("cluster_name")))}
	case "aws_eks_access_policy_association":
		return []iameval.Check{p.change("eks:AssociateAccessPolicy", p.arn("eks", "access-entry/"+p.ref("cluster_name")+"/role/"+iameval.Account+"/x/0"))}
	case "aws_acmpca_certificate_authority":
		return []iameval.Check{p.create("acm-pca:CreateCertificateAuthority", "*")}
	case "aws_acmpca_certificate":
		return []iameval.Check{p.change("acm-pca:IssueCertificate", p.ref("certificate_authority_arn"), "acm-pca:TemplateArn", p.ref("template_arn"))}
	case "aws_acmpca_certificate_authority_certificate":
		return []iameval.Check{p.change("acm-pca:ImportCertificateAuthorityCertificate", p.ref("certificate_authority_arn"))}
	case "aws_lb_trust_store":
		return []iameval.Check{p.create("elasticloadbalancing:CreateTrustStore", p.attr("arn"))}
	}
	return nil
}

// notAWS are resource types CI deploys whose calls go to the cluster's
// API (authorized by the deploy role's EKS access entry), not to AWS.
func notAWS(typ string) bool {
	return strings.HasPrefix(typ, "helm_") || strings.HasPrefix(typ, "kubernetes_")
}

func roleNamed(p planned, name string) *iameval.Role {
	p.t.Helper()
	r := p.m.Role(name)
	require.NotNil(p.t, r, "%s %s: role %s", p.id, p.addr(), name)
	return r
}

// keyArn turns a key reference (id, ARN or alias) into the key's ARN.
func keyArn(p planned, ref string) string {
	if strings.HasPrefix(ref, "arn:aws:kms:") {
		return ref
	}
	return p.arn("kms", "key/"+ref)
}

// domainOf is the domain a for_each validation record belongs to: the
// certificate it validates.
func domainOf(p planned) string {
	for name, cfg := range p.m.Env.Blocks(p.id, "resource", "aws_acm_certificate") {
		if strings.Contains(p.key, strings.SplitN(name, "_", 2)[0]) || len(p.m.Env.Blocks(p.id, "resource", "aws_acm_certificate")) == 1 {
			s, err := p.m.Env.String(p.id, cfg["domain_name"])
			require.NoError(p.t, err)
			return s
		}
	}
	p.t.Fatalf("%s %s: no certificate to validate", p.id, p.addr())
	return ""
}

func TestIAMDeployRoleCanCreateEveryResourceOfItsStacks(t *testing.T) {
	for _, env := range iamEnvs {
		t.Run(env, func(t *testing.T) {
			m := iamModel(t, env)
			var checks []iameval.Check
			var unmapped []string
			for _, id := range m.Env.Stacks() {
				if !ciStack(id) {
					continue
				}
				for _, typ := range resourceTypes(m, id) {
					for key, cfg := range m.Env.Blocks(id, "resource", typ) {
						p := planned{t: t, m: m, env: env, id: id, typ: typ, key: key, cfg: cfg}
						calls := createCalls(p)
						if calls == nil && !notAWS(typ) {
							unmapped = append(unmapped, id+" "+typ)
						}
						checks = append(checks, calls...)
					}
				}
			}
			sort.Strings(unmapped)
			require.Empty(t, unmapped, "resource types without their create calls in createCalls")
			iameval.Expect(t, m, checks...)
			t.Logf("%s: %d create calls of %d CI-deployed stacks allowed", env, len(checks), len(m.Env.Stacks())-2)
		})
	}
}

func resourceTypes(m *iameval.Model, id string) []string {
	return m.Env.ResourceTypes(id)
}
