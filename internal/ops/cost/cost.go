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
	"strconv"
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
	// unknownNodes are node group instance types without a price.
	unknownNodes []string
}

// Estimate is the whole environment.
type Estimate struct {
	Env      string                  `json:"env"`
	Source   string                  `json:"priceSource"`
	Stacks   []Stack                 `json:"stacks"`
	Total    float64                 `json:"totalMonthlyUsd"`
	Usage    map[string][]UsagePrice `json:"usagePrices"`
	Unpriced []string                `json:"unpriced"`
	// Region is the region the stacks were synthesized for (their AWS
	// provider's), which must be PriceRegion.
	Region string `json:"region"`
	// UnknownNodeTypes are node instance types the table has no price for;
	// the estimate is incomplete while any is listed.
	UnknownNodeTypes []string `json:"unknownNodeTypes,omitempty"`
}

// ErrRegionNotPriced refuses stacks synthesized for a region the pinned
// table does not cover: its prices would be another region's.
var ErrRegionNotPriced = errors.New("region not in the price table")

// Region returns the region the stacks' default AWS provider deploys to.
func Region(docs map[string][]byte, ids []string) (string, error) {
	for _, id := range ids {
		var region string
		gjson.GetBytes(docs[id], "provider.aws").ForEach(func(_, p gjson.Result) bool {
			if !p.Get("alias").Exists() && p.Get("region").String() != "" {
				region = p.Get("region").String()
				return false
			}
			return true
		})
		if region != "" {
			return region, nil
		}
	}
	return "", errors.New("no stack names an AWS provider region; re-run make synth")
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
	region, err := Region(docs, ids)
	if err != nil {
		return nil, err
	}
	if region != PriceRegion {
		return nil, fmt.Errorf("%w: the %s stacks were synthesized for %s, but the pinned price table (internal/ops/cost/prices.go) has %s prices only; an estimate from them would be wrong. Synthesize for %s (unset AWS_REGION) to compare, or add %s's prices to the table",
			ErrRegionNotPriced, env, region, PriceRegion, PriceRegion, region)
	}
	est := &Estimate{Env: env, Source: PriceSource, Usage: map[string][]UsagePrice{}, Region: region}
	unknownNodes := map[string]bool{}
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
		for _, t := range st.unknownNodes {
			unknownNodes[t] = true
		}
		est.Total += st.Subtotal
		est.Stacks = append(est.Stacks, st)
	}
	est.Usage["data-transfer"] = Usage["data-transfer"]
	for t := range unpriced {
		est.Unpriced = append(est.Unpriced, t)
	}
	sort.Strings(est.Unpriced)
	for t := range unknownNodes {
		est.UnknownNodeTypes = append(est.UnknownNodeTypes, t)
	}
	sort.Strings(est.UnknownNodeTypes)
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
				if typ == "aws_eks_node_group" {
					st.unknownNodes = append(st.unknownNodes, r.Get("instance_types.0").String())
				}
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
		return nodeGroup(name, r, all)
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
		if r.Get("usage_mode").String() == "SHORT_LIVED_CERTIFICATE" {
			return []Line{monthly(res, 1, PrivateCAShortLived)}, priced
		}
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
// (size from the launch template, else disk_size, else EKS's 20 GB). An
// on-demand group is priced at its first type (EKS launches the first type
// it can); a Spot group at the highest SpotHour of its types. Scheduled
// actions that scale the group to zero shorten both by the share of the
// week it runs.
func nodeGroup(name string, r, all gjson.Result) ([]Line, kind) {
	res := "aws_eks_node_group." + name
	var types []string
	for _, t := range r.Get("instance_types").Array() {
		types = append(types, t.String())
	}
	if len(types) == 0 {
		return nil, unknown
	}
	p, ok := InstanceHour[types[0]]
	how := types[0]
	if r.Get("capacity_type").String() == "SPOT" {
		p, how, ok = spotPrice(types)
	}
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
	share, schedule := runningShare(name, all)
	hours := share * HoursPerMonth
	compute := Line{Resource: res, Monthly: nodes * p.USD * hours, Unconfirmed: !p.Confirmed,
		Detail: fmt.Sprintf("%g × %s @ %.4g USD/h × %d h (desired size)", nodes, how, p.USD, HoursPerMonth)}
	volumes := monthly(res+" root volumes", nodes*disk*share, EBSgp3)
	if schedule != "" {
		compute.Detail = fmt.Sprintf("%g × %s @ %.4g USD/h × %.0f h (desired size; %s)", nodes, how, p.USD, hours, schedule)
		volumes.Detail = fmt.Sprintf("%g GB × %.4g USD/GB-month × %.0f%% of the month", nodes*disk, EBSgp3.USD, share*100)
	}
	return []Line{compute, volumes}, priced
}

// spotPrice is the highest SpotHour of types: EC2 picks among the pools,
// so the estimate assumes the dearest. ok is false when a type has no
// Spot price in the table.
func spotPrice(types []string) (Price, string, bool) {
	var best Price
	bestType := ""
	for _, t := range types {
		p, ok := SpotHour[t]
		if !ok {
			return Price{}, "", false
		}
		if bestType == "" || p.USD > best.USD {
			best, bestType = p, t
		}
	}
	how := fmt.Sprintf("Spot (%d types, dearest %s; on-demand %.4g)", len(types), bestType, InstanceHour[bestType].USD)
	return best, how, true
}

