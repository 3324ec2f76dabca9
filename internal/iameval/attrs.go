package iameval

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions are the Terraform functions the stacks call inside `${…}`.
var functions = map[string]function.Function{
	"base64decode": function.New(&function.Spec{
		Params: []function.Parameter{{Name: "s", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			b, err := base64.StdEncoding.DecodeString(args[0].AsString())
			return cty.StringVal(string(b)), err
		},
	}),
	"concat": stdlib.ConcatFunc, "compact": stdlib.CompactFunc, "distinct": stdlib.DistinctFunc,
	"element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc, "format": stdlib.FormatFunc,
	"join": stdlib.JoinFunc, "jsonencode": stdlib.JSONEncodeFunc, "keys": stdlib.KeysFunc,
	"length": stdlib.LengthFunc, "lookup": stdlib.LookupFunc, "lower": stdlib.LowerFunc,
	"merge": stdlib.MergeFunc, "replace": stdlib.ReplaceFunc, "sort": stdlib.SortFunc,
	"split": stdlib.SplitFunc, "tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
	"toset": stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)), "trimprefix": stdlib.TrimPrefixFunc,
	"trimsuffix": stdlib.TrimSuffixFunc, "upper": stdlib.UpperFunc, "values": stdlib.ValuesFunc,
}

// computedOverConfig are attributes whose configured value is not what
// a reference reads (the provider adds computed parts to the block).
var computedOverConfig = map[string]bool{"aws_eks_cluster.vpc_config": true}

// object is one resource or data source while an attribute of it is
// being resolved.
type object struct {
	e               *Env
	st              *stack
	kind, typ, name string
	cfg             map[string]any
}

// str is a configured attribute, resolved to a string ("" when unset).
func (o *object) str(attr string) (string, error) {
	raw, ok := o.cfg[attr]
	if !ok || raw == nil {
		return "", nil
	}
	v, err := o.e.toCty(o.st, raw)
	if err != nil {
		return "", err
	}
	if v.IsNull() || v.Type() != cty.String {
		return "", fmt.Errorf("%s.%s.%s is not a string", o.typ, o.name, attr)
	}
	return v.AsString(), nil
}

// must is str for attributes the computed value cannot do without.
func (o *object) must(attr string) (string, error) {
	s, err := o.str(attr)
	if err == nil && s == "" {
		err = fmt.Errorf("%s.%s: %s is not set, so its ARN cannot be computed", o.typ, o.name, attr)
	}
	return s, err
}

// region is the region of the provider the block uses.
func (o *object) region() string {
	alias := ""
	if p, ok := o.cfg["provider"].(string); ok {
		if _, a, found := strings.Cut(p, "."); found {
			alias = a
		}
	}
	if r, ok := o.st.regions[alias]; ok && r != "" {
		return r
	}
	return o.st.regions[""]
}

// hash is a stable hex string for the block, so a computed id is the same
// in every run and for every stack that reads it.
func (o *object) hash(n int) string {
	sum := sha256.Sum256([]byte(o.st.id + "/" + o.kind + "." + o.typ + "." + o.name))
	return hex.EncodeToString(sum[:])[:n]
}

func (o *object) uuid() string {
	h := o.hash(32)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func (o *object) arn(service, region, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, Account, resource)
}

func s(v string) cty.Value { return cty.StringVal(v) }

// namedTypes are the resource types whose ARN is built from their name.
var namedTypes = map[string]bool{
	"aws_iam_role": true, "aws_iam_policy": true, "aws_kms_alias": true, "aws_sqs_queue": true, "aws_sns_topic": true,
	"aws_dynamodb_table": true, "aws_secretsmanager_secret": true, "aws_eks_cluster": true, "aws_ecr_repository": true,
	"aws_cloudwatch_log_group": true, "aws_wafv2_web_acl": true, "aws_lb_trust_store": true, "aws_codebuild_project": true,
}

