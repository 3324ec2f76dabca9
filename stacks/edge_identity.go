package stacks

import (
	"fmt"
	"strconv"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/lbtruststore"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/configmapv1"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/servicev1"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// CDN presigner names in namespace cdn-presigner (privileged: only the
// infra stacks deploy into it).
const (
	// PresignerApp names the presigner's release, Service and pod labels.
	PresignerApp = envs.WorkloadCDNPresigner
	// PresignerPort is the container's HTTP port (the library chart's
	// service.targetPort).
	PresignerPort = 8080
	// PresignerMTLSPort is the ALB's only listener (HTTPS).
	PresignerMTLSPort = 443
	// ALBMutualAuthAnnotation configures the ALB listener's mutual TLS
	// (aws-load-balancer-controller v3.5.0, docs/guide/ingress/annotations.md).
	ALBMutualAuthAnnotation = "alb.ingress.kubernetes.io/mutual-authentication"
	// PresignerRolePurpose names its IRSA role "<org>-<env>-irsa-cdn-presigner".
	PresignerRolePurpose = "irsa-cdn-presigner"
)

// PresignerMutualAuth is the mutual-authentication annotation value: the
// HTTPS:443 listener in verify mode against the device trust store. The
// controller reads a JSON list of {port, mode, trustStore}; in verify mode
// the ALB completes the handshake only for a client certificate that chains
// to a CA in the trust store (the device CA alone) and is not on its
// revocation list, and passes the verified leaf to the target in the
// X-Amzn-Mtls-Clientcert-Leaf header (with -Serial-Number, -Issuer,
// -Subject and -Validity beside it). Expired certificates are refused
// (ignoreClientCertificateExpiry stays false).
//
// The value is Terraform's jsonencode of that list, not a JSON string with
// the ARN spliced in: cdktf's HCL rendering (what Trivy and TFLint read)
// leaves the quotes of such a string unescaped around a reference, which
// makes the whole stack's HCL unparsable.
func PresignerMutualAuth(trustStoreArn string) *string {
	return cdktf.Fn_Jsonencode([]map[string]any{{"port": PresignerMTLSPort, "mode": "verify", "trustStore": trustStoreArn}})
}

// Tables the presigner and the enrollment service read (contracts: the
// device records and entitlements tables, beside the device ledger).
func (b *base) devicesTableArn() string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s-devices", b.cfg.Region, *b.accountID(), b.names.Prefix())
}

func (b *base) entitlementsTableArn() string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s-entitlements", b.cfg.Region, *b.accountID(), b.names.Prefix())
}

func (b *base) ledgerTableArn() string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", b.cfg.Region, *b.accountID(), b.names.DeviceLedgerTable())
}

