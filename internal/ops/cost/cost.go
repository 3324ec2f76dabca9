// Package cost estimates the monthly bill of an environment from its
// synthesized stacks (cdktf.out/stacks/<env>-<stack>/cdk.tf.json) and the
// pinned price table in prices.go. No AWS credentials are needed. Every
// resource is accounted for: priced, free, usage-priced (listed with unit
// prices) or unpriced (reported, never dropped).
package cost

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// Line is one priced resource.
type Line struct {
	Resource string  `json:"resource"` // type.name
	Detail   string  `json:"detail"`   // quantity × unit price
	Monthly  float64 `json:"monthlyUsd"`
	// Unconfirmed marks a line whose price could not be confirmed.
	Unconfirmed bool `json:"unconfirmedPrice,omitempty"`
	// group is the ALB group an Ingress joins: one ALB per group.
	group string
}

// Stack is the estimate of one stack.
type Stack struct {
	ID       string         `json:"id"`
	Lines    []Line         `json:"lines"`
	Subtotal float64        `json:"subtotalUsd"`
	Free     int            `json:"freeResources"`
	Usage    map[string]int `json:"usagePriced,omitempty"` // type -> count
	Unpriced map[string]int `json:"unpriced,omitempty"`    // type -> count
	// usageOf holds every type present that also has usage prices, priced
	// ones included (a NAT gateway's hours are fixed, its bytes are usage).
	usageOf map[string]bool
}

// Estimate is the whole environment.
type Estimate struct {
	Env      string                  `json:"env"`
	Source   string                  `json:"priceSource"`
	Stacks   []Stack                 `json:"stacks"`
	Total    float64                 `json:"totalMonthlyUsd"`
	Usage    map[string][]UsagePrice `json:"usagePrices"`
	Unpriced []string                `json:"unpriced"`
}

// ErrNotSynthesized says cdktf.out has no stack of the env.
var ErrNotSynthesized = errors.New("no synthesized stacks")

