package stacks

import (
	"fmt"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	obs "github.com/spatialprops/spatialprops-infra/stacks/observability"
)

// AlertmanagerStorageGi keeps silences and the notification log on a
// volume, so a pod that moves (a node drain, a scale-down) neither forgets
// a silence nor pages again for what it already sent.
const AlertmanagerStorageGi = 2

// alertmanagerValues are kube-prometheus-stack's alertmanager values: the
// routing from observability.alerting, the receivers Secret mounted only
// when a receiver reads it, and, for SNS, an IRSA role that may publish to
// the one configured topic and nothing else.
func alertmanagerValues(b *base, cluster *ClusterOutputs, storageClass string) (map[string]any, error) {
	a := b.cfg.Observability.Alerting
	cfg, err := obs.NewAlertmanagerConfig(a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.cfg.File(), err)
	}
	config, err := cfg.Values()
	if err != nil {
		return nil, err
	}
	spec := map[string]any{
		"storage": map[string]any{"volumeClaimTemplate": map[string]any{"spec": map[string]any{
			"storageClassName": storageClass,
			"accessModes":      []string{"ReadWriteOnce"},
			"resources":        map[string]any{"requests": map[string]any{"storage": fmt.Sprintf("%dGi", AlertmanagerStorageGi)}},
		}}},
	}
	if cfg.UsesReceiversSecret() {
		spec["secrets"] = []string{obs.ReceiversSecret}
	}
	serviceAccount := map[string]any{"create": true, "name": obs.AlertmanagerServiceAccount}
	if a.SNSTopicArn != "" {
		role, err := sp.NewIrsaRole(b.stack, "alertmanager-irsa", &sp.IrsaRoleProps{
			RoleName:        b.names.Role("irsa-alertmanager"),
			OidcProviderArn: cluster.OidcProviderArn,
			OidcIssuerURL:   cluster.OidcIssuerURL,
			Namespace:       obs.Namespace,
			ServiceAccount:  obs.AlertmanagerServiceAccount,
			// Like every workload role, it lives under the env's boundary.
			PermissionsBoundary: b.boundaryArn(),
			Statements: []sp.Statement{{
				Sid: "PublishAlertsToTheConfiguredTopic", Actions: []string{"sns:Publish"}, Resources: []string{a.SNSTopicArn},
			}},
		})
		if err != nil {
			return nil, err
		}
		serviceAccount["annotations"] = role.Annotation
	}
	return map[string]any{
		"enabled":          true,
		"config":           config,
		"alertmanagerSpec": spec,
		"serviceAccount":   serviceAccount,
	}, nil
}
