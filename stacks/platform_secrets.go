package stacks

import (
	"fmt"

	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
)

// External Secrets Operator names. The controller's service account is
// the only identity the IRSA role trusts.
const (
	ExternalSecretsRelease        = "external-secrets"
	ExternalSecretsServiceAccount = "external-secrets"
	// ExternalSecretsWebhookPort is the chart's webhook.port; the API
	// server calls it to validate ExternalSecrets and stores.
	ExternalSecretsWebhookPort = 10250
)

// ExternalSecretsActions are all the controller may do in Secrets Manager:
// read a value and its metadata. No write, no list, no KMS beyond the
// AWS-managed key Secrets Manager uses on the caller's behalf.
var ExternalSecretsActions = []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}

// SecretArnPattern is the ARN pattern of every Secrets Manager secret of
// this environment, "<org>/<env>/*" (Secrets Manager appends a random
// suffix to each name, which the trailing * covers).
func (b *base) SecretArnPattern() string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s*", b.cfg.Region, *b.accountID(), b.names.SecretPrefix())
}

// newExternalSecrets installs External Secrets Operator with an IRSA role
// that reads only this environment's secrets.
//
// Hardening beyond the chart defaults:
//   - processSecretStore=false: only ClusterSecretStores are served, and
//     each one we create lists the namespaces it serves. A namespaced
//     SecretStore without credentials would otherwise borrow the
//     controller's role, letting anyone who can create one in any
//     namespace read every secret under <org>/<env>/.
//   - PushSecret and ClusterExternalSecret are off: nothing writes back to
//     Secrets Manager, and nothing fans a secret out to many namespaces.
//   - The chart's ClusterRoles are not aggregated into edit/admin, so only
//     cluster admins manage ESO objects.
func newExternalSecrets(b *base, cluster *ClusterOutputs) (*string, error) {
	role, err := sp.NewIrsaRole(b.stack, "external-secrets-irsa", &sp.IrsaRoleProps{
		RoleName:            b.names.Role("irsa-external-secrets"),
		OidcProviderArn:     cluster.OidcProviderArn,
		OidcIssuerURL:       cluster.OidcIssuerURL,
		Namespace:           naming.NamespaceExternalSecrets,
		ServiceAccount:      ExternalSecretsServiceAccount,
		PermissionsBoundary: b.boundaryArn(),
		Statements: []sp.Statement{{
			Sid: "ReadThisEnvironmentsSecrets", Actions: ExternalSecretsActions, Resources: []string{b.SecretArnPattern()},
		}},
	})
	if err != nil {
		return nil, err
	}
	ns, err := sp.NewNamespace(b.stack, "external-secrets-namespace", &sp.NamespaceProps{
		Name: naming.NamespaceExternalSecrets,
		Policies: []sp.IngressAllow{{
			Name:      "webhook-from-api-server",
			PodLabels: map[string]string{"app.kubernetes.io/name": "external-secrets-webhook"},
			Ports:     []int{ExternalSecretsWebhookPort},
			AnySourceReason: "the EKS API server calls the validating webhook from control-plane ENIs in the " +
				"cluster subnets, which share addresses with pods; the port serves TLS only",
		}},
	})
	if err != nil {
		return nil, err
	}
	_, err = sp.NewHelmRelease(b.stack, "external-secrets", &sp.HelmReleaseProps{
		Chart: ExternalSecretsChart, ReleaseName: ExternalSecretsRelease, Namespace: naming.NamespaceExternalSecrets,
		Values:    externalSecretsValues(role.Annotation),
		DependsOn: []cdktf.ITerraformDependable{ns.Resource},
	})
	return role.RoleArn, err
}

func externalSecretsValues(annotation map[string]*string) map[string]any {
	pod := map[string]any{"enabled": true, "runAsNonRoot": true, "seccompProfile": map[string]any{"type": "RuntimeDefault"}}
	return map[string]any{
		"installCRDs":                  true,
		"processSecretStore":           false,
		"processClusterStore":          true,
		"processPushSecret":            false,
		"processClusterPushSecret":     false,
		"processClusterExternalSecret": false,
		"rbac":                         map[string]any{"aggregateToEdit": false, "aggregateToAdmin": false},
		"serviceAccount": map[string]any{
			"create": true, "name": ExternalSecretsServiceAccount, "annotations": annotation,
		},
		"podSecurityContext": pod,
		"resources":          podResources("50m", "64Mi", "500m", "256Mi"),
		"webhook": map[string]any{
			"port":               ExternalSecretsWebhookPort,
			"podSecurityContext": pod,
			"resources":          podResources("20m", "32Mi", "200m", "128Mi"),
		},
		"certController": map[string]any{
			"podSecurityContext": pod,
			"resources":          podResources("20m", "64Mi", "200m", "256Mi"),
		},
	}
}

// podResources is a chart's usual resources block. CPU limits sit well
// above the request (4-10x), so a runaway loop is bounded without
// throttling normal bursts; memory limits are 2-4x the request.
func podResources(cpuRequest, memRequest, cpuLimit, memLimit string) map[string]any {
	return map[string]any{
		"requests": map[string]any{"cpu": cpuRequest, "memory": memRequest},
		"limits":   map[string]any{"cpu": cpuLimit, "memory": memLimit},
	}
}