// Load reads every <env>-* stack under outdir, in deploy order.
func Load(outdir, env string) (map[string][]byte, []string, error) {
	docs := map[string][]byte{}
	var ids []string
	for _, c := range naming.DeployOrder {
		id := env + "-" + c
		raw, err := os.ReadFile(filepath.Join(outdir, "stacks", id, "cdk.tf.json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		docs[id], ids = raw, append(ids, id)
	}
	if len(ids) == 0 {
		return nil, nil, fmt.Errorf("%w for %s in %s: run `make synth` (or ENV=%s make synth) first", ErrNotSynthesized, env, outdir, env)
	}
	return docs, ids, nil
}

// Compute prices the stacks (ids in order).
func Compute(env string, docs map[string][]byte, ids []string) (*Estimate, error) {
	est := &Estimate{Env: env, Source: PriceSource, Usage: map[string][]UsagePrice{}}
	unpriced := map[string]bool{}
	for _, id := range ids {
		if !gjson.ValidBytes(docs[id]) {
			return nil, fmt.Errorf("%s: cdk.tf.json is not valid JSON; re-run make synth", id)
		}
		st := priceStack(id, gjson.ParseBytes(docs[id]))
		for t := range st.usageOf {
			est.Usage[t] = Usage[t]
		}
		for t := range st.Unpriced {
			unpriced[t] = true
		}
		est.Total += st.Subtotal
		est.Stacks = append(est.Stacks, st)
	}
	est.Usage["data-transfer"] = Usage["data-transfer"]
	for t := range unpriced {
		est.Unpriced = append(est.Unpriced, t)
	}
	sort.Strings(est.Unpriced)
	return est, nil
}

func priceStack(id string, doc gjson.Result) Stack {
	st := Stack{ID: id, Usage: map[string]int{}, Unpriced: map[string]int{}, usageOf: map[string]bool{}}
	albGroups := map[string]bool{}
	resources := doc.Get("resource")
	var types []string
	resources.ForEach(func(k, _ gjson.Result) bool { types = append(types, k.String()); return true })
	sort.Strings(types)
	for _, typ := range types {
		var names []string
		resources.Get(gjson.Escape(typ)).ForEach(func(k, _ gjson.Result) bool { names = append(names, k.String()); return true })
		sort.Strings(names)
		if _, ok := Usage[typ]; ok {
			st.usageOf[typ] = true
		}
		for _, name := range names {
			r := resources.Get(gjson.Escape(typ) + "." + gjson.Escape(name))
			lines, kind := price(typ, name, r, resources)
			if kind == priced && len(lines) == 1 && lines[0].group != "" {
				// Ingresses sharing an ALB group share one load balancer.
				if albGroups[lines[0].group] {
					st.Free++
					continue
				}
				albGroups[lines[0].group] = true
			}
			switch kind {
			case priced:
				for _, l := range lines {
					st.Subtotal += l.Monthly
					st.Lines = append(st.Lines, l)
				}
			case usage:
				st.Usage[typ]++
			case free:
				st.Free++
			default:
				st.Unpriced[typ]++
			}
		}
	}
	return st
}

type kind int

const (
	unknown kind = iota
	priced
	usage
	free
)

func hourly(res string, n float64, p Price) Line {
	return Line{Resource: res, Detail: fmt.Sprintf("%g × %.4g USD/%s × %d h", n, p.USD, p.Unit, HoursPerMonth),
		Monthly: n * p.USD * HoursPerMonth, Unconfirmed: !p.Confirmed}
}

func monthly(res string, n float64, p Price) Line {
	return Line{Resource: res, Detail: fmt.Sprintf("%g × %.4g USD/%s", n, p.USD, p.Unit), Monthly: n * p.USD, Unconfirmed: !p.Confirmed}
}

// price returns the lines of one resource and how it is billed.
func price(typ, name string, r, all gjson.Result) ([]Line, kind) {
	res := typ + "." + name
	switch typ {
	case "aws_eks_cluster":
		return []Line{hourly(res, 1, EKSControlPlane)}, priced
	case "aws_eks_node_group":
		return nodeGroup(res, r, all)
	case "aws_nat_gateway":
		return []Line{hourly(res, 1, NATGateway)}, priced
	case "aws_eip":
		return []Line{hourly(res+" (public IPv4)", 1, PublicIPv4)}, priced
	case "aws_lb", "aws_alb":
		p := ALB
		if r.Get("load_balancer_type").String() == "network" {
			p = NLB
		}
		return []Line{hourly(res, 1, p)}, priced
	case "kubernetes_ingress_v1", "kubernetes_ingress":
		return ingress(res, block(r, "metadata").Get("annotations"), block(r, "spec").Get("ingress_class_name").String())
	case "kubernetes_manifest":
		if m := r.Get("manifest"); m.Get("kind").String() == "Ingress" {
			return ingress(res, m.Get("metadata.annotations"), m.Get("spec.ingressClassName").String())
		}
		return nil, free
	case "kubernetes_service_v1", "kubernetes_service":
		if block(r, "spec").Get("type").String() == "LoadBalancer" {
			return []Line{hourly(res+" (NLB, created by the LB controller)", 1, NLB)}, priced
		}
		return nil, free
	case "aws_acmpca_certificate_authority":
		return []Line{monthly(res, 1, PrivateCA)}, priced
	case "aws_wafv2_web_acl":
		rules := len(r.Get("rule").Array())
		if rj := r.Get("rule_json"); rj.Exists() {
			rules = len(gjson.Parse(rj.String()).Array())
		}
		return []Line{monthly(res, 1, WAFWebACL), monthly(res+" rules", float64(rules), WAFRule)}, priced
	case "aws_cloudwatch_metric_alarm":
		return []Line{monthly(res, 1, MetricAlarm)}, priced
	case "aws_kms_key":
		return []Line{monthly(res, 1, KMSKey)}, priced
	case "aws_route53_zone":
		return []Line{monthly(res, 1, Route53Zone)}, priced
	case "aws_secretsmanager_secret":
		return []Line{monthly(res, 1, SecretsManagerSecret)}, priced
	case "helm_release":
		return helmVolumes(res, r)
	case "aws_cloudwatch_log_group":
		l := monthly(res, LogGroupGBPerMonth, LogsIngestion)
		l.Detail += fmt.Sprintf(" (assumes %d GB ingested/month)", LogGroupGBPerMonth)
		return []Line{l}, priced
	}
	if _, ok := Usage[typ]; ok {
		return nil, usage
	}
	if isFree(typ) {
		return nil, free
	}
	return nil, unknown
}

// block returns a nested block of r whether the JSON holds it as an object
// (how CDKTF synthesizes kubernetes_* blocks) or as a one-element list (how
// Terraform's own JSON and HCL-derived documents hold it).
func block(r gjson.Result, name string) gjson.Result {
	b := r.Get(name)
	if b.IsArray() {
		return b.Get("0")
	}
	return b
}

// ingress prices an ALB Ingress: the LB controller creates one ALB per
// group.name (or per Ingress without one) at run time, so the ALB never
// appears as an aws_lb in the synthesized stack.
func ingress(res string, annotations gjson.Result, class string) ([]Line, kind) {
	if class != "alb" && annotations.Get(gjson.Escape("kubernetes.io/ingress.class")).String() != "alb" {
		return nil, free
	}
	l := hourly(res+" (ALB, created by the LB controller)", 1, ALB)
	l.group = res
	if g := annotations.Get(gjson.Escape("alb.ingress.kubernetes.io/group.name")).String(); g != "" {
		l.group = "group:" + g
		l.Resource = "ALB group " + g + " (first Ingress: " + res + ")"
	}
	return []Line{l}, priced
}

// nodeGroup: desired nodes × instance price, plus their gp3 root volumes
// (size from the launch template, else disk_size, else EKS's 20 GB).
func nodeGroup(res string, r, all gjson.Result) ([]Line, kind) {
	typ := r.Get("instance_types.0").String()
	p, ok := InstanceHour[typ]
	if !ok {
		return nil, unknown
	}
	n := r.Get("scaling_config.desired_size")
	if !n.Exists() {
		n = r.Get("scaling_config.0.desired_size")
	}
	nodes := n.Float()
	disk := r.Get("disk_size").Float()
	if lt := r.Get("launch_template.id").String(); strings.HasPrefix(lt, "${aws_launch_template.") {
		ltName := strings.TrimSuffix(strings.TrimPrefix(lt, "${aws_launch_template."), ".id}")
		disk = all.Get("aws_launch_template." + gjson.Escape(ltName) + ".block_device_mappings.0.ebs.volume_size").Float()
	}
	if disk == 0 {
		disk = 20
	}
	l := hourly(res, nodes, p)
	l.Detail = fmt.Sprintf("%g × %s @ %.4g USD/h × %d h (desired size)", nodes, typ, p.USD, HoursPerMonth)
	return []Line{l, monthly(res+" root volumes", nodes*disk, EBSgp3)}, priced
}

// freeTypes cost nothing by themselves: configuration, identity, routing,
// and in-cluster objects (which run on the priced node group).
var freeTypes = map[string]bool{
	"aws_vpc": true, "aws_subnet": true, "aws_route": true, "aws_route_table": true, "aws_route_table_association": true,
	"aws_internet_gateway": true, "aws_security_group": true, "aws_default_security_group": true, "aws_flow_log": true,
	"aws_kms_alias": true, "aws_acm_certificate": true, "aws_acm_certificate_validation": true, "aws_route53_record": true,
	"aws_cloudfront_origin_access_control": true, "aws_cloudfront_response_headers_policy": true,
	"aws_eks_access_entry": true, "aws_eks_access_policy_association": true, "aws_eks_addon": true, "aws_launch_template": true,
	"aws_iam_openid_connect_provider": true, "aws_ecr_lifecycle_policy": true,
	"aws_codebuild_webhook": true, "aws_codeconnections_connection": true,
	"aws_vpc_security_group_ingress_rule": true, "aws_vpc_security_group_egress_rule": true,
	"aws_cloudwatch_log_resource_policy": true, "aws_wafv2_web_acl_logging_configuration": true,
	// PKI plumbing: the CA's own certificate and its installation, policies
	// and permissions; issued certificates are usage (see Usage).
	"aws_acmpca_certificate": true, "aws_acmpca_certificate_authority_certificate": true,
	"aws_acmpca_permission": true, "aws_acmpca_policy": true,
	// ALB mutual TLS trust stores have no charge of their own.
	"aws_lb_trust_store": true,
	"aws_s3_object":      true, "aws_kms_key_policy": true, "aws_kms_grant": true,
	"aws_wafv2_web_acl_association": true, "aws_sqs_queue_policy": true,
	"aws_sqs_queue_redrive_policy": true, "aws_sqs_queue_redrive_allow_policy": true,
	"aws_ssm_parameter": true,
	// AWS Backup bills stored recovery points (usage, on the vault) only.
	"aws_backup_plan": true, "aws_backup_selection": true, "aws_backup_vault_lock_configuration": true,
}

func isFree(typ string) bool {
	return freeTypes[typ] || strings.HasPrefix(typ, "aws_iam_role") || strings.HasPrefix(typ, "aws_iam_policy") ||
		strings.HasPrefix(typ, "aws_s3_bucket_") || strings.HasPrefix(typ, "kubernetes_")
}

// JSON renders the estimate for machines.
func (e *Estimate) JSON() ([]byte, error) { return json.MarshalIndent(e, "", "  ") }
