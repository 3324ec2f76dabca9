package stacks

import (
	"fmt"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/configmapv1"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/deploymentv1"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/manifest"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/servicev1"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// AWSPCAIssuerAPI is the API version of aws-privateca-issuer's issuers
// (chart v1.9.0 serves v1beta1 only).
const AWSPCAIssuerAPI = "awspca.cert-manager.io/v1beta1"

// newPrivateCAClusterIssuer creates the AWSPCAClusterIssuer every
// in-cluster certificate names (naming.ClusterIssuerPrivateCA), backed by
// the identity stack's CA. It is a kubernetes_manifest: its CRD comes with
// the aws-privateca-issuer chart the platform stack installs, so it exists
// when this stack plans. Terraform waits for the issuer's Ready condition,
// so certificates are requested only from a working issuer.
func newPrivateCAClusterIssuer(b *base, identity *IdentityOutputs) manifest.Manifest {
	m := privateCAClusterIssuer(identity.CAArn, b.cfg.Region)
	return manifest.NewManifest(b.stack, jsii.String("private-ca-cluster-issuer"), &manifest.ManifestConfig{
		Manifest: &m,
		Wait: &manifest.ManifestWait{Condition: &[]*manifest.ManifestWaitCondition{{
			Type: jsii.String("Ready"), Status: jsii.String("True"),
		}}},
	})
}

// privateCAClusterIssuer is the issuer object. No credentials: the issuer
// runs as its service account, whose IRSA role may issue from this CA only.
// No pcaTemplate: the issuer picks the ACM PCA template from each
// Certificate's usages (server auth, client auth or both).
func privateCAClusterIssuer(caArn *string, region string) map[string]any {
	return map[string]any{
		"apiVersion": AWSPCAIssuerAPI, "kind": "AWSPCAClusterIssuer",
		"metadata": map[string]any{"name": naming.ClusterIssuerPrivateCA},
		"spec":     map[string]any{"arn": *caArn, "region": region},
	}
}

// CDN presigner names in namespace cdn-presigner.
const (
	// PresignerApp names the Deployment, its Service and pod labels.
	PresignerApp = "cdn-presigner"
	// PresignerPort is the container's HTTP port.
	PresignerPort = 8080
	// PresignerImage is the placeholder until the presigner's own image
	// exists: the same traefik/whoami v1.12.0 digest that
	// services/edge-placeholder/Dockerfile pins, a static HTTP server that
	// answers 200 on every path and does nothing else.
	PresignerImage = "docker.io/traefik/whoami:v1.12.0@sha256:c4717a8d1f0134a7444e24f881160e033991f23027c6c5a9a3f8fd22e70d1d44"
	// PresignerMTLSPort is the ALB's only listener (HTTPS).
	PresignerMTLSPort = 443
	// ALBMutualAuthAnnotation configures the ALB listener's mutual TLS
	// (aws-load-balancer-controller v3.5.0, docs/guide/ingress/annotations.md).
	ALBMutualAuthAnnotation = "alb.ingress.kubernetes.io/mutual-authentication"
)

// PresignerMutualAuth is the mutual-authentication annotation value: the
// HTTPS:443 listener in verify mode against the device trust store. The
// controller reads a JSON list of {port, mode, trustStore}; in verify mode
// the ALB completes the handshake only for a client certificate that chains
// to the trust store's CA (and is not on its revocation list, when one is
// attached), and passes the verified leaf to the target in the
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

// newPresigner is the CDN presigner's entry point for agent-class clients:
// namespace cdn-presigner (restricted, default deny, the ALB's subnets
// admitted on the pod port only), a placeholder Deployment and Service,
// and an internet-facing ALB Ingress on cfg.ServiceHost("presign") with a
// DNS-validated ACM certificate, HTTPS only, and mutual TLS in verify mode
// against the identity stack's trust store: an albEntry (stacks/alb_entry.go)
// with the mutual-authentication annotation added.
func newPresigner(b *base, identity *IdentityOutputs, zoneID *string) (string, error) {
	var albs []sp.Peer
	for _, cidr := range b.cfg.Network.PublicSubnets {
		albs = append(albs, sp.Peer{CIDR: cidr})
	}
	labels := map[string]string{"app.kubernetes.io/name": PresignerApp}
	ns, err := sp.NewNamespace(b.stack, "presigner-namespace", &sp.NamespaceProps{
		Name: naming.NamespacePresigner,
		Policies: []sp.IngressAllow{
			{Name: "alb-to-presigner", PodLabels: labels, Ports: []int{PresignerPort}, From: albs},
			prometheusScrape(),
		},
	})
	if err != nil {
		return "", err
	}
	newCRLSyncConfig(b, ns, identity)
	host := b.cfg.ServiceHost("presign")
	certArn, err := sp.NewDnsValidatedCertificate(b.stack, "presigner-certificate", &sp.DnsValidatedCertificateProps{
		DomainName: host, ZoneID: zoneID, Provider: b.provider,
	})
	if err != nil {
		return "", err
	}

	replicas := "1"
	if b.cfg.IsProd() {
		replicas = "2"
	}
	deploy := deploymentv1.NewDeploymentV1(b.stack, jsii.String("presigner"), &deploymentv1.DeploymentV1Config{
		Metadata: &deploymentv1.DeploymentV1Metadata{Name: jsii.String(PresignerApp), Namespace: ns.Name, Labels: sp.StringMap(labels)},
		Spec: &deploymentv1.DeploymentV1Spec{
			Replicas: jsii.String(replicas),
			Selector: &deploymentv1.DeploymentV1SpecSelector{MatchLabels: sp.StringMap(labels)},
			Template: &deploymentv1.DeploymentV1SpecTemplate{
				Metadata: &deploymentv1.DeploymentV1SpecTemplateMetadata{Labels: sp.StringMap(labels)},
				Spec: &deploymentv1.DeploymentV1SpecTemplateSpec{
					AutomountServiceAccountToken: jsii.Bool(false),
					SecurityContext: &deploymentv1.DeploymentV1SpecTemplateSpecSecurityContext{
						RunAsNonRoot: jsii.Bool(true), RunAsUser: jsii.String("10001"), RunAsGroup: jsii.String("10001"),
						SeccompProfile: &deploymentv1.DeploymentV1SpecTemplateSpecSecurityContextSeccompProfile{Type: jsii.String("RuntimeDefault")},
					},
					Container: &[]*deploymentv1.DeploymentV1SpecTemplateSpecContainer{{
						Name:  jsii.String(PresignerApp),
						Image: jsii.String(PresignerImage),
						// whoami listens on WHOAMI_PORT_NUMBER (default 80,
						// which a non-root process cannot bind).
						Env: &[]*deploymentv1.DeploymentV1SpecTemplateSpecContainerEnv{
							{Name: jsii.String("WHOAMI_PORT_NUMBER"), Value: jsii.String(fmt.Sprint(PresignerPort))},
						},
						Port: &[]*deploymentv1.DeploymentV1SpecTemplateSpecContainerPort{{
							Name: jsii.String("http"), ContainerPort: jsii.Number(PresignerPort),
						}},
						ReadinessProbe: &deploymentv1.DeploymentV1SpecTemplateSpecContainerReadinessProbe{
							HttpGet: &deploymentv1.DeploymentV1SpecTemplateSpecContainerReadinessProbeHttpGet{
								Path: jsii.String("/readyz"), Port: jsii.String(fmt.Sprint(PresignerPort)),
							},
						},
						Resources: &deploymentv1.DeploymentV1SpecTemplateSpecContainerResources{
							Requests: sp.StringMap(map[string]string{"cpu": "25m", "memory": "32Mi"}),
							Limits:   sp.StringMap(map[string]string{"cpu": "250m", "memory": "64Mi"}),
						},
						SecurityContext: &deploymentv1.DeploymentV1SpecTemplateSpecContainerSecurityContext{
							AllowPrivilegeEscalation: jsii.Bool(false), ReadOnlyRootFilesystem: jsii.Bool(true), RunAsNonRoot: jsii.Bool(true),
							Capabilities: &deploymentv1.DeploymentV1SpecTemplateSpecContainerSecurityContextCapabilities{Drop: jsii.Strings("ALL")},
						},
					}},
				},
			},
		},
		WaitForRollout: jsii.Bool(true),
	})
	svc := servicev1.NewServiceV1(b.stack, jsii.String("presigner-service"), &servicev1.ServiceV1Config{
		Metadata: &servicev1.ServiceV1Metadata{Name: jsii.String(PresignerApp), Namespace: ns.Name},
		Spec: &servicev1.ServiceV1Spec{
			Type:     jsii.String("ClusterIP"),
			Selector: sp.StringMap(labels),
			Port: &[]*servicev1.ServiceV1SpecPort{{
				Name: jsii.String("http"), Port: jsii.Number(80), TargetPort: jsii.String("http"),
			}},
		},
	})

	// A TLS 1.2+ policy (the entry's); ALB mutual TLS works with every HTTPS policy.
	newALBEntry(b, albEntry{
		IngressID: "presigner-ingress", RecordID: "presigner-dns", Name: PresignerApp, Namespace: ns.Name,
		Host: host, ZoneID: zoneID, CertArn: certArn, HealthPath: "/readyz", RecordTTL: 60,
		Paths:       []albPath{{Prefix: "/", Service: jsii.String(PresignerApp)}},
		Annotations: map[string]*string{ALBMutualAuthAnnotation: PresignerMutualAuth(*identity.TrustStoreArn)},
		DependsOn:   []cdktf.ITerraformDependable{svc, deploy},
	})
	return host, nil
}

// CRLSyncConfigMap holds what the crl-sync CronJob (helm/crl-sync) needs
// from the identity stack. The CA and trust store ARNs end in random ids,
// so neither the chart nor its workflow could derive them; Terraform
// writes them here from the identity outputs and the job reads them with
// configMapKeyRef, so no operator copies ARNs by hand.
const CRLSyncConfigMap = "crl-sync"

// Keys of CRLSyncConfigMap: the environment variables services/crl-sync reads.
const (
	CRLSyncKeyPKIBucket  = "PKI_BUCKET"
	CRLSyncKeyCAArn      = "CA_ARN"
	CRLSyncKeyTrustStore = "TRUST_STORE_ARN"
)

func newCRLSyncConfig(b *base, ns *sp.Namespace, identity *IdentityOutputs) {
	configmapv1.NewConfigMapV1(b.stack, jsii.String("crl-sync-config"), &configmapv1.ConfigMapV1Config{
		Metadata: &configmapv1.ConfigMapV1Metadata{Name: jsii.String(CRLSyncConfigMap), Namespace: ns.Name},
		Data: &map[string]*string{
			CRLSyncKeyPKIBucket:  identity.PKIBucket,
			CRLSyncKeyCAArn:      identity.CAArn,
			CRLSyncKeyTrustStore: identity.TrustStoreArn,
		},
	})
}
