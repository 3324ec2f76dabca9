// Package emulator adapts a copy of synthesized stacks to moto_server, the
// AWS emulator the offline deploy (`make e2e`) applies them to. It is the one
// place that knows what moto cannot do; every adaptation names the moto
// limitation and the moto source file that shows it, and may touch only the
// resource types it lists (a test fails otherwise). It never runs on the
// real cdktf.out.
//
// Endpoints and TLS need no change to the JSON: the AWS provider and the S3
// backend read AWS_ENDPOINT_URL and AWS_CA_BUNDLE (see Env).
package emulator

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Doc is one stack's cdk.tf.json, decoded.
type Doc = map[string]any

// Adaptation is one change moto forces on a stack.
type Adaptation struct {
	// Name identifies it in logs and tests.
	Name string
	// Limitation is what moto does differently from AWS.
	Limitation string
	// Source is the moto 5.2 file where the behaviour lives.
	Source string
	// Touches lists the Terraform types (resource types, or "data.<type>")
	// it may edit or remove.
	Touches []string
	apply   func(d Doc) []string
}

// Adaptations is the complete, deliberately short list.
var Adaptations = []Adaptation{
	{
		Name: "bucket-policy-conditions",
		Limitation: "moto evaluates bucket policies on object requests without the request context, so a " +
			"condition never narrows a statement: the TLS-only Deny (aws:SecureTransport=false) denies every " +
			"request, Terraform's own state reads included. Conditional Deny statements are dropped from bucket " +
			"policies; a policy left empty is dropped too, since moto refuses a policy without statements.",
		Source:  "moto/s3/models.py (FakeBucket.get_permission) -> moto/iam/access_control.py (IAMPolicy.is_action_permitted)",
		Touches: []string{"aws_s3_bucket_policy", "data.aws_iam_policy_document"},
		apply:   dropConditionalBucketDenies,
	},
	{
		Name:       "eks-addons",
		Limitation: "moto's EKS has clusters, node groups and Fargate profiles but no CreateAddon.",
		Source:     "moto/eks/responses.py (no create_addon)",
		Touches:    []string{"aws_eks_addon"},
		apply:      dropType("aws_eks_addon"),
	},
	{
		Name:       "eks-access-entries",
		Limitation: "moto's EKS has no access entries (CreateAccessEntry, AssociateAccessPolicy).",
		Source:     "moto/eks/responses.py (no create_access_entry)",
		Touches:    []string{"aws_eks_access_entry", "aws_eks_access_policy_association"},
		apply:      dropTypes("aws_eks_access_entry", "aws_eks_access_policy_association"),
	},
}

// Change is one edit an adaptation made.
type Change struct {
	Adaptation string
	// Address is "<type>.<name>" or "data.<type>.<name>".
	Address string
}

// Apply runs every adaptation on d in place and returns what changed. It
// fails if a removed resource is still referenced, since Terraform would
// then fail in a way that hides the cause.
func Apply(d Doc) ([]Change, error) {
	var out []Change
	for _, a := range Adaptations {
		for _, addr := range a.apply(d) {
			out = append(out, Change{Adaptation: a.Name, Address: addr})
		}
	}
	if dangling := danglingRefs(d); len(dangling) > 0 {
		return out, fmt.Errorf("adaptations left references to removed resources: %s", strings.Join(dangling, ", "))
	}
	return out, nil
}

// TypeOf returns the Terraform type of an address: "aws_s3_bucket_policy"
// or "data.aws_iam_policy_document".
func TypeOf(address string) string {
	parts := strings.Split(address, ".")
	if parts[0] == "data" && len(parts) >= 3 {
		return "data." + parts[1]
	}
	return parts[0]
}

func resources(d Doc, typ string) map[string]any {
	r, _ := d["resource"].(map[string]any)
	m, _ := r[typ].(map[string]any)
	return m
}

func dataSources(d Doc, typ string) map[string]any {
	r, _ := d["data"].(map[string]any)
	m, _ := r[typ].(map[string]any)
	return m
}

