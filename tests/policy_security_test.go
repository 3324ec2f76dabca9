package tests

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// stackDoc wraps body (top-level "resource"/"data"/"output" members) in a
// stack that passes the tag and backend policies, so each case below
// trips only the rule it is about.
func stackDoc(stackName, body string) string {
	backend := `"terraform":{"backend":{"s3":{"encrypt":true,"use_lockfile":true}}}`
	return fmt.Sprintf(`{"//":{"metadata":{"stackName":%q}},%s,
		"provider":{"aws":[{"default_tags":[{"tags":{"Environment":"prod","Project":"p","Service":"s","CostCenter":"c","Owner":"o@x.io"}}]}]},%s}`,
		stackName, backend, body)
}

// apiAccess is the access configuration the CI-trust rules demand, so the
// cluster cases trip only the detection rules.
const apiAccess = `"access_config":{"authentication_mode":"API","bootstrap_cluster_creator_admin_permissions":false}`

// denyDefault is a namespace's default-deny policy, for cases that must
// not trip the namespace rules.
func denyDefault(namespace string) string {
	return fmt.Sprintf(`"dd-%s":{"metadata":{"name":"default-deny-ingress","namespace":%q},"spec":{"pod_selector":{},"policy_types":["Ingress"]}}`, namespace, namespace)
}

