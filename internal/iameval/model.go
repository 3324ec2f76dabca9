package iameval

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Policy is one named policy document, as IAM would store it.
type Policy struct {
	// Name says where it came from: "dev-cicd aws_iam_role_policy.x" or a
	// managed policy's ARN.
	Name     string         `json:"name"`
	Document map[string]any `json:"document"`
}

// Role is an IAM role of the stacks with everything that decides what it
// can do.
type Role struct {
	// Stack and Address locate its aws_iam_role.
	Stack, Address string
	Name, Path     string
	Arn            string
	Trust          Policy
	Inline         []Policy
	// Managed are the ARNs of the policies attached to it.
	Managed []string
	// Boundary is the permissions boundary's ARN, or "".
	Boundary string
	// Tags are the role's tags, default tags included.
	Tags map[string]string
}

// Model is what IAM would hold for one environment after its stacks are
// applied: roles, customer managed policies and resource policies, with
// every reference resolved in Account.
type Model struct {
	Env *Env
	// Roles by ARN.
	Roles map[string]*Role
	// Policies are the customer managed policies, by ARN.
	Policies map[string]Policy
	// ResourcePolicies are bucket, key, queue, secret, CA and repository
	// policies, by the ARN of the resource they are attached to.
	ResourcePolicies map[string]Policy
	// ResourceTags are the tags (default tags included) of the stacks'
	// taggable resources, by ARN: a request on one gets them as
	// aws:ResourceTag/* unless it says otherwise.
	ResourceTags map[string]map[string]string
	// KeyAliases are the aliases of the stacks' KMS keys, by key ARN: a KMS
	// request on one gets them as kms:ResourceAliases.
	KeyAliases map[string][]string
}

// taggedTypes are the resource types whose tags a condition may read
// (aws:ResourceTag) and whose ARN the evaluator computes.
var taggedTypes = []string{
	"aws_acmpca_certificate_authority", "aws_cloudwatch_log_group", "aws_codeconnections_connection", "aws_dynamodb_table",
	"aws_ecr_repository", "aws_eks_cluster", "aws_iam_role", "aws_kms_key", "aws_lb_trust_store", "aws_s3_bucket",
	"aws_secretsmanager_secret", "aws_sqs_queue", "aws_cloudfront_distribution", "aws_acm_certificate", "aws_wafv2_web_acl",
	"aws_vpc", "aws_subnet", "aws_security_group", "aws_route_table", "aws_internet_gateway", "aws_nat_gateway", "aws_eip",
	"aws_launch_template", "aws_flow_log", "aws_cloudwatch_metric_alarm", "aws_default_security_group",
}

