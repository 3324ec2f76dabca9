package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/stacks"
)

// The edge alerts are a second PrometheusRule, and every one of them has a
// promtool unit test (make rules runs them).
func TestEdgeAlertRulesAreLoadedAndEachHasAUnitTest(t *testing.T) {
	_, v := releaseValues(t, stack(t, "dev-observability").Doc, "kube-prometheus-stack")
	ruleMap := v["additionalPrometheusRulesMap"].(map[string]any)
	require.Contains(t, ruleMap, "spatialprops-edge")
	require.Contains(t, ruleMap, "spatialprops-platform", "the edge rules are added, not swapped in")
	var alerts []string
	for _, g := range ruleMap["spatialprops-edge"].(map[string]any)["groups"].([]any) {
		for _, r := range g.(map[string]any)["rules"].([]any) {
			alerts = append(alerts, r.(map[string]any)["alert"].(string))
		}
	}
	assert.ElementsMatch(t, []string{
		"EdgeReplayDetected", "ProvenanceInvalidAttestationRatio", "MarketplaceDelistSpike", "DeviceCertificateIssueFailures",
		"DeviceEnrollmentIssueFailures", "EdgeReplayDetectorAbsent", "ProvenanceGateMetricsAbsent", "MarketplaceDelistMetricsAbsent",
		"DeviceEnrollmentMetricsAbsent",
	}, alerts)
	tests := readFile(t, "../stacks/observability/rules/edge.rules.test.yaml")
	for _, a := range alerts {
		assert.Contains(t, tests, "alertname: "+a, "alert %s has no promtool unit test", a)
	}
}

// DTNBacklogOld is a CloudWatch alarm on the outbox queue's oldest-message
// age (Prometheus never sees SQS metrics), on the edge stack's own queue.
func TestDTNBacklogOldAlarmWatchesTheOutbox(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-edge").Doc
		queues := resources(doc, "aws_sqs_queue")
		alarms := resources(doc, "aws_cloudwatch_metric_alarm")
		require.Len(t, alarms, 1, env)
		a := alarms[0]
		assert.Equal(t, "AWS/SQS", a.Get("namespace").String(), env)
		assert.Equal(t, "ApproximateAgeOfOldestMessage", a.Get("metric_name").String(), env)
		assert.Equal(t, float64(stacks.DTNBacklogAgeAlarmSeconds), a.Get("threshold").Float(), env)
		assert.Equal(t, "notBreaching", a.Get("treat_missing_data").String(), env)
		assert.Regexp(t, `^\$\{aws_sqs_queue\.dtn-outbox[^.]*\.name\}$`, a.Get("dimensions.QueueName").String(), env)
		assert.NotEmpty(t, queues)
	}
}