// remove deletes a resource or data source and every depends_on entry
// pointing at it.
func remove(d Doc, address string) {
	section, typ, name := "resource", "", ""
	parts := strings.Split(address, ".")
	if parts[0] == "data" {
		section, typ, name = "data", parts[1], parts[2]
	} else {
		typ, name = parts[0], parts[1]
	}
	sec, _ := d[section].(map[string]any)
	byType, _ := sec[typ].(map[string]any)
	delete(byType, name)
	if len(byType) == 0 {
		delete(sec, typ)
	}
	forEachBlock(d, func(block map[string]any) {
		deps, ok := block["depends_on"].([]any)
		if !ok {
			return
		}
		kept := deps[:0]
		for _, dep := range deps {
			if s, _ := dep.(string); s != address {
				kept = append(kept, dep)
			}
		}
		if len(kept) == 0 {
			delete(block, "depends_on")
		} else {
			block["depends_on"] = kept
		}
	})
}

// forEachBlock visits every resource and data source body.
func forEachBlock(d Doc, f func(map[string]any)) {
	for _, section := range []string{"resource", "data"} {
		sec, _ := d[section].(map[string]any)
		for _, byType := range sec {
			m, _ := byType.(map[string]any)
			for _, body := range m {
				if b, ok := body.(map[string]any); ok {
					f(b)
				}
			}
		}
	}
}

func dropType(typ string) func(Doc) []string { return dropTypes(typ) }

func dropTypes(types ...string) func(Doc) []string {
	return func(d Doc) []string {
		var out []string
		for _, typ := range types {
			for _, name := range sortedKeys(resources(d, typ)) {
				addr := typ + "." + name
				remove(d, addr)
				out = append(out, addr)
			}
		}
		return out
	}
}

// dropConditionalBucketDenies edits the policy documents that bucket
// policies render.
func dropConditionalBucketDenies(d Doc) []string {
	var out []string
	docs := dataSources(d, "aws_iam_policy_document")
	for _, name := range sortedKeys(resources(d, "aws_s3_bucket_policy")) {
		policy, _ := resources(d, "aws_s3_bucket_policy")[name].(map[string]any)
		ref, _ := policy["policy"].(string)
		docName, ok := policyDocRef(ref)
		if !ok {
			continue
		}
		doc, _ := docs[docName].(map[string]any)
		stmts, _ := doc["statement"].([]any)
		kept := make([]any, 0, len(stmts))
		for _, st := range stmts {
			m, _ := st.(map[string]any)
			if m["effect"] == "Deny" && m["condition"] != nil {
				continue
			}
			kept = append(kept, st)
		}
		if len(kept) == len(stmts) {
			continue
		}
		if len(kept) == 0 {
			remove(d, "aws_s3_bucket_policy."+name)
			remove(d, "data.aws_iam_policy_document."+docName)
			out = append(out, "aws_s3_bucket_policy."+name, "data.aws_iam_policy_document."+docName)
			continue
		}
		doc["statement"] = kept
		out = append(out, "data.aws_iam_policy_document."+docName)
	}
	return out
}

// policyDocRef extracts the document name from
// "${data.aws_iam_policy_document.<name>.json}".
func policyDocRef(ref string) (string, bool) {
	const prefix, suffix = "${data.aws_iam_policy_document.", ".json}"
	if !strings.HasPrefix(ref, prefix) || !strings.HasSuffix(ref, suffix) {
		return "", false
	}
	return strings.TrimSuffix(strings.TrimPrefix(ref, prefix), suffix), true
}

// danglingRefs finds interpolations of resources or data sources that no
// longer exist.
func danglingRefs(d Doc) []string {
	exists := map[string]bool{}
	for _, section := range []string{"resource", "data"} {
		sec, _ := d[section].(map[string]any)
		for typ, byType := range sec {
			m, _ := byType.(map[string]any)
			for name := range m {
				prefix := typ + "." + name
				if section == "data" {
					prefix = "data." + prefix
				}
				exists[prefix] = true
			}
		}
	}
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		case string:
			for _, ref := range references(x) {
				if !exists[ref] && !seen[ref] {
					seen[ref] = true
				}
			}
		}
	}
	for _, section := range []string{"resource", "data", "output"} {
		walk(d[section])
	}
	var out []string
	for ref := range seen {
		out = append(out, ref)
	}
	sort.Strings(out)
	return out
}

// refPattern matches "aws_<type>.<name>" and "data.aws_<type>.<name>" in
// interpolations, for-expressions and depends_on entries.
var refPattern = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.])((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z_][A-Za-z0-9_-]*)`)

// references returns the AWS resource and data-source addresses s names.
func references(s string) []string {
	var out []string
	for _, m := range refPattern.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
