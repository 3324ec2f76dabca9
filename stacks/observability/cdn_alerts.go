package observability

import (
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"
)

// CDN error-rate alert thresholds, in percent of requests over 5 minutes.
// 4xx includes every refused signed URL (expired, unlicensed), so it runs
// higher than 5xx by design; 5xx means CloudFront or its origin failed.
const (
	CDN4xxErrorRateThreshold = 20
	CDN5xxErrorRateThreshold = 5
)

// AlertLabel is the label Grafana's alerts sidecar picks ConfigMaps up by
// (with SidecarValue), as the datasource and dashboard sidecars do.
const AlertLabel = "grafana_alert"

// CDNAlertRulesYAML provisions two Grafana-managed alert rules that query
// the CloudWatch datasource (CloudFront metrics never reach Prometheus):
// CDN5xxErrorRateHigh and CDN4xxErrorRateHigh, each firing when any
// distribution's error rate stays over its threshold for 10 minutes.
// Grafana hands firing alerts to the Alertmanager datasource
// (handleGrafanaManagedAlerts), so they route like every other alert by
// their severity label.
//
// Each rule is A (the CloudWatch query, the same one the CDN errors
// dashboard plots, over the last 15 minutes), B (reduce A to its maximum)
// and C (B over the threshold). The relative time range is required:
// without one Grafana rejects the whole provisioning file.
func CDNAlertRulesYAML() (string, error) {
	rule := func(uid, title, metric string, threshold int, severity, summary, anchor string) (map[string]any, error) {
		q, err := cdnErrorQuery(metric, metric).RefId("A").Build()
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(q)
		if err != nil {
			return nil, err
		}
		var model map[string]any
		if err := json.Unmarshal(raw, &model); err != nil {
			return nil, err
		}
		return map[string]any{
			"uid": uid, "title": title, "condition": "C", "for": "10m",
			"noDataState": "OK", "execErrState": "Error",
			"data": []any{
				map[string]any{"refId": "A", "datasourceUid": CloudWatchUID, "relativeTimeRange": map[string]any{"from": 900, "to": 0}, "model": model},
				map[string]any{"refId": "B", "datasourceUid": "__expr__", "relativeTimeRange": map[string]any{"from": 900, "to": 0},
					"model": map[string]any{"refId": "B", "type": "reduce", "expression": "A", "reducer": "max"}},
				map[string]any{"refId": "C", "datasourceUid": "__expr__", "relativeTimeRange": map[string]any{"from": 900, "to": 0},
					"model": map[string]any{"refId": "C", "type": "threshold", "expression": "B",
						"conditions": []any{map[string]any{"evaluator": map[string]any{"type": "gt", "params": []any{threshold}}}}}},
			},
			"labels": map[string]any{"severity": severity},
			"annotations": map[string]any{
				"summary":     summary,
				"description": fmt.Sprintf("A CloudFront distribution's %s stayed over %d%% of requests for 10 minutes (CloudWatch AWS/CloudFront).", metric, threshold),
				"runbook_url": "https://github.com/spatialprops/spatialprops-infra/blob/main/docs/edge-observability.md#" + anchor,
			},
		}, nil
	}
	five, err := rule("cdn-5xx-error-rate", "CDN5xxErrorRateHigh", "5xxErrorRate", CDN5xxErrorRateThreshold, "critical",
		"The CDN is failing requests (5xx)", "cdn5xxerrorratehigh")
	if err != nil {
		return "", err
	}
	four, err := rule("cdn-4xx-error-rate", "CDN4xxErrorRateHigh", "4xxErrorRate", CDN4xxErrorRateThreshold, "warning",
		"The CDN is refusing many requests (4xx)", "cdn4xxerrorratehigh")
	if err != nil {
		return "", err
	}
	doc := map[string]any{
		"apiVersion": 1,
		"groups": []any{map[string]any{
			"orgId": 1, "name": "spatialprops-cdn", "folder": "Spatial Properties", "interval": "1m",
			"rules": []any{five, four},
		}},
	}
	b, err := yaml.Marshal(doc)
	return string(b), err
}
