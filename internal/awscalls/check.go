package awscalls

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spatialprops/spatialprops-infra/internal/iameval"
)

// HumanStacks are the stack suffixes CI never deploys (Makefile
// HUMAN_ONLY, .github/workflows/infra-deploy.yml): the state stack
// (bootstrap) and the cicd stack (CI's own access).
var HumanStacks = []string{"-state", "-cicd"}

// CIStack reports whether the infra deploy role deploys stack id.
func CIStack(id string) bool {
	for _, s := range HumanStacks {
		if strings.HasSuffix(id, s) {
			return false
		}
	}
	return true
}

// DeployRole is the name of env's infra deploy role in m: the one role
// named "<org>-<env>-gha-infra-deploy".
func DeployRole(m *iameval.Model) (string, error) {
	suffix := "-" + m.Env.Name + "-gha-infra-deploy"
	var found []string
	for _, name := range m.RoleNames() {
		if strings.HasSuffix(name, suffix) {
			found = append(found, name)
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("want one role named *%s in the %s stacks, found %v", suffix, m.Env.Name, found)
	}
	return found[0], nil
}

// Denial is an action the role may not take on any resource it applies to.
type Denial struct {
	Stack  string
	Action string
	// Calls are the recorded calls that need the action.
	Calls []Call
	// Why is the simulator's answer on the first resource tried (the
	// deciding statements), or why nothing could be evaluated.
	Why string
}

func (d Denial) String() string {
	var made []string
	for _, c := range d.Calls {
		made = append(made, fmt.Sprintf("%s %s by %s", c.Service, c.Operation, c.ResourceType))
	}
	return fmt.Sprintf("%s: %s DENIED (%s)\n      %s", d.Stack, d.Action, strings.Join(made, "; "), d.Why)
}

// Report is what Check found.
type Report struct {
	Role   string
	Stacks []string
	// Requests are the AWS requests recorded in Stacks; Calls the distinct
	// (stack, service, operation, resource type) among them.
	Requests, Calls int
	// Actions are the distinct IAM actions the calls need (exempt ones
	// aside), all stacks together.
	Actions []string
	// Exempt are the distinct exempt operations seen ("STS GetCallerIdentity").
	Exempt []string
	// Evaluated is how many (action, resource) requests the simulator answered.
	Evaluated int
	Denied    []Denial
}

// OK reports whether every action was allowed.
func (r Report) OK() bool { return len(r.Denied) == 0 }

func (r Report) String() string {
	head := fmt.Sprintf("%d AWS requests recorded in %d CI-deployed stacks (%s): %d distinct calls, %d distinct IAM actions",
		r.Requests, len(r.Stacks), strings.Join(r.Stacks, ", "), r.Calls, len(r.Actions))
	if len(r.Exempt) > 0 {
		head += fmt.Sprintf(" (exempt, needing no permission: %s)", strings.Join(r.Exempt, ", "))
	}
	if r.OK() {
		return head + fmt.Sprintf("; all allowed for %s (%d IAM evaluations)", r.Role, r.Evaluated)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s; %d denied for %s:", head, len(r.Denied), r.Role)
	for _, d := range r.Denied {
		b.WriteString("\n  - " + d.String())
	}
	return b.String()
}

// target is one resource an action may be evaluated on: its ARN and the
// context a call on it carries.
type target struct {
	arn string
	ctx map[string]any
}

// passedTo is the service a resource type hands its role to
// (iam:PassedToService of the iam:PassRole it needs).
var passedTo = map[string]string{
	"aws_eks_cluster":       "eks.amazonaws.com",
	"aws_eks_node_group":    "eks.amazonaws.com",
	"aws_flow_log":          "vpc-flow-logs.amazonaws.com",
	"aws_codebuild_project": "codebuild.amazonaws.com",
}

// Check evaluates, for role in m, every IAM action the calls need: each
// must be allowed on at least one resource it applies to, among the
// resources the call's stack declares (those of the whole env when the
// stack has none of that service; the state objects and bucket for the
// S3 backend's calls), with the context a call on that resource carries
// (its tags as aws:RequestTag, the role's boundary, the record names, the
// service a role is passed to). An action that takes no resource is
// evaluated on "*". Calls of stacks CIStack rejects are left out.
func Check(m *iameval.Model, cat *Catalog, role string, calls []Call, requests map[string]int) (Report, error) {
	rep := Report{Role: role}
	if m.Role(role) == nil {
		return rep, fmt.Errorf("no role %s in the %s stacks", role, m.Env.Name)
	}
	type unit struct {
		stack, action, passed string
		backend               bool
	}
	units := map[unit][]Call{}
	actions, exempt, stacks := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, c := range calls {
		if !CIStack(c.Stack) {
			continue
		}
		if !stacks[c.Stack] {
			stacks[c.Stack] = true
			rep.Requests += requests[c.Stack]
		}
		rep.Calls++
		if IsExempt(c.Service, c.Operation) {
			exempt[c.Service+" "+c.Operation] = true
			continue
		}
		as, err := cat.Actions(c.Service, c.Operation)
		if err != nil {
			return rep, fmt.Errorf("%s: %w", c, err)
		}
		for _, a := range as {
			actions[a] = true
			u := unit{stack: c.Stack, action: a, backend: c.ResourceType == Backend}
			if a == "iam:PassRole" {
				u.passed = passedTo[c.ResourceType]
			}
			units[u] = append(units[u], c)
		}
	}
	rep.Stacks, rep.Actions, rep.Exempt = sortedKeys(stacks), sortedKeys(actions), sortedKeys(exempt)
	for _, s := range rep.Stacks {
		if m.Env.Raw(s) == nil {
			return rep, fmt.Errorf("calls of stack %s, which the %s synth does not have", s, m.Env.Name)
		}
	}

	t := newTargets(m)
	var ordered []unit
	for u := range units {
		ordered = append(ordered, u)
	}
	sort.Slice(ordered, func(i, j int) bool {
		a, b := ordered[i], ordered[j]
		if a.stack != b.stack {
			return a.stack < b.stack
		}
		if a.action != b.action {
			return a.action < b.action
		}
		return a.passed < b.passed || (a.passed == b.passed && !a.backend && b.backend)
	})
	noTarget := map[unit]string{}
	allowed := map[unit]bool{}
	why := map[unit]string{}
	// evaluate answers, for each unit, whether one of its candidates is
	// allowed; wrongType are the units whose every candidate was of a
	// resource type the action does not take.
	evaluate := func(cands map[unit][]target) (wrongType []unit, err error) {
		var reqs []iameval.Request
		var owner []unit
		for _, u := range ordered {
			for _, c := range cands[u] {
				r := iameval.Request{Principal: role, Action: u.action, Resource: c.arn, Context: map[string]any{}}
				for k, v := range c.ctx {
					r.Context[k] = v
				}
				if u.passed != "" {
					r.Context["iam:PassedToService"] = u.passed
				}
				reqs = append(reqs, r)
				owner = append(owner, u)
			}
		}
		results, err := m.Evaluate(reqs)
		if err != nil {
			return nil, err
		}
		rep.Evaluated += len(results)
		evaluated := map[unit]bool{}
		for i, r := range results {
			u := owner[i]
			if r.Err == "" {
				evaluated[u] = true
			}
			if r.Allowed() {
				allowed[u] = true
				continue
			}
			// A denial explains better than a resource of the wrong type.
			if _, seen := why[u]; !seen || (r.Err == "" && strings.Contains(why[u], "not evaluated")) {
				why[u] = r.Explain()
			}
		}
		for _, u := range ordered {
			if len(cands[u]) > 0 && !evaluated[u] {
				wrongType = append(wrongType, u)
			}
		}
		return wrongType, nil
	}
	first := map[unit][]target{}
	for _, u := range ordered {
		svc := strings.SplitN(u.action, ":", 2)[0]
		var cands []target
		if u.backend {
			cands = t.backend(u.stack)
		} else {
			cands = ofService(t.stack(u.stack), svc)
			if len(cands) == 0 {
				cands = ofService(t.env(), svc)
			}
		}
		if len(cands) == 0 {
			none, err := cat.TakesNoResource(u.action)
			if err != nil {
				return rep, err
			}
			if !none {
				noTarget[u] = fmt.Sprintf("no resource of the %s stacks that %s applies to", m.Env.Name, u.action)
				continue
			}
			cands = []target{{arn: "*", ctx: t.defaultTags(u.stack)}}
		}
		first[u] = cands
	}
	wrongType, err := evaluate(first)
	if err != nil {
		return rep, err
	}
	// The stack's resources of the service are not of a type the action
	// takes: the env's are the candidates.
	second := map[unit][]target{}
	for _, u := range wrongType {
		if !u.backend {
			second[u] = ofService(t.env(), strings.SplitN(u.action, ":", 2)[0])
		}
	}
	if len(second) > 0 {
		if _, err := evaluate(second); err != nil {
			return rep, err
		}
	}
	for _, u := range ordered {
		if allowed[u] {
			continue
		}
		w := why[u]
		if n, ok := noTarget[u]; ok {
			w = n
		}
		rep.Denied = append(rep.Denied, Denial{Stack: u.stack, Action: u.action, Calls: units[u], Why: w})
	}
	return rep, nil
}

func ofService(ts []target, svc string) []target {
	var out []target
	for _, t := range ts {
		parts := strings.SplitN(t.arn, ":", 4)
		if len(parts) >= 3 && parts[2] == svc {
			out = append(out, t)
		}
	}
	return out
}

// targets derives, per stack, the ARNs of the resources it declares and
// the context a call on each carries.
type targets struct {
	m     *iameval.Model
	cache map[string][]target
}

func newTargets(m *iameval.Model) *targets { return &targets{m: m, cache: map[string][]target{}} }

func (t *targets) env() []target {
	var out []target
	for _, id := range t.m.Env.Stacks() {
		out = append(out, t.stack(id)...)
	}
	return out
}

// defaultTags are the provider's default tags, as a request's tags.
func (t *targets) defaultTags(id string) map[string]any {
	tags := map[string]string{}
	if dt, ok := t.m.Env.Raw(id, "provider", "aws").([]any); ok {
		for _, p := range dt {
			pm, _ := p.(map[string]any)
			if pm["alias"] != nil {
				continue
			}
			for _, d := range asList(pm["default_tags"]) {
				tm, _ := d.(map[string]any)
				for k, v := range asMapAny(tm["tags"]) {
					if s, ok := v.(string); ok {
						tags[k] = s
					}
				}
			}
		}
	}
	return requestTags(tags)
}

func requestTags(tags map[string]string) map[string]any {
	ctx := map[string]any{}
	keys := make([]string, 0, len(tags))
	for k, v := range tags {
		ctx["aws:RequestTag/"+k] = v
		keys = append(keys, k)
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		ctx["aws:TagKeys"] = keys
	}
	return ctx
}

// backend is the S3 backend's bucket, state object and lock object, and
// the state objects of the other stacks it reads (terraform_remote_state,
// which reads through the same backend code).
func (t *targets) backend(id string) []target {
	cfg := asMapAny(t.m.Env.Raw(id, "terraform", "backend", "s3"))
	bucket, _ := cfg["bucket"].(string)
	key, _ := cfg["key"].(string)
	if bucket == "" || key == "" {
		return nil
	}
	b := "arn:aws:s3:::" + bucket
	out := []target{{arn: b}, {arn: b + "/" + key}, {arn: b + "/" + key + ".tflock"}}
	for _, name := range sortedKeys(t.m.Env.Blocks(id, "data", "terraform_remote_state")) {
		rc := asMapAny(t.m.Env.Blocks(id, "data", "terraform_remote_state")[name]["config"])
		rb, _ := rc["bucket"].(string)
		rk, _ := rc["key"].(string)
		if rb != "" && rk != "" {
			out = append(out, target{arn: "arn:aws:s3:::" + rb + "/" + rk})
		}
	}
	return out
}

func (t *targets) stack(id string) []target {
	if ts, ok := t.cache[id]; ok {
		return ts
	}
	env := t.m.Env
	var out []target
	add := func(arn string, ctx map[string]any) {
		if strings.HasPrefix(arn, "arn:") {
			out = append(out, target{arn: arn, ctx: ctx})
		}
	}
	str := func(v any) string {
		s, err := env.String(id, v)
		if err != nil {
			return ""
		}
		return s
	}
	attr := func(addr, name string) string {
		v, err := env.Attr(id, addr, name)
		if err != nil {
			return ""
		}
		s, _ := v.(string)
		return s
	}
	withRole := func(arn string, ctx map[string]any) map[string]any {
		if r := t.m.Role(arn); r != nil && r.Boundary != "" {
			ctx["iam:PermissionsBoundary"] = r.Boundary
		}
		return ctx
	}
	for _, typ := range env.ResourceTypes(id) {
		for name, cfg := range env.Blocks(id, "resource", typ) {
			addr := typ + "." + name
			tags, err := env.Tags(id, addr)
			if err != nil {
				tags = nil
			}
			ctx := requestTags(tags)
			arn := attr(addr, "arn")
			switch typ {
			case "aws_iam_role":
				add(arn, withRole(arn, ctx))
				continue
			case "aws_iam_role_policy", "aws_iam_role_policy_attachment":
				r := t.m.Role(str(cfg["role"]))
				if r == nil {
					continue
				}
				c := withRole(r.Arn, requestTags(r.Tags))
				if p := str(cfg["policy_arn"]); p != "" {
					c["iam:PolicyARN"] = p
				}
				add(r.Arn, c)
				continue
			case "aws_cloudwatch_log_group":
				add(arn+":*", ctx)
			case "aws_s3_object":
				if b, k := str(cfg["bucket"]), str(cfg["key"]); b != "" && k != "" {
					add("arn:aws:s3:::"+b+"/"+k, ctx)
				}
			case "aws_cloudfront_origin_access_control":
				add(fmt.Sprintf("arn:aws:cloudfront::%s:origin-access-control/%s", iameval.Account, attr(addr, "id")), ctx)
			case "aws_cloudfront_response_headers_policy":
				add(fmt.Sprintf("arn:aws:cloudfront::%s:response-headers-policy/%s", iameval.Account, attr(addr, "id")), ctx)
			case "aws_route53_record":
				if zone := str(cfg["zone_id"]); zone != "" {
					c := map[string]any{}
					if n := str(cfg["name"]); n != "" {
						c["route53:ChangeResourceRecordSetsNormalizedRecordNames"] = []string{strings.ToLower(strings.TrimSuffix(n, "."))}
					}
					add("arn:aws:route53:::hostedzone/"+zone, c)
					// the change the call returns, which the provider
					// waits on (route53:GetChange)
					add("arn:aws:route53:::change/C"+strings.ToUpper(strings.TrimPrefix(zone, "Z")), map[string]any{})
				}
			case "aws_kms_alias":
				if k := str(cfg["target_key_id"]); strings.HasPrefix(k, "arn:") {
					add(k, ctx)
				}
			case "aws_acmpca_certificate", "aws_acmpca_certificate_authority_certificate":
				ca := str(cfg["certificate_authority_arn"])
				c := map[string]any{}
				if tpl := str(cfg["template_arn"]); tpl != "" {
					c["acm-pca:TemplateArn"] = tpl
				}
				add(ca, c)
			case "aws_eks_addon", "aws_eks_access_entry", "aws_eks_access_policy_association", "aws_eks_node_group":
				cluster := str(cfg["cluster_name"])
				region := env.Region(id, addr)
				if cluster != "" {
					add(fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", region, iameval.Account, cluster), ctx)
					switch typ {
					case "aws_eks_addon":
						add(fmt.Sprintf("arn:aws:eks:%s:%s:addon/%s/%s/%s", region, iameval.Account, cluster, str(cfg["addon_name"]), "0"), ctx)
					case "aws_eks_node_group":
						// named by node_group_name or, as here, a prefix
						// the provider completes
						ng := str(cfg["node_group_name"])
						if ng == "" {
							ng = str(cfg["node_group_name_prefix"]) + "20260101000000000000000001"
						}
						add(fmt.Sprintf("arn:aws:eks:%s:%s:nodegroup/%s/%s/%s", region, iameval.Account, cluster, ng, "0"), ctx)
						continue
					case "aws_eks_access_entry", "aws_eks_access_policy_association":
						add(fmt.Sprintf("arn:aws:eks:%s:%s:access-entry/%s/role/%s/x/0", region, iameval.Account, cluster, iameval.Account), ctx)
					}
				}
			}
			add(arn, ctx)
		}
	}
	for _, typ := range env.DataTypes(id) {
		for name := range env.Blocks(id, "data", typ) {
			if typ == "aws_caller_identity" || typ == "aws_iam_policy_document" {
				continue
			}
			add(attr("data."+typ+"."+name, "arn"), map[string]any{})
		}
	}
	t.cache[id] = out
	return out
}

func asMapAny(v any) map[string]any {
	if l, ok := v.([]any); ok && len(l) == 1 {
		v = l[0]
	}
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case map[string]any:
		return []any{x}
	}
	return nil
}
