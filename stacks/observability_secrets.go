package stacks

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/secretsmanagersecret"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/manifest"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	obs "github.com/spatialprops/spatialprops-infra/stacks/observability"
)

// External Secrets API versions served by ExternalSecretsChart (v2.9.0).
const (
	ExternalSecretsAPI = "external-secrets.io/v1"
	GeneratorsAPI      = "generators.external-secrets.io/v1alpha1"
)

// ObservabilitySecretStore is the ClusterSecretStore serving only the
// observability namespace.
const ObservabilitySecretStore = "secrets-manager-observability"

// SecretRecoveryDays is how long a deleted Secrets Manager secret can be
// restored outside dev (the maximum); dev deletes at once so a teardown
// can be redeployed under the same name.
const SecretRecoveryDays = 30

// observabilitySecrets creates the credentials of the observability stack
// without any of them passing through Terraform:
//
//   - Grafana's admin password is generated in the cluster by an ESO
//     Password generator and written once (refreshPolicy CreatedOnce) to
//     the Secret grafana-admin, which the chart reads via existingSecret.
//   - Alertmanager's receiver credentials live in the Secrets Manager
//     secret <org>/<env>/alertmanager-receivers. Terraform creates it with
//     no value (no aws_secretsmanager_secret_version); an operator puts the
//     JSON value, and an ExternalSecret copies its keys into the Secret
//     alertmanager-receivers.
//
// These are kubernetes_manifest resources, which need the ESO CRDs at plan
// time: the platform stack installs them and is always deployed first. A
// local chart would avoid that ordering but hide the objects from plans.
//
// It returns the resource Grafana must wait for.
func observabilitySecrets(b *base, ns *sp.Namespace) (cdktf.ITerraformDependable, error) {
	smName := b.names.Secret(obs.AlertmanagerReceiversSecretName)
	recovery := 0
	if b.cfg.Protect() {
		recovery = SecretRecoveryDays
	}
	receivers := secretsmanagersecret.NewSecretsmanagerSecret(b.stack, jsii.String("alertmanager-receivers"), &secretsmanagersecret.SecretsmanagerSecretConfig{
		Name: jsii.String(smName),
		Description: jsii.String("Alertmanager receiver credentials of " + b.names.Prefix() + " as JSON: " +
			`{"` + obs.SlackWebhookURLKey + `": "...", "` + obs.PagerDutyRoutingKeyKey + `": "..."}; set by an operator, never by Terraform`),
		RecoveryWindowInDays: jsii.Number(float64(recovery)),
		Lifecycle:            sp.Lifecycle(b.cfg.Protect()),
	})

	deps := []cdktf.ITerraformDependable{ns.Resource}
	k8sObject := func(id string, object map[string]any, wait bool, extra ...cdktf.ITerraformDependable) manifest.Manifest {
		after := append(append([]cdktf.ITerraformDependable(nil), deps...), extra...)
		cfg := &manifest.ManifestConfig{Manifest: &object, DependsOn: &after}
		if wait {
			cfg.Wait = &manifest.ManifestWait{Condition: &[]*manifest.ManifestWaitCondition{{
				Type: jsii.String("Ready"), Status: jsii.String("True"),
			}}}
		}
		return manifest.NewManifest(b.stack, jsii.String(id), cfg)
	}

	store := k8sObject("secret-store", map[string]any{
		"apiVersion": ExternalSecretsAPI,
		"kind":       "ClusterSecretStore",
		"metadata":   map[string]any{"name": ObservabilitySecretStore},
		"spec": map[string]any{
			"provider": map[string]any{"aws": map[string]any{"service": "SecretsManager", "region": b.cfg.Region}},
			// Only ExternalSecrets in observability may use this store.
			"conditions": []any{map[string]any{"namespaces": []any{obs.Namespace}}},
		},
	}, false)
	deps = append(deps, store)

	generator := k8sObject("grafana-admin-password", map[string]any{
		"apiVersion": GeneratorsAPI,
		"kind":       "Password",
		"metadata":   map[string]any{"name": "grafana-admin-password", "namespace": obs.Namespace},
		"spec":       map[string]any{"length": 32, "digits": 6, "symbols": 0, "noUpper": false, "allowRepeat": true},
	}, false)
	grafanaAdmin := k8sObject("grafana-admin", map[string]any{
		"apiVersion": ExternalSecretsAPI,
		"kind":       "ExternalSecret",
		"metadata":   map[string]any{"name": obs.GrafanaAdminSecret, "namespace": obs.Namespace},
		"spec": map[string]any{
			// Generated once: a periodic refresh would rotate the password
			// under a running Grafana. Rotate by deleting the Secret.
			"refreshPolicy": "CreatedOnce",
			"target": map[string]any{
				"name": obs.GrafanaAdminSecret, "creationPolicy": "Owner",
				"template": map[string]any{"engineVersion": "v2", "data": map[string]any{
					obs.GrafanaAdminUserKey: "admin", obs.GrafanaAdminPasswordKey: "{{ .password }}",
				}},
			},
			"dataFrom": []any{map[string]any{"sourceRef": map[string]any{"generatorRef": map[string]any{
				"apiVersion": GeneratorsAPI, "kind": "Password", "name": "grafana-admin-password",
			}}}},
		},
	}, true, generator)

	var data []any
	for _, key := range obs.AlertmanagerReceiverKeys {
		data = append(data, map[string]any{
			"secretKey": key, "remoteRef": map[string]any{"key": smName, "property": key},
		})
	}
	k8sObject("alertmanager-receivers-sync", map[string]any{
		"apiVersion": ExternalSecretsAPI,
		"kind":       "ExternalSecret",
		"metadata":   map[string]any{"name": obs.AlertmanagerReceiversSecret, "namespace": obs.Namespace},
		"spec": map[string]any{
			"refreshInterval": "1h",
			"secretStoreRef":  map[string]any{"kind": "ClusterSecretStore", "name": ObservabilitySecretStore},
			// Keep the last good copy if the source is briefly unreadable.
			"target": map[string]any{"name": obs.AlertmanagerReceiversSecret, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
			"data":   data,
		},
	}, false, receivers)

	b.output("alertmanager_receivers_secret", "Secrets Manager secret to fill with Alertmanager receiver credentials (JSON)", receivers.Name(), false)
	return grafanaAdmin, nil
}