// NewModel collects the IAM side of env's stacks.
func NewModel(env *Env) (*Model, error) {
	m := &Model{Env: env, Roles: map[string]*Role{}, Policies: map[string]Policy{}, ResourcePolicies: map[string]Policy{},
		ResourceTags: map[string]map[string]string{}, KeyAliases: map[string][]string{}}
	byName := map[string]*Role{}
	for _, id := range env.ids {
		for name, cfg := range env.Blocks(id, "resource", "aws_iam_role") {
			addr := "aws_iam_role." + name
			r := &Role{Stack: id, Address: addr}
			var err error
			if r.Arn, err = m.str(id, addr, "arn"); err != nil {
				return nil, err
			}
			if r.Name, err = m.str(id, addr, "name"); err != nil {
				return nil, err
			}
			r.Path, _ = env.String(id, cfg["path"])
			if r.Path == "" {
				r.Path = "/"
			}
			if r.Trust, err = m.document(id, addr+" trust", cfg["assume_role_policy"]); err != nil {
				return nil, err
			}
			if cfg["permissions_boundary"] != nil {
				if r.Boundary, err = env.String(id, cfg["permissions_boundary"]); err != nil {
					return nil, fmt.Errorf("%s %s: permissions_boundary: %w", id, addr, err)
				}
			}
			if r.Tags, err = env.Tags(id, addr); err != nil {
				return nil, err
			}
			for _, p := range list(cfg["inline_policy"]) {
				pol, err := m.document(id, addr+" inline "+fmt.Sprint(asMap(p)["name"]), asMap(p)["policy"])
				if err != nil {
					return nil, err
				}
				r.Inline = append(r.Inline, pol)
			}
			if arns, err := env.Resolve(id, cfg["managed_policy_arns"]); err == nil {
				r.Managed = append(r.Managed, flatStrings(arns)...)
			}
			m.Roles[r.Arn] = r
			byName[r.Name] = r
		}
		for name, cfg := range env.Blocks(id, "resource", "aws_iam_policy") {
			addr := "aws_iam_policy." + name
			arn, err := m.str(id, addr, "arn")
			if err != nil {
				return nil, err
			}
			pol, err := m.document(id, arn, cfg["policy"])
			if err != nil {
				return nil, err
			}
			m.Policies[arn] = pol
		}
	}
	role := func(id, addr string, ref any) (*Role, error) {
		name, err := env.String(id, ref)
		if err != nil {
			return nil, fmt.Errorf("%s %s: role: %w", id, addr, err)
		}
		r := byName[name]
		if r == nil {
			return nil, fmt.Errorf("%s %s: role %q is not a role of the stacks of %s", id, addr, name, env.Name)
		}
		return r, nil
	}
	for _, id := range env.ids {
		for name, cfg := range env.Blocks(id, "resource", "aws_iam_role_policy") {
			addr := "aws_iam_role_policy." + name
			r, err := role(id, addr, cfg["role"])
			if err != nil {
				return nil, err
			}
			pol, err := m.document(id, id+" "+addr, cfg["policy"])
			if err != nil {
				return nil, err
			}
			r.Inline = append(r.Inline, pol)
		}
		for name, cfg := range env.Blocks(id, "resource", "aws_iam_role_policy_attachment") {
			addr := "aws_iam_role_policy_attachment." + name
			r, err := role(id, addr, cfg["role"])
			if err != nil {
				return nil, err
			}
			arn, err := env.String(id, cfg["policy_arn"])
			if err != nil {
				return nil, fmt.Errorf("%s %s: policy_arn: %w", id, addr, err)
			}
			r.Managed = append(r.Managed, arn)
		}
		if err := m.collectResourcePolicies(id); err != nil {
			return nil, err
		}
		if err := m.collectTags(id); err != nil {
			return nil, err
		}
		for name, cfg := range env.Blocks(id, "resource", "aws_kms_alias") {
			alias, err := env.String(id, cfg["name"])
			if err != nil {
				return nil, fmt.Errorf("%s aws_kms_alias.%s: name: %w", id, name, err)
			}
			target, err := env.String(id, cfg["target_key_id"])
			if err != nil {
				return nil, fmt.Errorf("%s aws_kms_alias.%s: target_key_id: %w", id, name, err)
			}
			if !strings.HasPrefix(target, "arn:") {
				target = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", env.Region(id, "aws_kms_alias."+name), Account, target)
			}
			m.KeyAliases[target] = append(m.KeyAliases[target], alias)
		}
	}
	for _, r := range m.Roles {
		sort.Slice(r.Inline, func(i, j int) bool { return r.Inline[i].Name < r.Inline[j].Name })
		sort.Strings(r.Managed)
	}
	return m, nil
}

// resourcePolicySources are the resources that attach a policy to another
// resource: the attribute naming the target, how to turn it into an ARN,
// and the policy attribute.
var resourcePolicySources = []struct {
	typ, target, policy string
	arn                 func(string) string
}{
	{"aws_s3_bucket_policy", "bucket", "policy", func(b string) string { return "arn:aws:s3:::" + b }},
	{"aws_sqs_queue_policy", "queue_url", "policy", queueArnFromURL},
	{"aws_secretsmanager_secret_policy", "secret_arn", "policy", nil},
	{"aws_acmpca_policy", "resource_arn", "policy", nil},
	{"aws_ecr_repository_policy", "repository", "policy", nil},
}