// ec2Kinds are EC2 resources: their id prefix and ARN resource type.
var ec2Kinds = map[string][2]string{
	"aws_vpc": {"vpc", "vpc"}, "aws_subnet": {"subnet", "subnet"}, "aws_security_group": {"sg", "security-group"},
	"aws_default_security_group": {"sg", "security-group"}, "aws_route_table": {"rtb", "route-table"},
	"aws_internet_gateway": {"igw", "internet-gateway"}, "aws_nat_gateway": {"nat", "natgateway"},
	"aws_eip": {"eipalloc", "elastic-ip"}, "aws_launch_template": {"lt", "launch-template"},
	"aws_flow_log": {"fl", "vpc-flow-log"},
}

// computed returns an attribute the provider computes: ARNs and ids in the
// formats AWS uses, with stable made-up unique parts.
func (o *object) computed(attr string) (cty.Value, error) {
	v, ok, err := o.computedValue(attr)
	if err != nil {
		return cty.NilVal, err
	}
	if !ok {
		return cty.NilVal, fmt.Errorf("%s %s.%s: attribute %q is neither configured nor known to the evaluator (add it to internal/iameval/attrs.go)", o.kind, o.typ, o.name, attr)
	}
	return v, nil
}

func (o *object) computedValue(attr string) (cty.Value, bool, error) {
	if o.kind == "data" {
		return o.dataValue(attr)
	}
	region := o.region()
	if k, isEC2 := ec2Kinds[o.typ]; isEC2 {
		id := k[0] + "-" + o.hash(17)
		switch attr {
		case "id":
			return s(id), true, nil
		case "arn":
			return s(o.arn("ec2", region, k[1]+"/"+id)), true, nil
		case "default_version", "latest_version":
			return cty.NumberIntVal(1), true, nil
		case "public_ip":
			return s("203.0.113.10"), true, nil
		}
		return cty.NilVal, false, nil
	}
	named := func(arn string, extra map[string]cty.Value) (cty.Value, bool, error) {
		if attr == "arn" {
			return s(arn), arn != "", nil
		}
		if v, ok := extra[attr]; ok {
			return v, true, nil
		}
		return cty.NilVal, false, nil
	}
	// Most ARNs are built from the resource's name.
	name, err := o.str("name")
	if err == nil && name == "" && namedTypes[o.typ] {
		_, err = o.must("name")
	}
	if err != nil {
		return cty.NilVal, false, err
	}
	switch o.typ {
	case "aws_iam_role":
		path, _ := o.str("path")
		if path == "" {
			path = "/"
		}
		return named(fmt.Sprintf("arn:aws:iam::%s:role%s%s", Account, path, name),
			map[string]cty.Value{"id": s(name), "name": s(name), "unique_id": s("AROA" + strings.ToUpper(o.hash(17)))})
	case "aws_iam_policy":
		path, _ := o.str("path")
		if path == "" {
			path = "/"
		}
		arn := fmt.Sprintf("arn:aws:iam::%s:policy%s%s", Account, path, name)
		return named(arn, map[string]cty.Value{"id": s(arn), "name": s(name), "policy_id": s("ANPA" + strings.ToUpper(o.hash(17)))})
	case "aws_iam_openid_connect_provider":
		url, err := o.must("url")
		if err != nil {
			return cty.NilVal, false, err
		}
		arn := fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", Account, strings.TrimPrefix(url, "https://"))
		return named(arn, map[string]cty.Value{"id": s(arn)})
	case "aws_s3_bucket":
		b, err := o.must("bucket")
		if err != nil {
			return cty.NilVal, false, err
		}
		return named("arn:aws:s3:::"+b, map[string]cty.Value{"id": s(b), "bucket": s(b),
			"bucket_regional_domain_name": s(b + ".s3." + region + ".amazonaws.com"), "bucket_domain_name": s(b + ".s3.amazonaws.com")})
	case "aws_s3_object":
		return named("", map[string]cty.Value{"id": s(o.hash(12)), "version_id": s(o.hash(32)), "etag": s(o.hash(32))})
	case "aws_kms_key":
		id := o.uuid()
		return named(o.arn("kms", region, "key/"+id), map[string]cty.Value{"id": s(id), "key_id": s(id)})
	case "aws_kms_alias":
		return named(o.arn("kms", region, name), map[string]cty.Value{"id": s(name)})
	case "aws_sqs_queue":
		url := fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, Account, name)
		return named(o.arn("sqs", region, name), map[string]cty.Value{"id": s(url), "url": s(url)})
	case "aws_sns_topic":
		arn := o.arn("sns", region, name)
		return named(arn, map[string]cty.Value{"id": s(arn)})
	case "aws_dynamodb_table":
		arn := o.arn("dynamodb", region, "table/"+name)
		return named(arn, map[string]cty.Value{"id": s(name), "stream_arn": s(arn + "/stream/2026-01-01T00:00:00.000")})
	case "aws_secretsmanager_secret":
		arn := o.arn("secretsmanager", region, "secret:"+name+"-"+o.hash(6))
		return named(arn, map[string]cty.Value{"id": s(arn)})
	case "aws_acmpca_certificate_authority":
		arn := o.arn("acm-pca", region, "certificate-authority/"+o.uuid())
		return named(arn, map[string]cty.Value{"id": s(arn), "certificate": s(pemPlaceholder), "certificate_chain": s(""),
			"certificate_signing_request": s("-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n")})
	case "aws_acmpca_certificate":
		ca, err := o.must("certificate_authority_arn")
		if err != nil {
			return cty.NilVal, false, err
		}
		arn := ca + "/certificate/" + o.hash(32)
		return named(arn, map[string]cty.Value{"id": s(arn), "certificate": s(pemPlaceholder), "certificate_chain": s("")})
	case "aws_acm_certificate":
		arn := o.arn("acm", region, "certificate/"+o.uuid())
		return named(arn, map[string]cty.Value{"id": s(arn)})
	case "aws_acm_certificate_validation":
		arn, err := o.must("certificate_arn")
		if err != nil {
			return cty.NilVal, false, err
		}
		return named(arn, map[string]cty.Value{"id": s(arn)})
	case "aws_eks_cluster":
		issuer := fmt.Sprintf("https://oidc.eks.%s.amazonaws.com/id/%s", region, strings.ToUpper(o.hash(32)))
		return named(o.arn("eks", region, "cluster/"+name), map[string]cty.Value{
			"id": s(name), "name": s(name), "endpoint": s("https://" + strings.ToUpper(o.hash(32)) + ".gr7." + region + ".eks.amazonaws.com"),
			"identity": cty.TupleVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{
				"oidc": cty.TupleVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{"issuer": s(issuer)})})})}),
			"certificate_authority": cty.TupleVal([]cty.Value{cty.ObjectVal(map[string]cty.Value{
				"data": s(base64.StdEncoding.EncodeToString([]byte(pemPlaceholder)))})}),
			"vpc_config": o.eksVpcConfig(),
		})
	case "aws_eks_node_group":
		cluster, _ := o.str("cluster_name")
		ng, _ := o.str("node_group_name")
		return named(o.arn("eks", region, "nodegroup/"+cluster+"/"+ng+"/"+o.uuid()), map[string]cty.Value{"id": s(cluster + ":" + ng)})
	case "aws_ecr_repository":
		return named(o.arn("ecr", region, "repository/"+name), map[string]cty.Value{"id": s(name), "registry_id": s(Account),
			"repository_url": s(fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", Account, region, name))})
	case "aws_cloudfront_distribution":
		id := "E" + strings.ToUpper(o.hash(13))
		return named(fmt.Sprintf("arn:aws:cloudfront::%s:distribution/%s", Account, id), map[string]cty.Value{
			"id": s(id), "domain_name": s("d" + o.hash(13) + ".cloudfront.net"), "hosted_zone_id": s("Z2FDTNDATAQYW2")})
	case "aws_cloudfront_origin_access_control", "aws_cloudfront_response_headers_policy":
		return named("", map[string]cty.Value{"id": s(o.uuid())})
	case "aws_cloudwatch_log_group":
		return named(o.arn("logs", region, "log-group:"+name), map[string]cty.Value{"id": s(name)})
	case "aws_cloudwatch_metric_alarm":
		name, _ := o.str("alarm_name")
		return named(o.arn("cloudwatch", region, "alarm:"+name), map[string]cty.Value{"id": s(name)})
	case "aws_wafv2_web_acl":
		scope, _ := o.str("scope")
		prefix := "regional"
		if scope == "CLOUDFRONT" {
			prefix = "global"
		}
		id := o.uuid()
		return named(o.arn("wafv2", region, prefix+"/webacl/"+name+"/"+id), map[string]cty.Value{"id": s(id)})
	case "aws_lb_trust_store":
		arn := o.arn("elasticloadbalancing", region, "truststore/"+name+"/"+o.hash(16))
		return named(arn, map[string]cty.Value{"id": s(arn)})
	case "aws_codeconnections_connection":
		arn := o.arn("codeconnections", region, "connection/"+o.uuid())
		return named(arn, map[string]cty.Value{"id": s(arn)})
	case "aws_codebuild_project":
		return named(o.arn("codebuild", region, "project/"+name), map[string]cty.Value{"id": s(name)})
	case "aws_route53_record":
		name, _ := o.str("name")
		return named("", map[string]cty.Value{"fqdn": s(strings.TrimSuffix(name, ".")), "id": s(o.hash(12))})
	case "aws_route53_zone":
		id := "Z" + strings.ToUpper(o.hash(20))
		return named("arn:aws:route53:::hostedzone/"+id, map[string]cty.Value{"zone_id": s(id), "id": s(id)})
	}
	if attr == "id" {
		return s(o.typ + "-" + o.hash(12)), true, nil
	}
	return cty.NilVal, false, nil
}

const pemPlaceholder = "-----BEGIN CERTIFICATE-----\nTUlJQiB0ZXN0IGNlcnRpZmljYXRl\n-----END CERTIFICATE-----\n"

// eksVpcConfig is the configured vpc_config block with the security group
// EKS creates for the cluster.
func (o *object) eksVpcConfig() cty.Value {
	block := map[string]cty.Value{"cluster_security_group_id": s("sg-" + o.hash(17))}
	for _, b := range list(o.cfg["vpc_config"]) {
		if v, err := o.e.toCty(o.st, b); err == nil && v.Type().IsObjectType() {
			for k, c := range v.AsValueMap() {
				block[k] = c
			}
		}
	}
	return cty.TupleVal([]cty.Value{cty.ObjectVal(block)})
}

func (o *object) dataValue(attr string) (cty.Value, bool, error) {
	switch o.typ {
	case "aws_caller_identity":
		return pick(attr, map[string]cty.Value{"account_id": s(Account), "id": s(Account),
			"arn": s("arn:aws:sts::" + Account + ":assumed-role/deploy/session"), "user_id": s("AROA" + strings.ToUpper(o.hash(17)))})
	case "aws_region":
		r := o.region()
		return pick(attr, map[string]cty.Value{"name": s(r), "id": s(r), "region": s(r)})
	case "aws_partition":
		return pick(attr, map[string]cty.Value{"partition": s("aws"), "dns_suffix": s("amazonaws.com"), "id": s("aws")})
	case "aws_iam_policy_document":
		if attr != "json" && attr != "minified_json" {
			return cty.NilVal, false, nil
		}
		doc, err := o.policyDocument()
		if err != nil {
			return cty.NilVal, false, err
		}
		raw, err := json.Marshal(doc)
		return s(string(raw)), true, err
	case "aws_route53_zone":
		name, _ := o.str("name")
		id := "Z" + strings.ToUpper(o.hash(20))
		return pick(attr, map[string]cty.Value{"zone_id": s(id), "id": s(id), "name": s(name), "arn": s("arn:aws:route53:::hostedzone/" + id)})
	case "aws_iam_openid_connect_provider":
		url, err := o.must("url")
		if err != nil {
			return cty.NilVal, false, err
		}
		arn := fmt.Sprintf("arn:aws:iam::%s:oidc-provider/%s", Account, strings.TrimPrefix(url, "https://"))
		return pick(attr, map[string]cty.Value{"arn": s(arn), "id": s(arn)})
	case "aws_cloudfront_cache_policy", "aws_cloudfront_origin_request_policy":
		return pick(attr, map[string]cty.Value{"id": s(o.uuid())})
	}
	return cty.NilVal, false, nil
}

func pick(attr string, values map[string]cty.Value) (cty.Value, bool, error) {
	v, ok := values[attr]
	return v, ok, nil
}

// policyDocument renders an aws_iam_policy_document as the provider does:
// Version 2012-10-17, one statement per block, conditions grouped by test.
func (o *object) policyDocument() (map[string]any, error) {
	for _, unsupported := range []string{"source_policy_documents", "override_policy_documents", "source_json", "override_json"} {
		if _, ok := o.cfg[unsupported]; ok {
			return nil, fmt.Errorf("data.aws_iam_policy_document.%s uses %s, which the evaluator does not merge", o.name, unsupported)
		}
	}
	resolved, err := o.e.Resolve(o.st.id, o.cfg)
	if err != nil {
		return nil, fmt.Errorf("data.aws_iam_policy_document.%s: %w", o.name, err)
	}
	cfg := resolved.(map[string]any)
	version, _ := cfg["version"].(string)
	if version == "" {
		version = "2012-10-17"
	}
	doc := map[string]any{"Version": version}
	if id, ok := cfg["policy_id"].(string); ok {
		doc["Id"] = id
	}
	var statements []any
	for _, raw := range list(cfg["statement"]) {
		st := asMap(raw)
		out := map[string]any{}
		if sid, ok := st["sid"].(string); ok && sid != "" {
			out["Sid"] = sid
		}
		effect, _ := st["effect"].(string)
		if effect == "" {
			effect = "Allow"
		}
		out["Effect"] = effect
		for field, key := range map[string]string{"actions": "Action", "not_actions": "NotAction", "resources": "Resource", "not_resources": "NotResource"} {
			if v := flatStrings(st[field]); len(v) > 0 {
				out[key] = v
			}
		}
		for field, key := range map[string]string{"principals": "Principal", "not_principals": "NotPrincipal"} {
			ps := list(st[field])
			if len(ps) == 0 {
				continue
			}
			byType := map[string]any{}
			for _, p := range ps {
				pm := asMap(p)
				typ, _ := pm["type"].(string)
				ids := flatStrings(pm["identifiers"])
				if typ == "*" {
					out[key] = "*"
					byType = nil
					break
				}
				prev, _ := byType[typ].([]string)
				byType[typ] = append(prev, ids...)
			}
			if byType != nil {
				out[key] = byType
			}
		}
		conds := map[string]map[string][]string{}
		for _, c := range list(st["condition"]) {
			cm := asMap(c)
			test, _ := cm["test"].(string)
			variable, _ := cm["variable"].(string)
			if conds[test] == nil {
				conds[test] = map[string][]string{}
			}
			conds[test][variable] = append(conds[test][variable], flatStrings(cm["values"])...)
		}
		if len(conds) > 0 {
			out["Condition"] = conds
		}
		statements = append(statements, out)
	}
	doc["Statement"] = statements
	return doc, nil
}

// flatStrings flattens a resolved list whose elements may themselves be
// lists (a list-valued reference inside a list).
func flatStrings(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, c := range x {
			out = append(out, flatStrings(c)...)
		}
	}
	return out
}
