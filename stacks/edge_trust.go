package stacks

import (
	"sort"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsacmpcacertificateauthority"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lbtruststore"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/s3object"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/configmapv1"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/manifest"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// AWSPCAIssuerAPI is the API version of aws-privateca-issuer's issuers
// (chart v1.9.0 serves v1beta1 only).
const AWSPCAIssuerAPI = "awspca.cert-manager.io/v1beta1"

// ApproverPolicyAPI is approver-policy's CertificateRequestPolicy API.
const ApproverPolicyAPI = "policy.cert-manager.io/v1alpha1"

// NATSTrustAnchors is the ConfigMap (namespace edge-nats) holding the two
// subordinate CA certificates, public documents: NATS trusts the device CA
// on the agents' listener and the service CA on its client and route
// ports, and the auth callout tells them apart. The keys are file names.
const (
	NATSTrustAnchors   = "nats-trust-anchors"
	DeviceCAAnchorKey  = "device-ca.pem"
	ServiceCAAnchorKey = "service-ca.pem"
)

// trustAnchors are the installed subordinate CA certificates, read from ACM
// PCA when this stack plans.
type trustAnchors struct {
	device, service dataawsacmpcacertificateauthority.DataAwsAcmpcaCertificateAuthority
}

// newTrustAnchors reads both subordinate CAs. A CA that the PKI ceremony has
// not signed yet has no certificate: the plan stops there with the command
// to run, instead of building trust stores and issuers on an empty anchor.
func newTrustAnchors(b *base, identity *IdentityOutputs) trustAnchors {
	read := func(id string, arn *string) dataawsacmpcacertificateauthority.DataAwsAcmpcaCertificateAuthority {
		return dataawsacmpcacertificateauthority.NewDataAwsAcmpcaCertificateAuthority(b.stack, jsii.String(id), &dataawsacmpcacertificateauthority.DataAwsAcmpcaCertificateAuthorityConfig{
			Arn: arn,
			Lifecycle: &cdktf.TerraformResourceLifecycle{Postcondition: &[]*cdktf.Postcondition{{
				Condition: jsii.String(`${self.status == "ACTIVE" && self.certificate != ""}`),
				ErrorMessage: jsii.String("The CA " + id + " has no certificate yet: run `bin/spctl pki ceremony --env " + b.cfg.Env +
					"` (docs/edge-identity.md, \"PKI ceremony\") and plan again."),
			}}},
		})
	}
	return trustAnchors{device: read("device-ca", identity.DeviceCAArn), service: read("service-ca", identity.ServiceCAArn)}
}

// newNATSTrustAnchors writes the anchors NATS and its auth callout mount.
func newNATSTrustAnchors(b *base, a trustAnchors, after cdktf.ITerraformDependable) configmapv1.ConfigMapV1 {
	return configmapv1.NewConfigMapV1(b.stack, jsii.String("nats-trust-anchors"), &configmapv1.ConfigMapV1Config{
		Metadata: &configmapv1.ConfigMapV1Metadata{Name: jsii.String(NATSTrustAnchors), Namespace: jsii.String(naming.NamespaceNATS)},
		Data: &map[string]*string{
			DeviceCAAnchorKey:  a.device.Certificate(),
			ServiceCAAnchorKey: a.service.Certificate(),
		},
		DependsOn: &[]cdktf.ITerraformDependable{after},
	})
}

// newDeviceTrustStore builds the presigner ALB's trust store from the device
// CA's certificate alone: the ALB admits a client certificate that chains to
// a CA in the store, so a service CA certificate (or one straight from the
// root) never completes the handshake. The bundle object is written by
// Terraform from the installed CA certificate; the trust store pins its
// version, so a new device CA certificate (a re-signed CA) reaches the ALB
// on the next apply.
func newDeviceTrustStore(b *base, identity *IdentityOutputs, a trustAnchors) lbtruststore.LbTrustStore {
	bundle := s3object.NewS3Object(b.stack, jsii.String("device-ca-bundle"), &s3object.S3ObjectConfig{
		Bucket: identity.PKIBucket, Key: jsii.String(TrustBundleKey), Content: a.device.Certificate(),
		ContentType: jsii.String("application/x-pem-file"), ServerSideEncryption: jsii.String("aws:kms"), KmsKeyId: identity.PKIKeyArn,
	})
	// No aws_lb_trust_store_revocation: the ALB reads a revocation list once,
	// when it is added, and Terraform would attach one object once. The
	// crl-sync CronJob owns the trust store's revocations and follows every
	// CRL the device CA publishes.
	return lbtruststore.NewLbTrustStore(b.stack, jsii.String("device-trust-store"), &lbtruststore.LbTrustStoreConfig{
		Name:                                jsii.String(b.names.DeviceTrustStore()),
		CaCertificatesBundleS3Bucket:        identity.PKIBucket,
		CaCertificatesBundleS3Key:           bundle.Key(),
		CaCertificatesBundleS3ObjectVersion: bundle.VersionId(),
	})
}

// certRequest is what one namespace may ask the service CA for.
type certRequest struct {
	// URIs, DNSNames and CommonNames are every value a Certificate there may
	// name; Usages the extended usages (exactly those cert-manager passes to
	// aws-privateca-issuer, which picks an end-entity template from them).
	URIs, DNSNames, CommonNames, Usages []string
}

// newServiceIssuers gives each namespace that needs in-cluster certificates
// its own AWSPCAIssuer on the service CA (there is no cluster-wide issuer:
// a namespace without one can request nothing), and an approver-policy
// CertificateRequestPolicy that approves only the identities that
// namespace may hold: NATS's server, route, system, stream-admin and
// callout identities only in edge-nats, the three app users only in
// edge-sync. cert-manager approves nothing by itself (platform stack:
// disableAutoApproval), so a Certificate anywhere else, or one naming any
// other SAN, usage, key, lifetime or a CA, stays unapproved and is never
// sent to ACM PCA. It returns what Certificates must wait for.
func newServiceIssuers(b *base, identity *IdentityOutputs, requests map[string]certRequest, after []cdktf.ITerraformDependable) []cdktf.ITerraformDependable {
	namespaces := make([]string, 0, len(requests))
	for ns := range requests {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	var out []cdktf.ITerraformDependable
	for _, ns := range namespaces {
		issuer := serviceIssuer(ns, identity.ServiceCAArn, b.cfg.Region)
		out = append(out, manifest.NewManifest(b.stack, jsii.String("service-issuer-"+ns), &manifest.ManifestConfig{
			Manifest: &issuer,
			// Terraform waits until the issuer has checked its spec.
			Wait:      &manifest.ManifestWait{Condition: &[]*manifest.ManifestWaitCondition{{Type: jsii.String("Ready"), Status: jsii.String("True")}}},
			DependsOn: &after,
		}))
		objs := approverPolicy(ns, requests[ns])
		ids := make([]string, 0, len(objs))
		for id := range objs {
			ids = append(ids, id)
		}
		sort.Strings(ids) // a stable depends_on order
		for _, id := range ids {
			m := objs[id]
			out = append(out, manifest.NewManifest(b.stack, jsii.String(id), &manifest.ManifestConfig{Manifest: &m, DependsOn: &after}))
		}
	}
	return out
}

// serviceIssuer is one namespace's issuer object. No credentials: the
// issuer controller runs as its service account, whose IRSA role may issue
// from the service CA only, with end-entity templates only.
func serviceIssuer(namespace string, caArn *string, region string) map[string]any {
	return map[string]any{
		"apiVersion": AWSPCAIssuerAPI, "kind": "AWSPCAIssuer",
		"metadata": map[string]any{"name": naming.IssuerServiceCA, "namespace": namespace},
		"spec":     map[string]any{"arn": *caArn, "region": region},
	}
}

// ServiceIssuerRef is how a Certificate names its namespace's issuer.
func ServiceIssuerRef() map[string]any {
	return map[string]any{"name": naming.IssuerServiceCA, "kind": "AWSPCAIssuer", "group": "awspca.cert-manager.io"}
}

// approverPolicy is a namespace's CertificateRequestPolicy and the RBAC
// that lets cert-manager's controller (the requester of every
// CertificateRequest a Certificate creates) use it. A CertificateRequest
// created by anyone else, a CI role included, has no policy to use.
func approverPolicy(namespace string, r certRequest) map[string]map[string]any {
	name := namespace + "-service-certificates"
	allowed := map[string]any{"isCA": false, "usages": r.Usages}
	if len(r.URIs) > 0 {
		allowed["uris"] = map[string]any{"values": r.URIs}
	}
	if len(r.DNSNames) > 0 {
		allowed["dnsNames"] = map[string]any{"values": r.DNSNames}
	}
	if len(r.CommonNames) > 0 {
		allowed["commonName"] = map[string]any{"validations": []any{map[string]any{
			"rule": "self in " + celList(r.CommonNames), "message": "common name is not one of this namespace's identities",
		}}}
	}
	policy := map[string]any{
		"apiVersion": ApproverPolicyAPI, "kind": "CertificateRequestPolicy",
		"metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"allowed": allowed,
			"constraints": map[string]any{
				"maxDuration": ServiceCertDuration,
				"privateKey":  map[string]any{"algorithm": "ECDSA", "minSize": 256, "maxSize": 256},
			},
			"selector": map[string]any{
				"issuerRef": ServiceIssuerRef(),
				"namespace": map[string]any{"matchNames": []string{namespace}},
			},
		},
	}
	role := map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
		"metadata": map[string]any{"name": "cert-manager-policy:" + name},
		"rules": []any{map[string]any{
			"apiGroups": []string{"policy.cert-manager.io"}, "resources": []string{"certificaterequestpolicies"},
			"verbs": []string{"use"}, "resourceNames": []string{name},
		}},
	}
	binding := map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
		"metadata": map[string]any{"name": "cert-manager-policy:" + name},
		"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cert-manager-policy:" + name},
		"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": CertManagerServiceAccount, "namespace": naming.NamespaceCertManager}},
	}
	return map[string]map[string]any{
		"approver-policy-" + namespace: policy, "approver-policy-role-" + namespace: role, "approver-policy-binding-" + namespace: binding,
	}
}

// celList renders strings as a CEL list literal.
func celList(values []string) string {
	out := "["
	for i, v := range values {
		if i > 0 {
			out += ", "
		}
		out += "'" + v + "'"
	}
	return out + "]"
}
