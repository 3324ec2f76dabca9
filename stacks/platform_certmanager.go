package stacks

import (
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// cert-manager and aws-privateca-issuer names in namespace cert-manager.
const (
	CertManagerRelease = naming.ReleaseCertManager
	// CertManagerServiceAccount is the controller's service account. Set
	// explicitly: the issuer chart's approverRole grants exactly this
	// account the right to approve awspca.cert-manager.io requests.
	CertManagerServiceAccount = "cert-manager"
	// PCAIssuerRelease is the aws-privateca-issuer release; its service
	// account is PCAIssuerAccount, the one the identity stack's role trusts.
	PCAIssuerRelease = naming.ReleasePCAIssuer
	// CertManagerWebhookPort is the chart's webhook.securePort; the API
	// server calls it to validate and mutate cert-manager objects.
	CertManagerWebhookPort = 10250
	// CertManagerMetricsPort is where the controller serves Prometheus
	// metrics (certificate expiry and readiness, which the edge dashboard
	// and the CertificateNotReady alert read).
	CertManagerMetricsPort = 9402
)

// certManagerControllerLabels select the cert-manager controller pods
// (chart templates deployment.yaml and service.yaml).
var certManagerControllerLabels = map[string]string{
	"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/instance": CertManagerRelease, "app.kubernetes.io/component": "controller",
}

// pcaIssuerRoleArn is the ARN of the identity stack's irsa-pca-issuer role,
// built from its name: platform deploys before identity, so it cannot read
// the role from identity's outputs. Until identity is applied the role does
// not exist, which is harmless: the issuer calls AWS only for an
// AWSPCAClusterIssuer, and the edge stack (after identity) creates that.
func (b *base) pcaIssuerRoleArn() string {
	return b.names.WorkloadRoleArn(*b.accountID(), PCAIssuerRolePurpose)
}

// newCertManager installs cert-manager (with its CRDs) and
// aws-privateca-issuer into namespace cert-manager. The platform stack is
// the right place: both are cluster add-ons, and the edge stack's
// kubernetes_manifest objects (Certificates, the AWSPCAClusterIssuer) can
// only be planned once these CRDs exist, which deploy order guarantees.
// The ClusterIssuer itself needs the CA's ARN and so lives in the edge
// stack (stacks/edge_identity.go), after identity.
func newCertManager(b *base) error {
	ns, err := sp.NewNamespace(b.stack, "cert-manager-namespace", &sp.NamespaceProps{
		Name: naming.NamespaceCertManager,
		Policies: []sp.IngressAllow{
			{
				Name:      "webhook-from-api-server",
				PodLabels: map[string]string{"app.kubernetes.io/name": "webhook", "app.kubernetes.io/instance": CertManagerRelease},
				Ports:     []int{CertManagerWebhookPort},
				AnySourceReason: "the EKS API server calls the validating and mutating webhooks from control-plane " +
					"ENIs in the cluster subnets, which share addresses with pods; the port serves TLS only",
			},
			{Name: "prometheus", PodLabels: certManagerControllerLabels, Ports: []int{CertManagerMetricsPort}, From: []sp.Peer{PrometheusPeer}},
		},
	})
	if err != nil {
		return err
	}
	cm, err := sp.NewHelmRelease(b.stack, "cert-manager", &sp.HelmReleaseProps{
		Chart: CertManagerChart, ReleaseName: CertManagerRelease, Namespace: naming.NamespaceCertManager,
		Values:    certManagerValues(),
		DependsOn: []cdktf.ITerraformDependable{ns.Resource},
	})
	if err != nil {
		return err
	}
	_, err = sp.NewHelmRelease(b.stack, "aws-privateca-issuer", &sp.HelmReleaseProps{
		Chart: AWSPCAIssuerChart, ReleaseName: PCAIssuerRelease, Namespace: naming.NamespaceCertManager,
		Values:    pcaIssuerValues(b.pcaIssuerRoleArn()),
		DependsOn: []cdktf.ITerraformDependable{ns.Resource, cm.Release},
	})
	return err
}

// certManagerValues (chart v1.21.1). The chart's pod and container
// security contexts already meet the restricted level (non-root,
// RuntimeDefault seccomp, no capabilities, read-only root) for the
// controller, webhook, cainjector and startupapicheck; the values keep
// them. Two replicas with a PDB each, so a node drain never stops
// issuance or the admission webhook (which would block every
// Certificate change).
func certManagerValues() map[string]any {
	pdb := map[string]any{"enabled": true, "minAvailable": 1}
	return map[string]any{
		// crds.keep (the chart default, set explicitly) annotates the CRDs
		// helm.sh/resource-policy: keep, so an uninstall never deletes
		// every Certificate in the cluster with them.
		"crds": map[string]any{"enabled": true, "keep": true},
		// Leader-election leases in cert-manager's own namespace instead
		// of the chart's default kube-system.
		"global":              map[string]any{"leaderElection": map[string]any{"namespace": naming.NamespaceCertManager}},
		"replicaCount":        2,
		"podDisruptionBudget": pdb,
		"serviceAccount":      map[string]any{"create": true, "name": CertManagerServiceAccount},
		"resources":           podResources("50m", "128Mi", "500m", "512Mi"),
		// The controller's metrics Service (port 9402) is scraped through
		// a ServiceMonitor the observability stack declares; the chart's
		// own ServiceMonitor and PodMonitor need the Prometheus Operator's
		// CRDs, which do not exist yet when platform deploys.
		"prometheus": map[string]any{
			"enabled":        true,
			"servicemonitor": map[string]any{"enabled": false},
			"podmonitor":     map[string]any{"enabled": false},
		},
		"webhook": map[string]any{
			"replicaCount":        2,
			"podDisruptionBudget": pdb,
			"securePort":          CertManagerWebhookPort,
			"resources":           podResources("20m", "32Mi", "200m", "128Mi"),
		},
		"cainjector": map[string]any{
			"enabled":             true,
			"replicaCount":        2,
			"podDisruptionBudget": pdb,
			"resources":           podResources("20m", "128Mi", "200m", "512Mi"),
		},
		"startupapicheck": map[string]any{
			"enabled":   true,
			"resources": podResources("10m", "32Mi", "100m", "128Mi"),
		},
	}
}

// pcaIssuerValues (chart v1.9.0). The chart's defaults set only runAsUser
// 65532 and allowPrivilegeEscalation false, which the restricted level
// refuses; these are completed here. The service account's name is set,
// not left to the fullname template, because the identity stack's role
// trusts exactly cert-manager/aws-privateca-issuer.
func pcaIssuerValues(roleArn string) map[string]any {
	return map[string]any{
		"replicaCount": 2,
		"serviceAccount": map[string]any{
			"create": true, "name": PCAIssuerAccount,
			"annotations": map[string]any{"eks.amazonaws.com/role-arn": roleArn},
		},
		// Lets the cert-manager controller approve CertificateRequests
		// addressed to AWSPCAClusterIssuers (cert-manager approves only its
		// own issuer types by default). The approval check stays on.
		"approverRole": map[string]any{
			"enabled": true, "serviceAccountName": CertManagerServiceAccount, "namespace": naming.NamespaceCertManager,
		},
		"disableApprovedCheck": false,
		// fsGroup lets the non-root process read the projected IRSA token.
		"podSecurityContext": map[string]any{
			"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
			"seccompProfile": map[string]any{"type": "RuntimeDefault"},
		},
		"securityContext":     restrictedContainer(),
		"resources":           podResources("50m", "64Mi", "500m", "128Mi"),
		"podDisruptionBudget": map[string]any{"maxUnavailable": 1},
		"autoscaling":         map[string]any{"enabled": false},
		"serviceMonitor":      map[string]any{"create": false},
	}
}