// resourceOwnPolicies are resources whose own attribute is their policy.
var resourceOwnPolicies = map[string]string{
	"aws_kms_key": "policy", "aws_sqs_queue": "policy", "aws_secretsmanager_secret": "policy",
}

func (m *Model) collectResourcePolicies(id string) error {
	env := m.Env
	for _, src := range resourcePolicySources {
		for name, cfg := range env.Blocks(id, "resource", src.typ) {
			addr := src.typ + "." + name
			target, err := env.String(id, cfg[src.target])
			if err != nil {
				return fmt.Errorf("%s %s: %s: %w", id, addr, src.target, err)
			}
			if src.typ == "aws_ecr_repository_policy" {
				target = fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s", env.stacks[id].regions[""], Account, target)
			} else if src.arn != nil {
				target = src.arn(target)
			}
			pol, err := m.document(id, id+" "+addr, cfg[src.policy])
			if err != nil {
				return err
			}
			m.ResourcePolicies[target] = pol
		}
	}
	for typ, attr := range resourceOwnPolicies {
		for name, cfg := range env.Blocks(id, "resource", typ) {
			if cfg[attr] == nil {
				continue
			}
			addr := typ + "." + name
			arn, err := m.str(id, addr, "arn")
			if err != nil {
				return err
			}
			pol, err := m.document(id, id+" "+addr, cfg[attr])
			if err != nil {
				return err
			}
			m.ResourcePolicies[arn] = pol
		}
	}
	return nil
}

func (m *Model) collectTags(id string) error {
	for _, typ := range taggedTypes {
		for name := range m.Env.Blocks(id, "resource", typ) {
			arn, err := m.str(id, typ+"."+name, "arn")
			if err != nil {
				return err
			}
			if m.ResourceTags[arn], err = m.Env.Tags(id, typ+"."+name); err != nil {
				return err
			}
		}
	}
	return nil
}

func queueArnFromURL(url string) string {
	// https://sqs.<region>.amazonaws.com/<account>/<name>
	parts := strings.Split(strings.TrimPrefix(url, "https://"), "/")
	if len(parts) != 3 {
		return url
	}
	region := strings.TrimSuffix(strings.TrimPrefix(parts[0], "sqs."), ".amazonaws.com")
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, parts[1], parts[2])
}

func (m *Model) str(id, addr, attr string) (string, error) {
	v, err := m.Env.Attr(id, addr, attr)
	if err != nil {
		return "", fmt.Errorf("%s %s.%s: %w", id, addr, attr, err)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s %s.%s is %T, not a string", id, addr, attr, v)
	}
	return s, nil
}

// document resolves a policy attribute (a JSON string, usually a policy
// document's json) and parses it.
func (m *Model) document(id, name string, raw any) (Policy, error) {
	s, err := m.Env.String(id, raw)
	if err != nil {
		return Policy{}, fmt.Errorf("%s: %w", name, err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return Policy{}, fmt.Errorf("%s: the policy is not JSON: %w", name, err)
	}
	return Policy{Name: name, Document: doc}, nil
}

// Role returns the role with the given name or ARN, or nil.
func (m *Model) Role(nameOrArn string) *Role {
	if r := m.Roles[nameOrArn]; r != nil {
		return r
	}
	for _, r := range m.Roles {
		if r.Name == nameOrArn {
			return r
		}
	}
	return nil
}

// RoleNames returns every role's name, sorted.
func (m *Model) RoleNames() []string {
	var out []string
	for _, r := range m.Roles {
		out = append(out, r.Name)
	}
	sort.Strings(out)
	return out
}

// RoleArn is the ARN a role of this account with name and path has.
func RoleArn(path, name string) string {
	if path == "" {
		path = "/"
	}
	return fmt.Sprintf("arn:aws:iam::%s:role%s%s", Account, path, name)
}
