package tests

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

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
// age (Prometheus never sees SQS metrics), on the edge stack's own queue,
// and DTNDeadLetters on its dead-letter queue's depth. Every alarm of the
// env (the billing DLQ's too) notifies the alarm topic: an alarm without
// actions changes colour in a console nobody watches.
func TestDTNAlarmsWatchTheQueuesAndNotify(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		doc := stack(t, env+"-edge").Doc
		byName := map[string]gjson.Result{}
		for _, a := range resources(doc, "aws_cloudwatch_metric_alarm") {
			byName[a.Get("alarm_name").String()] = a
		}
		require.Len(t, byName, 2, env)
		a := byName["spatialprops-"+env+"-dtn-outbox-backlog-old"]
		assert.Equal(t, "AWS/SQS", a.Get("namespace").String(), env)
		assert.Equal(t, "ApproximateAgeOfOldestMessage", a.Get("metric_name").String(), env)
		assert.Equal(t, float64(stacks.DTNBacklogAgeAlarmSeconds), a.Get("threshold").Float(), env)
		assert.Equal(t, "notBreaching", a.Get("treat_missing_data").String(), env)
		assert.Regexp(t, `^\$\{aws_sqs_queue\.dtn-outbox[^.]*\.name\}$`, a.Get("dimensions.QueueName").String(), env)
		d := byName["spatialprops-"+env+"-dtn-dead-letter-not-empty"]
		assert.Equal(t, "ApproximateNumberOfMessagesVisible", d.Get("metric_name").String(), env)
		assert.Equal(t, float64(0), d.Get("threshold").Float(), "%s: one dead letter is one too many", env)
		assert.Regexp(t, `^\$\{aws_sqs_queue\.dtn-dead-letter[^.]*\.name\}$`, d.Get("dimensions.QueueName").String(), env)
	}
	for _, env := range []string{"dev", "staging", "prod"} {
		for _, s := range []string{"edge", "marketplace"} {
			for _, a := range resources(stack(t, env+"-"+s).Doc, "aws_cloudwatch_metric_alarm") {
				actions := strs(a.Get("alarm_actions"))
				require.NotEmpty(t, actions, "%s-%s: %s has no alarm action", env, s, a.Get("alarm_name"))
				assert.Contains(t, actions[0], "aws_sns_topicalarm-topicarn", "%s: the storage stack's alarm topic", a.Get("alarm_name"))
			}
		}
	}
	dlq := resources(stack(t, "prod-marketplace").Doc, "aws_cloudwatch_metric_alarm")
	require.Len(t, dlq, 1)
	assert.Equal(t, "spatialprops-prod-billing-events-dlq-not-empty", dlq[0].Get("alarm_name").String())
}

// GIVEN every queue of every env THEN its one policy refuses requests that
// are not made over TLS, whoever sends them.
func TestEveryQueueIsTLSOnly(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		for _, s := range []string{"edge", "marketplace"} {
			doc := stack(t, env+"-"+s).Doc
			queues := resources(doc, "aws_sqs_queue")
			policies := resources(doc, "aws_sqs_queue_policy")
			require.Len(t, policies, len(queues), "%s-%s: one policy per queue", env, s)
			for _, p := range policies {
				id := strings.TrimSuffix(strings.TrimPrefix(p.Get("policy").String(), "${data.aws_iam_policy_document."), ".json}")
				st := doc.Get("data.aws_iam_policy_document." + gjson.Escape(id) + ".statement.0")
				assert.Equal(t, "Deny", st.Get("effect").String())
				assert.Equal(t, "aws:SecureTransport", st.Get("condition.0.variable").String())
				assert.Equal(t, []string{"false"}, strs(st.Get("condition.0.values")))
			}
		}
	}
}
