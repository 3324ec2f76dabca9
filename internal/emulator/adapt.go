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
		Name: "cloudfront-policies",
		Limitation: "moto's CloudFront has distributions, origin access controls, invalidations and public keys, " +
			"but no cache, origin-request or response-headers policies (ListCachePolicies answers 404), and key " +
			"groups it can create but never delete (DeleteKeyGroup is not implemented, so a destroy retries " +
			"forever). The managed-policy lookups become AWS's documented policy ids, the CORS response-headers " +
			"policy is left out of the emulated distribution, and the licensed-packs key group is left out, the " +
			"distribution naming a stand-in key group id.",
		Source: "moto/cloudfront/responses.py (no *_cache_policy, *_origin_request_policy, *_response_headers_policy, delete_key_group)",
		Touches: []string{"data.aws_cloudfront_cache_policy", "data.aws_cloudfront_origin_request_policy",
			"aws_cloudfront_response_headers_policy", "aws_cloudfront_distribution", "aws_cloudfront_key_group"},
		apply: func(d Doc) []string {
			return append(inlineCloudFrontPolicies(d), standIn(d, "aws_cloudfront_key_group", StandInKeyGroupID)...)
		},
	},
	{
		Name: "codebuild-github",
		Limitation: "moto has CodeBuild projects but no CodeBuild webhooks and no CodeConnections at all. The " +
			"connection and the webhook are left out; the project and its role name a stand-in connection ARN.",
		Source:  "moto/codebuild/responses.py (no create_webhook); no moto/codeconnections package",
		Touches: []string{"aws_codeconnections_connection", "aws_codebuild_webhook", "aws_codebuild_project", "data.aws_iam_policy_document"},
		apply:   standInConnections,
	},
	{
		Name:       "eks-addons",
		Limitation: "moto's EKS has clusters, node groups and Fargate profiles but no CreateAddon.",
		Source:     "moto/eks/responses.py (no create_addon)",
		Touches:    []string{"aws_eks_addon"},
		apply:      dropType("aws_eks_addon"),
	},
	{
		Name: "eks-round-trip",
		Limitation: "moto's EKS does not round-trip what Terraform sets: clusters have no accessConfig (so " +
			"bootstrap_cluster_creator_admin_permissions looks removed and forces a replacement) and gain a default " +
			"kubernetesNetworkConfig; node groups gain remoteAccess {ec2SshKey: eksKeypair} (forces a replacement) and " +
			"lose updateConfig. Those attributes are ignored on the copy so the second plan measures our config.",
		Source:  "moto/eks/models.py (DEFAULT_REMOTE_ACCESS, DEFAULT_KUBERNETES_NETWORK_CONFIG, no access_config)",
		Touches: []string{"aws_eks_cluster", "aws_eks_node_group"},
		apply: ignoreChanges(map[string][]string{
			"aws_eks_cluster":    {"access_config", "kubernetes_network_config", "vpc_config[0].security_group_ids"},
			"aws_eks_node_group": {"remote_access", "update_config", "labels"},
		}),
	},
	{
		Name: "launch-template-round-trip",
		Limitation: "moto copies a launch template's own tag specification (resource type launch-template) into " +
			"its data, and its EKS clusters have no clusterSecurityGroupId, so the node security group list " +
			"holds a null; both read back as changes on every plan.",
		Source:  "moto/ec2/responses/launch_templates.py (create_launch_template), moto/eks/models.py (no clusterSecurityGroupId)",
		Touches: []string{"aws_launch_template"},
		apply: ignoreChanges(map[string][]string{
			"aws_launch_template": {"tag_specifications", "vpc_security_group_ids"},
		}),
	},
	{
		Name: "eks-cluster-security-group",
		Limitation: "moto's EKS clusters have no clusterSecurityGroupId, so a rule on the EKS-managed cluster " +
			"security group (the runners' access to the API on 443) has no group to attach to; it is left out.",
		Source:  "moto/eks/models.py (Cluster.resources_vpc_config has no clusterSecurityGroupId)",
		Touches: []string{"aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_security_group_rule"},
		apply:   dropClusterSecurityGroupRules,
	},
	{
		Name: "acm-key-algorithm",
		Limitation: "moto issues every requested certificate with an RSA 2048 key whatever KeyAlgorithm asks " +
			"(we ask for EC P-256), and adds default options, which would force a replacement on every plan.",
		Source:  "moto/acm/models.py (request_certificate ignores KeyAlgorithm)",
		Touches: []string{"aws_acm_certificate"},
		apply: ignoreChanges(map[string][]string{
			"aws_acm_certificate": {"key_algorithm", "options"},
		}),
	},
	{
		Name: "cloudfront-round-trip",
		Limitation: "moto's distributions drop an origin's OriginAccessControlId, always report " +
			"CloudFrontDefaultCertificate=true and add ForwardedValues to behaviours that use a cache policy; " +
			"its public keys drop their Comment.",
		Source:  "moto/cloudfront/models.py (Origin, ViewerCertificate, ForwardedValues defaults; PublicKey)",
		Touches: []string{"aws_cloudfront_distribution", "aws_cloudfront_public_key"},
		apply:   cloudFrontRoundTrip,
	},
	{
		Name: "acmpca-usage-mode",
		Limitation: "moto's private CAs do not store UsageMode (DescribeCertificateAuthority never returns it), " +
			"so GENERAL_PURPOSE reads back as unset and would force a replacement on every plan.",
		Source:  "moto/acmpca/models.py (CertificateAuthority has no usage_mode)",
		Touches: []string{"aws_acmpca_certificate_authority"},
		apply: ignoreChanges(map[string][]string{
			"aws_acmpca_certificate_authority": {"usage_mode"},
		}),
	},
	{
		Name: "elb-trust-stores",
		Limitation: "moto's ELBv2 has no trust stores (CreateTrustStore). The trust store is left out; what " +
			"names the trust store (crl-sync's ConfigMap, the presigner Ingress's mutual-authentication " +
			"annotation) gets a stand-in ARN. Its revocation list is not Terraform's (the crl-sync job owns it).",
		Source:  "moto/elbv2/responses.py (no create_trust_store)",
		Touches: []string{"aws_lb_trust_store", "data.aws_iam_policy_document", "kubernetes_config_map_v1", "kubernetes_ingress_v1"},
		apply:   standInTrustStores,
	},
	{
		Name:       "eks-access-entries",
		Limitation: "moto's EKS has no access entries (CreateAccessEntry, AssociateAccessPolicy).",
		Source:     "moto/eks/responses.py (no create_access_entry)",
		Touches:    []string{"aws_eks_access_entry", "aws_eks_access_policy_association"},
		apply:      dropTypes("aws_eks_access_entry", "aws_eks_access_policy_association"),
	},
	{
		Name: "sqs-redrive-round-trip",
		Limitation: "moto's SQS returns a queue's RedrivePolicy serialized differently from what was sent, so " +
			"the provider plans a whitespace change on every plan and re-reads every policy document that names " +
			"the queue; redrive_policy is ignored on the copy.",
		Source:  "moto/sqs/models.py (Queue._setup_dlq keeps redrive_policy as given)",
		Touches: []string{"aws_sqs_queue"},
		apply: func(d Doc) []string {
			var withRedrive []string
			for _, name := range sortedKeys(resources(d, "aws_sqs_queue")) {
				if body, _ := resources(d, "aws_sqs_queue")[name].(map[string]any); body["redrive_policy"] != nil {
					withRedrive = append(withRedrive, name)
				}
			}
			if len(withRedrive) == 0 {
				return nil
			}
			only := map[string]any{}
			for _, n := range withRedrive {
				only[n] = resources(d, "aws_sqs_queue")[n]
			}
			return ignoreChanges(map[string][]string{"aws_sqs_queue": {"redrive_policy"}})(Doc{"resource": map[string]any{"aws_sqs_queue": only}})
		},
	},
	{
		Name: "kubernetes-half",
		Limitation: "moto emulates AWS APIs only: its EKS cluster has a placeholder endpoint and no Kubernetes " +
			"API behind it (and this machine's provider mirror has no kubernetes or helm provider). The Kubernetes " +
			"half of a stack (every kubernetes_* and helm_* resource and the two providers) is left out, so the " +
			"AWS half of the platform, observability, edge and marketplace stacks (IRSA roles, tables, queues, " +
			"keys, buckets, certificates, DNS records) is applied; a record that points at a Kubernetes load " +
			"balancer's hostname gets a stand-in hostname.",
		Source:  "moto/eks/models.py (the cluster endpoint is a made-up URL; there is no Kubernetes API server)",
		Touches: append([]string{"aws_route53_record"}, kubernetesTypes...),
		apply:   dropKubernetesHalf,
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

// ignoreChanges adds lifecycle.ignore_changes for the listed attributes of
// every resource of each type.
func ignoreChanges(byType map[string][]string) func(Doc) []string {
	return func(d Doc) []string {
		var out []string
		types := make([]string, 0, len(byType))
		for t := range byType {
			types = append(types, t)
		}
		sort.Strings(types)
		for _, typ := range types {
			for _, name := range sortedKeys(resources(d, typ)) {
				body, _ := resources(d, typ)[name].(map[string]any)
				lc, _ := body["lifecycle"].(map[string]any)
				if lc == nil {
					lc = map[string]any{}
					body["lifecycle"] = lc
				}
				existing, _ := lc["ignore_changes"].([]any)
				for _, attr := range byType[typ] {
					existing = append(existing, attr)
				}
				lc["ignore_changes"] = existing
				out = append(out, typ+"."+name)
			}
		}
		return out
	}
}

// dropClusterSecurityGroupRules removes rules whose group is the EKS-managed
// cluster security group read from the cluster stack.
func dropClusterSecurityGroupRules(d Doc) []string {
	var out []string
	for _, typ := range []string{"aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_security_group_rule"} {
		for _, name := range sortedKeys(resources(d, typ)) {
			body, _ := resources(d, typ)[name].(map[string]any)
			if ref, _ := body["security_group_id"].(string); strings.Contains(ref, "cluster_security_group_id") {
				remove(d, typ+"."+name)
				out = append(out, typ+"."+name)
			}
		}
	}
	return out
}

// StandInConnectionArn replaces a CodeConnections connection moto cannot
// create.
const StandInConnectionArn = "arn:aws:codeconnections:ap-southeast-2:" + Account + ":connection/emulated"

func standInConnections(d Doc) []string {
	return standIn(d, "aws_codeconnections_connection", StandInConnectionArn, "aws_codebuild_webhook")
}

// StandInKeyGroupID replaces a CloudFront key group moto cannot delete.
const StandInKeyGroupID = "K2EMULATEDKEYGROUP"

// StandInTrustStoreArn replaces an ELB trust store moto cannot create.
const StandInTrustStoreArn = "arn:aws:elasticloadbalancing:ap-southeast-2:" + Account + ":truststore/emulated/0000000000000000"

func standInTrustStores(d Doc) []string {
	return standIn(d, "aws_lb_trust_store", StandInTrustStoreArn)
}

// standIn removes every resource of typ (and of the dependent types, which
// only make sense with it) and points whatever named typ's arn or id at arn.
func standIn(d Doc, typ, arn string, dependents ...string) []string {
	var out []string
	refs := map[string]string{}
	// a reference inside a longer expression (jsonencode([{... = x.arn}]))
	// becomes a quoted string, after the whole-interpolation pass
	bare := map[string]string{}
	for _, name := range sortedKeys(resources(d, typ)) {
		for _, attr := range []string{"arn", "id"} {
			refs["${"+typ+"."+name+"."+attr+"}"] = arn
			bare[typ+"."+name+"."+attr] = `"` + arn + `"`
		}
	}
	for _, typ := range append(dependents, typ) {
		for _, name := range sortedKeys(resources(d, typ)) {
			remove(d, typ+"."+name)
			out = append(out, typ+"."+name)
		}
	}
	if len(refs) == 0 {
		return out
	}
	replaceStrings(d["output"], refs) // outputs are not resources: not reported
	replaceStrings(d["output"], bare)
	for _, section := range []string{"resource", "data"} {
		sec, _ := d[section].(map[string]any)
		for _, typ := range sortedKeys(sec) {
			byType, _ := sec[typ].(map[string]any)
			for _, name := range sortedKeys(byType) {
				whole := replaceStrings(byType[name], refs)
				if replaceStrings(byType[name], bare) || whole {
					addr := typ + "." + name
					if section == "data" {
						addr = "data." + addr
					}
					out = append(out, addr)
				}
			}
		}
	}
	return out
}

// replaceStrings substitutes whole-string matches anywhere under v and
// reports whether it changed anything.
func replaceStrings(v any, with map[string]string) bool {
	changed := false
	// a reference may stand alone ("${x.arn}") or inside a longer string
	// (an annotation's JSON): replace it wherever it occurs
	replace := func(s string) (string, bool) {
		out := s
		for from, to := range with {
			out = strings.ReplaceAll(out, from, to)
		}
		return out, out != s
	}
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok {
				if r, hit := replace(s); hit {
					x[k], changed = r, true
				}
				continue
			}
			changed = replaceStrings(c, with) || changed
		}
	case []any:
		for i, c := range x {
			if s, ok := c.(string); ok {
				if r, hit := replace(s); hit {
					x[i], changed = r, true
				}
				continue
			}
			changed = replaceStrings(c, with) || changed
		}
	}
	return changed
}