// runningShare is the share of a week the node group runs under its
// scheduled actions (aws_autoscaling_schedule on the group's Auto Scaling
// group), with a note for the line; 1 and "" when there are none. An
// action whose desired capacity is 0 stops the nodes, any other starts
// them. Recurrences are read as minute, hour, day of month, month and day
// of week; one that names days of the month or months cannot be priced by
// week and counts as always running, which the note says.
func runningShare(group string, all gjson.Result) (float64, string) {
	ref := "${aws_eks_node_group." + group + ".resources"
	type action struct {
		cron cronSpec
		up   bool
	}
	var actions []action
	var bad []string
	all.Get("aws_autoscaling_schedule").ForEach(func(_, s gjson.Result) bool {
		if !strings.HasPrefix(s.Get("autoscaling_group_name").String(), ref) {
			return true
		}
		c, err := parseCron(s.Get("recurrence").String())
		if err != nil {
			bad = append(bad, err.Error())
			return true
		}
		actions = append(actions, action{c, s.Get("desired_capacity").Int() > 0})
		return true
	})
	if len(bad) > 0 {
		return 1, "priced as always running: " + strings.Join(bad, "; ")
	}
	if len(actions) == 0 {
		return 1, ""
	}
	// Two passes over a week: the first settles the state the week starts
	// in, the second counts the minutes the nodes run.
	const week = 7 * 24 * 60
	running, minutes := true, 0
	for pass := 0; pass < 2; pass++ {
		for m := 0; m < week; m++ {
			for _, a := range actions {
				if a.cron.matches(m/1440, m/60%24, m%60) {
					running = a.up
				}
			}
			if pass == 1 && running {
				minutes++
			}
		}
	}
	share := float64(minutes) / week
	return share, fmt.Sprintf("scheduled: runs %.1f h a week, %.0f%% of the month", float64(minutes)/60, share*100)
}

// cronSpec is a parsed recurrence: allowed weekdays (0 = Sunday), hours
// and minutes.
type cronSpec struct{ days, hours, minutes map[int]bool }

func (c cronSpec) matches(day, hour, minute int) bool {
	return c.days[day] && c.hours[hour] && c.minutes[minute]
}

var dayNames = map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}

// parseCron reads "minute hour * * weekday" with *, numbers, names,
// ranges a-b and comma lists.
func parseCron(expr string) (cronSpec, error) {
	f := strings.Fields(expr)
	if len(f) != 5 || f[2] != "*" || f[3] != "*" {
		return cronSpec{}, fmt.Errorf("recurrence %q is not \"minute hour * * weekday\"", expr)
	}
	var c cronSpec
	var err error
	if c.minutes, err = cronField(f[0], 0, 59, nil); err == nil {
		if c.hours, err = cronField(f[1], 0, 23, nil); err == nil {
			c.days, err = cronField(f[4], 0, 7, dayNames)
		}
	}
	if err != nil {
		return cronSpec{}, fmt.Errorf("recurrence %q: %v", expr, err)
	}
	if c.days[7] { // 7 is Sunday too
		c.days[0] = true
	}
	return c, nil
}

func cronField(field string, lo, hi int, names map[string]int) (map[int]bool, error) {
	out := map[int]bool{}
	value := func(s string) (int, error) {
		if v, ok := names[strings.ToUpper(s)]; ok {
			return v, nil
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < lo || v > hi {
			return 0, fmt.Errorf("%q is not a value from %d to %d", s, lo, hi)
		}
		return v, nil
	}
	for _, part := range strings.Split(field, ",") {
		if part == "*" {
			for v := lo; v <= hi; v++ {
				out[v] = true
			}
			continue
		}
		a, b, isRange := strings.Cut(part, "-")
		from, err := value(a)
		if err != nil {
			return nil, err
		}
		to := from
		if isRange {
			if to, err = value(b); err != nil {
				return nil, err
			}
		}
		if to < from {
			return nil, fmt.Errorf("range %q runs backwards", part)
		}
		for v := from; v <= to; v++ {
			out[v] = true
		}
	}
	return out, nil
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
	// ALB mutual TLS trust stores, CloudFront public keys and key groups
	// and SNS topic policies have no charge of their own.
	"aws_lb_trust_store": true, "aws_cloudfront_public_key": true, "aws_cloudfront_key_group": true,
	"aws_sns_topic_policy": true,
	"aws_s3_object":        true, "aws_kms_key_policy": true, "aws_kms_grant": true,
	"aws_wafv2_web_acl_association": true, "aws_sqs_queue_policy": true,
	"aws_sqs_queue_redrive_policy": true, "aws_sqs_queue_redrive_allow_policy": true,
	"aws_ssm_parameter": true,
	// Scheduled actions cost nothing; the node group's line prices their effect.
	"aws_autoscaling_schedule": true,
	// AWS Backup bills stored recovery points (usage, on the vault) only.
	"aws_backup_plan": true, "aws_backup_selection": true, "aws_backup_vault_lock_configuration": true,
}

func isFree(typ string) bool {
	return freeTypes[typ] || strings.HasPrefix(typ, "aws_iam_role") || strings.HasPrefix(typ, "aws_iam_policy") ||
		strings.HasPrefix(typ, "aws_s3_bucket_") || strings.HasPrefix(typ, "kubernetes_")
}

// JSON renders the estimate for machines.
func (e *Estimate) JSON() ([]byte, error) { return json.MarshalIndent(e, "", "  ") }
