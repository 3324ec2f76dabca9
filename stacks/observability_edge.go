package stacks

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/configmapv1"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	obs "github.com/spatialprops/spatialprops-infra/stacks/observability"
)

// GrafanaCloudWatchActions are everything Grafana's CloudWatch role may do:
// read metrics and alarm states. Nothing writes, and none of these actions
// reaches metric or alarm data through a resource ARN (CloudWatch's read
// APIs take no resource-level scoping except DescribeAlarms, which Grafana
// calls for every alarm), so the resource is "*".
var GrafanaCloudWatchActions = []string{
	"cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "cloudwatch:GetMetricStatistics", "cloudwatch:DescribeAlarms",
}

// newEdgeObservability adds what the edge dashboards need to the
// observability stack: a read-only IRSA role for Grafana's service account
// (irsa-grafana-cloudwatch), the CloudWatch datasource that uses it, the
// five edge dashboards and the CDN error-rate alert rules. It returns the Grafana serviceAccount values that
// carry the role annotation.
func newEdgeObservability(b *base, cluster *ClusterOutputs, nsName *string) (map[string]any, error) {
	role, err := sp.NewIrsaRole(b.stack, "grafana-cloudwatch-irsa", &sp.IrsaRoleProps{
		RoleName:        b.names.Role("irsa-grafana-cloudwatch"),
		OidcProviderArn: cluster.OidcProviderArn,
		OidcIssuerURL:   cluster.OidcIssuerURL,
		Namespace:       obs.Namespace,
		ServiceAccount:  obs.GrafanaService,
		// Like every workload role, it lives under the env's boundary.
		PermissionsBoundary: b.boundaryArn(),
		Statements: []sp.Statement{{
			Sid: "ReadMetricsAndAlarms", Actions: GrafanaCloudWatchActions, Resources: []string{"*"},
		}},
	})
	if err != nil {
		return nil, err
	}
	datasource, err := obs.EdgeDatasourceYAML(b.cfg.Region)
	if err != nil {
		return nil, err
	}
	configmapv1.NewConfigMapV1(b.stack, jsii.String("grafana-cloudwatch-datasource"), &configmapv1.ConfigMapV1Config{
		Metadata: &configmapv1.ConfigMapV1Metadata{
			Name: jsii.String("spatialprops-cloudwatch-datasource"), Namespace: nsName,
			Labels: &map[string]*string{DatasourceLabel: jsii.String(SidecarValue)},
		},
		Data: &map[string]*string{"cloudwatch.yaml": jsii.String(datasource)},
	})
	dashboards, err := obs.EdgeDashboards(obs.EdgeDashboardInput{Region: b.cfg.Region, DTNQueue: b.names.DTNOutboxQueue()})
	if err != nil {
		return nil, err
	}
	configmapv1.NewConfigMapV1(b.stack, jsii.String("grafana-edge-dashboards"), &configmapv1.ConfigMapV1Config{
		Metadata: &configmapv1.ConfigMapV1Metadata{
			Name: jsii.String("spatialprops-edge-dashboards"), Namespace: nsName,
			Labels: &map[string]*string{DashboardLabel: jsii.String(SidecarValue)},
		},
		Data: sp.StringMap(dashboards),
	})
	// The CDN error-rate alerts query the CloudWatch datasource, so they are
	// Grafana-managed rules, provisioned by Grafana's alerts sidecar.
	cdnAlerts, err := obs.CDNAlertRulesYAML()
	if err != nil {
		return nil, err
	}
	configmapv1.NewConfigMapV1(b.stack, jsii.String("grafana-cdn-alerts"), &configmapv1.ConfigMapV1Config{
		Metadata: &configmapv1.ConfigMapV1Metadata{
			Name: jsii.String("spatialprops-cdn-alerts"), Namespace: nsName,
			Labels: &map[string]*string{obs.AlertLabel: jsii.String(SidecarValue)},
		},
		Data: &map[string]*string{"cdn-alerts.yaml": jsii.String(cdnAlerts)},
	})
	// The grafana subchart's default name, set explicitly so the role's
	// trust policy and the service account cannot drift apart.
	return map[string]any{"create": true, "name": obs.GrafanaService, "annotations": role.Annotation}, nil
}