// newPresigner is the CDN presigner's entry point for agent-class clients:
// namespace cdn-presigner (restricted, default deny, the ALB's subnets
// admitted on the pod port only), its IRSA role (kms:Sign on the CDN
// signing key, reads of the ledger, device and entitlement tables), the
// release of helm/cdn-presigner by the digest pinned in envs/<env>.yaml,
// and an internet-facing ALB Ingress on cfg.ServiceHost("presign") with a
// DNS-validated ACM certificate, HTTPS only, and mutual TLS in verify mode
// against the device trust store: an albEntry (stacks/alb_entry.go) with the
// mutual-authentication annotation added. The presigner must also compare
// X-Amzn-Mtls-Clientcert-Issuer with DEVICE_CA_SUBJECT and look the serial
// up in the ledger (revoked rows refused), the two checks the ALB cannot
// make on a device certificate that is still within its validity.
func newPresigner(b *base, cluster *ClusterOutputs, cdn *CDNOutputs, trustStore lbtruststore.LbTrustStore, zoneID *string) (*sp.Namespace, string, error) {
	var albs []sp.Peer
	for _, cidr := range b.cfg.Network.PublicSubnets {
		albs = append(albs, sp.Peer{CIDR: cidr})
	}
	labels := map[string]string{"app.kubernetes.io/name": PresignerApp}
	ns, err := sp.NewNamespace(b.stack, "presigner-namespace", &sp.NamespaceProps{
		Name: naming.NamespacePresigner,
		Policies: []sp.IngressAllow{
			{Name: "alb-to-presigner", PodLabels: labels, Ports: []int{PresignerPort}, From: albs},
			workloadMetricsAllow(PresignerApp),
		},
	})
	if err != nil {
		return nil, "", err
	}
	role, err := sp.NewIrsaRole(b.stack, "presigner-irsa", &sp.IrsaRoleProps{
		RoleName: b.names.Role(PresignerRolePurpose), OidcProviderArn: cluster.OidcProviderArn, OidcIssuerURL: cluster.OidcIssuerURL,
		PermissionsBoundary: b.boundaryArn(), Namespace: naming.NamespacePresigner, ServiceAccount: PresignerApp,
		Statements: []sp.Statement{
			{Sid: "SignCanonicalPolicies", Actions: []string{"kms:Sign"}, Resources: []string{*cdn.SigningKeyArn},
				Conditions: []sp.Condition{
					{Test: "StringEquals", Variable: "kms:SigningAlgorithm", Values: []string{CDNSigningAlgorithm}},
					{Test: "StringEquals", Variable: "kms:MessageType", Values: []string{"RAW"}},
				}},
			{Sid: "CheckDevicesAndLicences", Actions: []string{"dynamodb:GetItem", "dynamodb:Query"},
				Resources: []string{b.ledgerTableArn(), b.devicesTableArn(), b.entitlementsTableArn()}},
			b.deviceKeyThroughDynamoDB("ReadTheDevicesKeyThroughDynamoDB", "kms:Decrypt"),
		},
	})
	if err != nil {
		return nil, "", err
	}
	host := b.cfg.ServiceHost("presign")
	certArn, err := sp.NewDnsValidatedCertificate(b.stack, "presigner-certificate", &sp.DnsValidatedCertificateProps{
		DomainName: host, ZoneID: zoneID, Provider: b.provider,
	})
	if err != nil {
		return nil, "", err
	}
	release, err := newWorkloadRelease(b, envs.WorkloadCDNPresigner, naming.NamespacePresigner, role.RoleArn, map[string]any{
		"CDN_BASE_URL": "https://" + cdn.Domain, "CDN_SIGNING_KEY_ID": *cdn.SigningKeyArn, "CDN_KEY_PAIR_ID": *cdn.KeyPairID,
		"LEDGER_TABLE": b.names.DeviceLedgerTable(), "DEVICES_TABLE": b.names.Prefix() + "-devices",
		"ENTITLEMENTS_TABLE": b.names.Prefix() + "-entitlements", "DEVICE_CA_SUBJECT": b.deviceCASubject(),
		"AWS_REGION": b.cfg.Region,
	}, ns.Resource)
	if err != nil {
		return nil, "", err
	}
	// The Service the ALB routes to selects the release's pods by label, so
	// it exists (and the ALB can be built) before an image is pinned.
	svc := servicev1.NewServiceV1(b.stack, jsii.String("presigner-service"), &servicev1.ServiceV1Config{
		Metadata: &servicev1.ServiceV1Metadata{Name: jsii.String(PresignerApp + "-alb"), Namespace: ns.Name},
		Spec: &servicev1.ServiceV1Spec{
			Type: jsii.String("ClusterIP"),
			Selector: &map[string]*string{
				"app.kubernetes.io/name": jsii.String(PresignerApp), "app.kubernetes.io/instance": jsii.String(PresignerApp),
			},
			Port: &[]*servicev1.ServiceV1SpecPort{{
				Name: jsii.String("http"), Port: jsii.Number(80), TargetPort: jsii.String(strconv.Itoa(PresignerPort)),
			}},
		},
	})
	deps := []cdktf.ITerraformDependable{svc}
	if release != nil {
		deps = append(deps, release)
	}
	// A TLS 1.2+ policy (the entry's); ALB mutual TLS works with every HTTPS policy.
	newALBEntry(b, albEntry{
		IngressID: "presigner-ingress", RecordID: "presigner-dns", Name: PresignerApp, Namespace: ns.Name,
		Host: host, ZoneID: zoneID, CertArn: certArn, HealthPath: "/readyz", RecordTTL: 60,
		Paths:       []albPath{{Prefix: "/", Service: svc.Metadata().Name()}},
		Annotations: map[string]*string{ALBMutualAuthAnnotation: PresignerMutualAuth(*trustStore.Arn())},
		DependsOn:   deps,
	})
	return ns, host, nil
}

// deviceCASubject is the device CA's subject as the ALB writes it in
// X-Amzn-Mtls-Clientcert-Issuer (RFC 2253: most specific first).
func (b *base) deviceCASubject() string {
	id := b.cfg.Identity
	s := "CN=" + b.cfg.SubordinateCommonName(DeviceCAPurpose)
	if id.Subject.OrganizationalUnit != "" {
		s += ",OU=" + id.Subject.OrganizationalUnit
	}
	return s + ",O=" + id.Subject.Organization + ",C=" + id.Subject.Country
}

// CRLSyncConfigMap holds what the crl-sync CronJob (helm/crl-sync) needs
// from the identity and edge stacks: the device CA and trust store ARNs end
// in random ids, so Terraform writes them here and the job reads them with
// configMapKeyRef.
const CRLSyncConfigMap = "crl-sync"

// Keys of CRLSyncConfigMap: the environment variables services/crl-sync reads.
const (
	CRLSyncKeyPKIBucket  = "PKI_BUCKET"
	CRLSyncKeyCAArn      = "CA_ARN"
	CRLSyncKeyTrustStore = "TRUST_STORE_ARN"
)

