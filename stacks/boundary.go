package stacks

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// EndEntityTemplates are the only ACM PCA templates a role under the
// workload boundary may issue with: device enrollment (client auth) and
// aws-privateca-issuer (server, client or both). Never a CA certificate.
var EndEntityTemplates = []string{
	"arn:aws:acm-pca:::template/EndEntityCertificate/V1",
	"arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1",
	"arn:aws:acm-pca:::template/EndEntityServerAuthCertificate/V1",
}

// BoundaryWholeServices are the services a bounded role may use on every
// resource: the EKS cluster and node roles, the VPC CNI, the EBS CSI
// driver, the load balancer controller and the cluster autoscaler create
// and change network interfaces, volumes, security groups, load balancers
// and instances whose names AWS or the controller picks. (Trust stores are
// carved out of elasticloadbalancing below.)
var BoundaryWholeServices = []string{"autoscaling", "ec2", "elasticloadbalancing"}

// workloadBoundaryStatements are the most any role CI creates may do: the
// calls the workloads make (their own policies grant less), on this env's
// resources by name, prefix or Environment tag. What is not here is
// denied to every bounded role whatever its own policy says: other envs'
// and foreign buckets, tables, queues and secrets, the Spatial Packs and
// STAC data outside the provenance gate's prefixes, the CA bundle the ALB
// trusts, CA certificates and revocation, EKS access entries and cluster
// configuration, IAM and STS.
func workloadBoundaryStatements(b *base) []sp.Statement {
	cfg, n := b.cfg, b.names
	account, region, prefix := *b.accountID(), cfg.Region, n.Prefix()
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, account, resource)
	}
	bucket := func(kind string) string { return "arn:aws:s3:::" + n.DataBucket(kind) }
	envTag := sp.Condition{Test: "StringEquals", Variable: "aws:ResourceTag/Environment", Values: []string{cfg.Env}}
	objectRW := []string{"s3:DeleteObject", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"}
	st := []sp.Statement{
		// DTN envelope bodies; the PEM CRLs crl-sync writes; Loki's chunks
		// and Tempo's blocks.
		{Sid: "WorkloadObjects", Actions: objectRW, Resources: []string{
			bucket("dtn") + "/*", bucket(naming.PKIBucketKind) + "/" + TrustStoreCRLPrefix + "*",
			bucket("loki") + "/*", bucket("tempo") + "/*"}},
		// The CA's CRLs and bundle (read only), marketplace candidates.
		{Sid: "ReadOnlyObjects", Actions: []string{"s3:GetObject", "s3:GetObjectVersion"}, Resources: []string{
			bucket(naming.PKIBucketKind) + "/" + CRLPrefix + "*", bucket(naming.PKIBucketKind) + "/" + TrustBundleKey}},
		// Uploads land in staging/; the provenance gate publishes (and
		// delists) under published/, which the API and pack-service read.
		{Sid: "Packs", Actions: objectRW, Resources: []string{
			bucket("packs") + "/" + naming.PacksStagingPrefix + "*", bucket("packs") + "/" + naming.PacksPublishedPrefix + "*"}},
		{Sid: "ListBuckets", Actions: []string{"s3:ListBucket"}, Resources: []string{
			bucket("dtn"), bucket(naming.PKIBucketKind), bucket("loki"), bucket("tempo"), bucket("packs")}},
		// "*Item": Get, Put, Update, Delete, ConditionCheck and their Batch
		// forms, nothing that changes a table. The name's "*" also matches
		// the tables' indexes ("<table>/index/<name>").
		{Sid: "ThisEnvsTables", Actions: []string{"dynamodb:*Item", "dynamodb:DescribeTable", "dynamodb:Query", "dynamodb:Scan"}, Resources: []string{arn("dynamodb", "table/"+prefix+"-*")}},
		// "*Message*": send, receive, delete, change visibility (and their
		// batches) and moving this env's dead letters back; never a queue's
		// configuration, policy or purge.
		{Sid: "ThisEnvsQueues", Actions: []string{"sqs:*Message*", "sqs:GetQueue*"}, Resources: []string{arn("sqs", prefix+"-*")}},
		{Sid: "ThisEnvsSecrets", Actions: []string{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"},
			Resources: []string{arn("secretsmanager", "secret:"+n.SecretPrefix()+"*")}},
		// Data keys, the attestation signing key, EBS and EKS grants: this
		// env's keys only (the state key is denied below by alias).
		{Sid: "ThisEnvsKeys", Actions: []string{
			"kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:GetPublicKey",
			"kms:ReEncrypt*", "kms:Verify",
		}, Resources: []string{arn("kms", "key/*")}, Conditions: []sp.Condition{envTag}},
		// Signing only with the provenance attestation key and the CDN URL
		// signer (each key's policy then names its one signer): no other
		// asymmetric key of the env (a CA's root key included) signs for a
		// bounded role.
		{Sid: "SignAttestationsAndURLs", Actions: []string{"kms:Sign"}, Resources: []string{arn("kms", "key/*")},
			Conditions: []sp.Condition{envTag, {Test: "ForAnyValue:StringEquals", Variable: "kms:ResourceAliases", Values: []string{n.ProvenanceKeyAlias(), "alias/" + prefix + "-cdn-signer"}}}},
		{Sid: "EndEntityOnly", Actions: []string{"acm-pca:IssueCertificate"}, Resources: []string{arn("acm-pca", "certificate-authority/*")},
			Conditions: []sp.Condition{envTag, {Test: "StringEquals", Variable: "acm-pca:TemplateArn", Values: EndEntityTemplates}}},
		{Sid: "ReadCAs", Actions: []string{"acm-pca:Describe*", "acm-pca:Get*", "acm-pca:List*"}, Resources: []string{arn("acm-pca", "certificate-authority/*")}, Conditions: []sp.Condition{envTag}},
		{Sid: "NetworkAndScaling", Actions: []string{"autoscaling:*", "ec2:*", "elasticloadbalancing:*"}, Resources: []string{"*"}},
		// Trust stores decide which devices the presigner's ALB admits:
		// nothing under the boundary creates or changes one, and only the
		// device trust store's revocation list is swapped (crl-sync).
		{Sid: "NoTrustStores", Effect: "Deny", Actions: []string{
			"elasticloadbalancing:CreateTrustStore", "elasticloadbalancing:DeleteTrustStore", "elasticloadbalancing:ModifyTrustStore",
		}, Resources: []string{"*"}},
		{Sid: "OnlyDeviceRevocations", Effect: "Deny", Actions: []string{
			"elasticloadbalancing:AddTrustStoreRevocations", "elasticloadbalancing:RemoveTrustStoreRevocations",
		}, NotResources: []string{arn("elasticloadbalancing", "truststore/"+prefix+"-devices/*")}},
		// Nodes find the cluster and pull images; no access entries, no
		// cluster configuration.
		{Sid: "ClusterAndImages", Actions: []string{
			"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:Describe*", "ecr:Get*", "ecr:List*",
			"eks:DescribeCluster", "eks:DescribeNodegroup", "eks-auth:AssumeRoleForPodIdentity",
		}, Resources: []string{"*"}},
		{Sid: "ThisEnvsLogs", Actions: []string{
			"logs:CreateLogGroup", "logs:CreateLogStream", "logs:Describe*", "logs:PutLogEvents",
		}, Resources: []string{arn("logs", "log-group:/aws/*"+prefix+"*")}},
		{Sid: "ReadMetrics", Actions: []string{"cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*"}, Resources: []string{"*"}},
		{Sid: "RunnerConnection", Actions: []string{
			"codeconnections:GetConnection", "codeconnections:GetConnectionToken", "codeconnections:UseConnection",
		}, Resources: []string{arn("codeconnections", "connection/*")}, Conditions: []sp.Condition{envTag}},
		{Sid: "LBController", Actions: lbcActions(), Resources: []string{"*"}},
	}
	if topic := cfg.Observability.Alerting.SNSTopicArn; topic != "" {
		st = append(st, sp.Statement{Sid: "PublishAlerts", Actions: []string{"sns:Publish"}, Resources: []string{topic}})
	}
	return st
}

// lbcActions are the load balancer controller's own actions outside IAM and
// the whole services above: ACM, Cognito, WAF and Shield.
func lbcActions() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range sp.LoadBalancerControllerStatements() {
		for _, a := range s.Actions {
			service, verb, _ := strings.Cut(a, ":")
			if service == "iam" || slices.Contains(BoundaryWholeServices, service) {
				continue
			}
			if short, ok := lbcShorthand[verb]; ok {
				a = service + ":" + short
			}
			if seen[a] {
				continue
			}
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// lbcShorthand folds the controller's WAF and Shield verbs into patterns
// that match exactly them (the boundary must fit IAM's 6,144 characters):
// "*ssociateWebACL" is Associate and Disassociate, never Create, Update or
// Delete; "GetWebACL*" is GetWebACL and GetWebACLForResource; and
// "*eProtection" is Create, Delete and Describe Protection.
var lbcShorthand = map[string]string{
	"AssociateWebACL": "*ssociateWebACL", "DisassociateWebACL": "*ssociateWebACL",
	"GetWebACL": "GetWebACL*", "GetWebACLForResource": "GetWebACL*",
	"CreateProtection": "*eProtection", "DeleteProtection": "*eProtection", "DescribeProtection": "*eProtection",
}