// Each case reverts one fix of issue 9 (secrets out of state, zero-trust
// cluster, detection) in a minimal document; the policies must name it.
func TestSecurityPoliciesCatchViolations(t *testing.T) {
	q := policies(t)
	cases := map[string]struct {
		doc  string
		want []string
	}{
		// Build 6: no secret in state or configuration.
		"random_password and tls_private_key": {stackDoc("prod-observability", `"resource":{"random_password":{"pw":{"length":32}},"tls_private_key":{"k":{"algorithm":"RSA"}}}`),
			[]string{
				"secrets: random_password.pw generates a credential into Terraform state; generate it in-cluster (ESO Password generator) or in Secrets Manager",
				"secrets: tls_private_key.k generates a credential into Terraform state; generate it in-cluster (ESO Password generator) or in Secrets Manager",
			}},
		"secret version with a value": {stackDoc("prod-observability", `"resource":{"aws_secretsmanager_secret_version":{"v":{"secret_id":"x","secret_string":"{\"slack-webhook-url\":\"https://hooks\"}"}}}`),
			[]string{"secrets: aws_secretsmanager_secret_version.v stores a secret value in Terraform state; create the secret empty and let an operator or ESO set it"}},
		"kubernetes secret from random_string": {stackDoc("prod-observability", `"resource":{"random_string":{"s":{"length":24}},
			"kubernetes_secret_v1":{"k":{"metadata":{"name":"x"},"data":{"token":"${random_string.s.result}"}}}}`),
			[]string{
				"secrets: kubernetes_secret_v1.k writes Secret data through Terraform; sync it with an ExternalSecret instead",
				"secrets: random_string.s is used as a credential by kubernetes_secret_v1.k",
			}},
		"literal password on a resource": {stackDoc("prod-x", `"resource":{"aws_db_instance":{"db":{"password":"hunter2"}}}`),
			[]string{"secrets: aws_db_instance.db sets password to a literal; reference a secret store instead"}},
		"literal Grafana password in values": {stackDoc("prod-observability", `"resource":{
			"kubernetes_network_policy_v1":{`+denyDefault("observability")+`},
			"helm_release":{"g":{"namespace":"observability","values":["grafana:\n  adminPassword: changeme123!\n"]}}}`),
			[]string{"secrets: helm_release.g values set grafana.adminPassword to a literal; use existingSecret or *_file with an ExternalSecret"}},
		"sensitive output holding a literal": {stackDoc("prod-x", `"output":{"token":{"value":"abc","sensitive":true}}`),
			[]string{"secrets: output token is marked sensitive but holds a literal"}},

		// Build 8 / finding 7: zero-trust cluster.
		"vpc-cni without network policy": {stackDoc("prod-cluster", `"resource":{"aws_eks_addon":{"cni":{"addon_name":"vpc-cni","cluster_name":"c"}}}`),
			[]string{"cluster: aws_eks_addon.cni (vpc-cni) does not set enableNetworkPolicy; NetworkPolicies would be ignored"}},
		"bare namespace": {stackDoc("prod-platform", `"resource":{"kubernetes_namespace_v1":{"ns":{"metadata":{"name":"apps"}}}}`),
			[]string{"cluster: namespace apps has no Pod Security enforce label", "cluster: namespace apps has no default-deny ingress NetworkPolicy"}},
		"baseline without a reason": {stackDoc("prod-platform", `"resource":{
			"kubernetes_namespace_v1":{"ns":{"metadata":{"name":"apps","labels":{"pod-security.kubernetes.io/enforce":"baseline"}}}},
			"kubernetes_network_policy_v1":{`+denyDefault("apps")+`}}`),
			[]string{"cluster: namespace apps enforces baseline without a recorded reason"}},
		"release into an open namespace": {stackDoc("prod-platform", `"resource":{"helm_release":{"r":{"namespace":"apps","values":["replicas: 1\n"]}}}`),
			[]string{"cluster: helm_release.r installs into apps, which has no default-deny ingress NetworkPolicy in this stack"}},
		"release into kube-system without isolation": {stackDoc("prod-platform", `"resource":{"helm_release":{"r":{"namespace":"kube-system","values":["replicas: 1\n"]}}}`),
			[]string{"cluster: helm_release.r installs into kube-system without a NetworkPolicy isolating it"}},
		"allow without sources, reason or ports": {stackDoc("prod-platform", `"resource":{"kubernetes_network_policy_v1":{"p":{
			"metadata":{"name":"allow-all","namespace":"apps"},"spec":{"pod_selector":{},"policy_types":["Ingress"],"ingress":[{}]}}}}`),
			[]string{"cluster: NetworkPolicy apps/allow-all admits any source without a recorded reason", "cluster: NetworkPolicy apps/allow-all opens every port"}},
		"allow from the internet": {stackDoc("prod-platform", `"resource":{"kubernetes_network_policy_v1":{"p":{
			"metadata":{"name":"allow-world","namespace":"apps"},"spec":{"pod_selector":{},"policy_types":["Ingress"],
			"ingress":[{"from":[{"ip_block":{"cidr":"0.0.0.0/0"}}],"ports":[{"port":"80"}]}]}}}}`),
			[]string{"cluster: NetworkPolicy apps/allow-world admits the whole internet"}},
		"dashboards from ALL namespaces": {stackDoc("prod-observability", `"resource":{
			"kubernetes_network_policy_v1":{`+denyDefault("observability")+`},
			"helm_release":{"kps":{"namespace":"observability","values":["grafana:\n  sidecar:\n    dashboards:\n      searchNamespace: ALL\n"]}}}`),
			[]string{"cluster: helm_release.kps lets a sidecar read ConfigMaps from ALL namespaces (grafana.sidecar.dashboards.searchNamespace)"}},
		"single-tenant Loki with no policy in front": {stackDoc("prod-observability", `"resource":{
			"kubernetes_network_policy_v1":{`+denyDefault("observability")+`},
			"helm_release":{"loki":{"namespace":"observability","values":["loki:\n  auth_enabled: false\n"]}}}`),
			[]string{"cluster: helm_release.loki runs loki without authentication and no NetworkPolicy limits who reaches it"}},
		"remote write open to anyone": {stackDoc("prod-observability", `"resource":{
			"kubernetes_network_policy_v1":{`+denyDefault("observability")+`},
			"helm_release":{"kps":{"namespace":"observability","values":["prometheus:\n  prometheusSpec:\n    enableRemoteWriteReceiver: true\n"]}}}`),
			[]string{"cluster: helm_release.kps runs prometheus without authentication and no NetworkPolicy limits who reaches it"}},

		// Build 9 / finding 8: detection.
		"prod cluster with three log types, unprotected": {stackDoc("prod-cluster", `"resource":{"aws_eks_cluster":{"c":{"enabled_cluster_log_types":["api","audit","authenticator"],`+apiAccess+`}}}`),
			[]string{
				"detection: aws_eks_cluster.c does not ship the controllerManager log",
				"detection: aws_eks_cluster.c does not ship the scheduler log",
				"protection: aws_eks_cluster.c in prod-cluster has no lifecycle.prevent_destroy",
			}},
		"dev cluster may keep three log types": {stackDoc("dev-cluster", `"resource":{"aws_eks_cluster":{"c":{"enabled_cluster_log_types":["api","audit","authenticator"],`+apiAccess+`}}}`),
			nil},
		"log group on the service key, unprotected": {stackDoc("prod-network", `"resource":{"aws_cloudwatch_log_group":{"g":{"name":"/aws/vpc/x","retention_in_days":30}}}`),
			[]string{
				"detection: aws_cloudwatch_log_group.g is not encrypted with a logs CMK",
				"protection: aws_cloudwatch_log_group.g in prod-network has no lifecycle.prevent_destroy",
			}},
		"queue with undelivered data, unprotected": {stackDoc("staging-edge", `"resource":{"aws_sqs_queue":{"q":{"name":"outbox"}}}`),
			[]string{"detection: aws_sqs_queue.q lacks prevent_destroy outside dev"}},
		"logs key without encryption context": {stackDoc("prod-network", `"data":{"aws_iam_policy_document":{"k":{"statement":[{"actions":["kms:Encrypt*"],"resources":["*"],
			"principals":[{"type":"Service","identifiers":["logs.ap-southeast-2.amazonaws.com"]}]}]}}}`),
			[]string{"detection: policy document k lets logs.ap-southeast-2.amazonaws.com use a key without a kms:EncryptionContext:aws:logs:arn condition"}},
		"WAF without logging": {stackDoc("prod-cdn", `"resource":{"aws_wafv2_web_acl":{"w":{"name":"x"}}}`),
			[]string{"detection: aws_wafv2_web_acl.w has no logging configuration"}},
		"WAF logging cookies to a misnamed group": {stackDoc("dev-cdn", `"resource":{"aws_wafv2_web_acl":{"w":{"name":"x"}},
			"aws_cloudwatch_log_group":{"g":{"name":"waf","kms_key_id":"${aws_kms_key.k.arn}"}},
			"aws_wafv2_web_acl_logging_configuration":{"l":{"resource_arn":"${aws_wafv2_web_acl.w.arn}","log_destination_configs":["${aws_cloudwatch_log_group.g.arn}"],
			  "redacted_fields":[{"single_header":{"name":"authorization"}}]}}}`),
			[]string{
				"detection: WAF logs of aws_wafv2_web_acl.w go to a log group not named aws-waf-logs-*, which WAF refuses",
				"detection: WAF logs of aws_wafv2_web_acl.w keep the cookie header in clear",
			}},
		"state bucket without access logs": {stackDoc("prod-state", `"resource":{"aws_s3_bucket":{"state":{"bucket":"tfstate-x","lifecycle":{"prevent_destroy":true}}},
			"aws_s3_bucket_server_side_encryption_configuration":{"e":{"bucket":"${aws_s3_bucket.state.id}"}},
			"aws_s3_bucket_versioning":{"v":{"bucket":"${aws_s3_bucket.state.id}","versioning_configuration":{"status":"Enabled"}}},
			"aws_s3_bucket_public_access_block":{"p":{"bucket":"${aws_s3_bucket.state.id}","block_public_acls":true,"block_public_policy":true,"ignore_public_acls":true,"restrict_public_buckets":true}}}`),
			[]string{"detection: state bucket tfstate-x has no server access logging"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := deny(t, q, []byte(tc.doc))
			if tc.want == nil {
				assert.Empty(t, got)
				return
			}
			assert.ElementsMatch(t, tc.want, got)
		})
	}
}