// newCRLSync writes crl-sync's ConfigMap and installs helm/crl-sync by the
// pinned digest: a privileged workload (it swaps the trust store's
// revocation list), so its workflow only builds and pushes the image.
func newCRLSync(b *base, ns *sp.Namespace, identity *IdentityOutputs, trustStore lbtruststore.LbTrustStore) error {
	cm := configmapv1.NewConfigMapV1(b.stack, jsii.String("crl-sync-config"), &configmapv1.ConfigMapV1Config{
		Metadata: &configmapv1.ConfigMapV1Metadata{Name: jsii.String(CRLSyncConfigMap), Namespace: ns.Name},
		Data: &map[string]*string{
			CRLSyncKeyPKIBucket:  identity.PKIBucket,
			CRLSyncKeyCAArn:      identity.DeviceCAArn,
			CRLSyncKeyTrustStore: trustStore.Arn(),
		},
	})
	_, err := newWorkloadRelease(b, envs.WorkloadCRLSync, naming.NamespacePresigner, identity.CRLSyncRoleArn, nil, cm,
		map[string]any{"identityConfigMap": CRLSyncConfigMap, "awsRegion": b.cfg.Region})
	return err
}

// EnrollmentConfigMap carries the enrollment service's settings (contracts:
// DEVICE_CA_ARN, DEVICE_CERT_DAYS, LEDGER_TABLE, DEVICES_TABLE).
const EnrollmentConfigMap = envs.WorkloadDeviceEnrollment

// newEnrollment creates namespace device-enrollment (only Prometheus is
// admitted to it yet, on the metrics port: the service's own entry point is
// added when it exists), its
// configuration, and the release of helm/device-enrollment by the pinned
// digest. Its IRSA role (identity stack) issues from the device CA only,
// with the client-auth template only.
func newEnrollment(b *base, identity *IdentityOutputs) error {
	ns, err := sp.NewNamespace(b.stack, "enrollment-namespace", &sp.NamespaceProps{
		Name: naming.NamespaceEnrollment, Policies: []sp.IngressAllow{workloadMetricsAllow(envs.WorkloadDeviceEnrollment)},
	})
	if err != nil {
		return err
	}
	env := map[string]any{
		"DEVICE_CA_ARN": *identity.DeviceCAArn, "DEVICE_CERT_DAYS": strconv.Itoa(identity.DeviceCertDays),
		"LEDGER_TABLE": b.names.DeviceLedgerTable(), "DEVICES_TABLE": b.names.Prefix() + "-devices", "AWS_REGION": b.cfg.Region,
	}
	data := map[string]*string{}
	for k, v := range env {
		data[k] = jsii.String(v.(string))
	}
	configmapv1.NewConfigMapV1(b.stack, jsii.String("enrollment-config"), &configmapv1.ConfigMapV1Config{
		Metadata: &configmapv1.ConfigMapV1Metadata{Name: jsii.String(EnrollmentConfigMap), Namespace: ns.Name},
		Data:     &data,
	})
	_, err = newWorkloadRelease(b, envs.WorkloadDeviceEnrollment, naming.NamespaceEnrollment, identity.EnrollmentRoleArn, env, ns.Resource)
	return err
}

// WorkloadMetricsPort is the operations port of the service kit every
// privileged workload runs on (/metrics, /healthz, /readyz; its chart's
// metrics.port), which its ServiceMonitor scrapes.
const WorkloadMetricsPort = 9090

// workloadMetricsAllow admits Prometheus, and only Prometheus, to a
// privileged workload's metrics port.
func workloadMetricsAllow(name string) sp.IngressAllow {
	return sp.IngressAllow{
		Name: "prometheus-to-" + name, PodLabels: map[string]string{"app.kubernetes.io/name": name},
		Ports: []int{WorkloadMetricsPort}, From: []sp.Peer{PrometheusPeer},
	}
}

// newWorkloadRelease installs a privileged workload's chart (helm/<name>,
// on the spatial-service library) by the digest pinned in envs/<env>.yaml,
// under its IRSA role, with env as the container's environment. It returns
// nil while no digest is pinned: the namespace, role and configuration
// exist, the pods do not.
func newWorkloadRelease(b *base, name, namespace string, roleArn *string, env map[string]any, after cdktf.ITerraformDependable, extra ...map[string]any) (cdktf.ITerraformDependable, error) {
	digest := b.cfg.WorkloadDigest(name)
	if digest == "" {
		return nil, nil
	}
	values := map[string]any{
		"image": map[string]any{
			"repository": fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", *b.accountID(), b.cfg.Region, b.names.EcrRepository(name)),
			"digest":     digest,
		},
		"serviceAccount": map[string]any{"name": name, "roleArn": *roleArn},
	}
	if len(env) > 0 {
		values["env"] = env
	}
	for _, e := range extra {
		for k, v := range e {
			values[k] = v
		}
	}
	r, err := sp.NewHelmRelease(b.stack, name+"-release", &sp.HelmReleaseProps{
		Chart: sp.LocalChart(name, LocalChartVersion), ReleaseName: name, Namespace: namespace,
		Values: values, DependsOn: []cdktf.ITerraformDependable{after},
	})
	if err != nil {
		return nil, err
	}
	return r.Release, nil
}

// LocalChartVersion is the version every chart of helm/ carries.
const LocalChartVersion = "0.1.0"