// ManagedCloudFrontPolicyIDs are the fixed ids AWS documents for the
// managed policies the cdn and identity stacks look up by name.
var ManagedCloudFrontPolicyIDs = map[string]string{
	"Managed-CachingDisabled":  "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
	"Managed-CachingOptimized": "658327ea-f89d-4fab-a63d-7e88639e58f6",
	"Managed-CORS-S3Origin":    "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",
}

func inlineCloudFrontPolicies(d Doc) []string {
	var out []string
	ids := map[string]string{} // "${data.<type>.<name>.id}" -> id
	for _, typ := range []string{"aws_cloudfront_cache_policy", "aws_cloudfront_origin_request_policy"} {
		for _, name := range sortedKeys(dataSources(d, typ)) {
			body, _ := dataSources(d, typ)[name].(map[string]any)
			policy, _ := body["name"].(string)
			id, ok := ManagedCloudFrontPolicyIDs[policy]
			if !ok {
				continue // unknown: leave it, and let Terraform say what fails
			}
			ids["${data."+typ+"."+name+".id}"] = id
			remove(d, "data."+typ+"."+name)
			out = append(out, "data."+typ+"."+name)
		}
	}
	headers := map[string]bool{}
	for _, name := range sortedKeys(resources(d, "aws_cloudfront_response_headers_policy")) {
		headers["${aws_cloudfront_response_headers_policy."+name+".id}"] = true
		remove(d, "aws_cloudfront_response_headers_policy."+name)
		out = append(out, "aws_cloudfront_response_headers_policy."+name)
	}
	for _, name := range sortedKeys(resources(d, "aws_cloudfront_distribution")) {
		dist, _ := resources(d, "aws_cloudfront_distribution")[name].(map[string]any)
		changed := false
		var behaviours []map[string]any
		if b, ok := dist["default_cache_behavior"].(map[string]any); ok {
			behaviours = append(behaviours, b)
		}
		if list, ok := dist["ordered_cache_behavior"].([]any); ok {
			for _, x := range list {
				if b, ok := x.(map[string]any); ok {
					behaviours = append(behaviours, b)
				}
			}
		}
		for _, b := range behaviours {
			for _, key := range []string{"cache_policy_id", "origin_request_policy_id"} {
				if ref, _ := b[key].(string); ids[ref] != "" {
					b[key], changed = ids[ref], true
				}
			}
			if ref, _ := b["response_headers_policy_id"].(string); headers[ref] {
				delete(b, "response_headers_policy_id")
				changed = true
			}
		}
		if changed {
			out = append(out, "aws_cloudfront_distribution."+name)
		}
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
var refPattern = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.])((?:data\.)?(?:aws|kubernetes|helm)_[a-z0-9_]+\.[A-Za-z_][A-Za-z0-9_-]*)`)

// references returns the AWS and Kubernetes resource and data-source
// addresses s names.
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

// kubernetesTypes are the Kubernetes-side types the stacks use, which
// kubernetes-half may remove (a new one must be added here, or the
// adaptation test fails).
var kubernetesTypes = []string{
	"helm_release", "kubernetes_config_map_v1", "kubernetes_cron_job_v1", "kubernetes_deployment_v1",
	"kubernetes_ingress_v1", "kubernetes_job_v1", "kubernetes_manifest", "kubernetes_namespace_v1",
	"kubernetes_network_policy_v1", "kubernetes_role_binding_v1", "kubernetes_role_v1", "kubernetes_secret_v1",
	"kubernetes_service_account_v1", "kubernetes_service_v1", "kubernetes_storage_class_v1",
}

// StandInHostname replaces a Kubernetes load balancer's hostname.
const StandInHostname = "emulated-lb.elb.ap-southeast-2.amazonaws.com"

func isKubernetesType(typ string) bool {
	return strings.HasPrefix(typ, "kubernetes_") || strings.HasPrefix(typ, "helm_")
}

// dropKubernetesHalf removes every Kubernetes-side resource and data
// source, the kubernetes and helm providers, and points what named a
// removed object's attribute at a stand-in.
func dropKubernetesHalf(d Doc) []string {
	var removed []string
	for _, section := range []string{"resource", "data"} {
		sec, _ := d[section].(map[string]any)
		for _, typ := range sortedKeys(sec) {
			if !isKubernetesType(typ) {
				continue
			}
			byType, _ := sec[typ].(map[string]any)
			for _, name := range sortedKeys(byType) {
				addr := typ + "." + name
				if section == "data" {
					addr = "data." + addr
				}
				removed = append(removed, addr)
			}
		}
	}
	if len(removed) == 0 {
		return nil
	}
	var out []string
	// whole-string references first: "${kubernetes_ingress_v1.x.status[0]...hostname}"
	hostRef := regexp.MustCompile(`^\$\{(?:data\.)?(?:kubernetes|helm)_[a-z0-9_]+\.[A-Za-z0-9_-]+[^}]*\}$`)
	var standIn func(v any) bool
	standIn = func(v any) bool {
		changed := false
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if str, ok := c.(string); ok {
					if hostRef.MatchString(str) {
						x[k], changed = standInValue(str), true
					}
					continue
				}
				changed = standIn(c) || changed
			}
		case []any:
			for i, c := range x {
				if str, ok := c.(string); ok {
					if hostRef.MatchString(str) {
						x[i], changed = standInValue(str), true
					}
					continue
				}
				changed = standIn(c) || changed
			}
		}
		return changed
	}
	for _, addr := range removed {
		remove(d, addr)
		out = append(out, addr)
	}
	standIn(d["output"])
	for _, section := range []string{"resource", "data"} {
		sec, _ := d[section].(map[string]any)
		for _, typ := range sortedKeys(sec) {
			byType, _ := sec[typ].(map[string]any)
			for _, name := range sortedKeys(byType) {
				if standIn(byType[name]) {
					addr := typ + "." + name
					if section == "data" {
						addr = "data." + addr
					}
					out = append(out, addr)
				}
			}
		}
	}
	for _, key := range []string{"kubernetes", "helm"} {
		if p, ok := d["provider"].(map[string]any); ok {
			delete(p, key)
		}
		if tf, ok := d["terraform"].(map[string]any); ok {
			if rp, ok := tf["required_providers"].(map[string]any); ok {
				delete(rp, key)
			}
		}
	}
	return out
}

// standInValue is what replaces a reference to a removed Kubernetes
// object: a hostname where one was asked for, else a marker string.
func standInValue(ref string) string {
	if strings.Contains(ref, "hostname") {
		return StandInHostname
	}
	return "emulated"
}

// cloudFrontRoundTrip ignores what moto's distributions do not round-trip,
// including ForwardedValues on every ordered cache behaviour (by index:
// ignore_changes takes no wildcard).
func cloudFrontRoundTrip(d Doc) []string {
	var out []string
	for _, name := range sortedKeys(resources(d, "aws_cloudfront_distribution")) {
		body, _ := resources(d, "aws_cloudfront_distribution")[name].(map[string]any)
		attrs := []string{"origin", "viewer_certificate[0].cloudfront_default_certificate", "default_cache_behavior[0].forwarded_values"}
		ordered, _ := body["ordered_cache_behavior"].([]any)
		for i := range ordered {
			attrs = append(attrs, fmt.Sprintf("ordered_cache_behavior[%d].forwarded_values", i))
		}
		ignoreChanges(map[string][]string{"aws_cloudfront_distribution": attrs})(Doc{"resource": map[string]any{
			"aws_cloudfront_distribution": map[string]any{name: body},
		}})
		out = append(out, "aws_cloudfront_distribution."+name)
	}
	return append(out, ignoreChanges(map[string][]string{"aws_cloudfront_public_key": {"comment"}})(d)...)
}
