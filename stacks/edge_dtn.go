package stacks

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchmetricalarm"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/sqsqueue"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/sqsqueuepolicy"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
)

// DTNBacklogAgeAlarmSeconds is how old the oldest envelope in the DTN
// outbox may get before the DTNBacklogOld alarm fires. DTN links are
// delay-tolerant (satellite passes, LPWAN duty cycles), so minutes of age are
// normal; six hours means the gateway has stopped draining, well inside the
// queue's 14-day retention.
const DTNBacklogAgeAlarmSeconds = 6 * 3600

// alarmActions are where every CloudWatch alarm of the env notifies: the
// storage stack's alarm topic (<org>-<env>-alarms), and the alerting topic
// the config names, if any (observability.alerting.snsTopicArn, the one
// Alertmanager publishes to).
func alarmActions(b *base, topic *string) *[]*string {
	out := []*string{topic}
	if t := b.cfg.Observability.Alerting.SNSTopicArn; t != "" {
		out = append(out, jsii.String(t))
	}
	return &out
}

// newDTNAlarms are the DTN queues' alarms. The age of the oldest SQS message
// and the dead-letter queue's depth are CloudWatch metrics that Prometheus
// never sees, so these are CloudWatch alarms rather than PrometheusRules:
//   - DTNBacklogOld: the oldest envelope in the outbox is over 6 hours old;
//   - DTNDeadLetters: an envelope the gateway failed to forward 5 times
//     reached the dead-letter queue (any message there needs a person).
func newDTNAlarms(b *base, topic *string, queue, dlq sqsqueue.SqsQueue) {
	actions := alarmActions(b, topic)
	cloudwatchmetricalarm.NewCloudwatchMetricAlarm(b.stack, jsii.String("dtn-backlog-old"), &cloudwatchmetricalarm.CloudwatchMetricAlarmConfig{
		AlarmName:          jsii.String(b.names.DTNOutboxQueue() + "-backlog-old"),
		AlarmDescription:   jsii.String("DTNBacklogOld: the oldest envelope in the DTN outbox is over 6 hours old; the dtn-gateway is not draining it. See docs/edge-observability.md#dtnbacklogold"),
		Namespace:          jsii.String("AWS/SQS"),
		MetricName:         jsii.String("ApproximateAgeOfOldestMessage"),
		Dimensions:         &map[string]*string{"QueueName": queue.Name()},
		Statistic:          jsii.String("Maximum"),
		Period:             jsii.Number(300),
		EvaluationPeriods:  jsii.Number(3),
		Threshold:          jsii.Number(DTNBacklogAgeAlarmSeconds),
		ComparisonOperator: jsii.String("GreaterThanThreshold"),
		// No data means an empty or idle queue, not an old backlog.
		TreatMissingData: jsii.String("notBreaching"),
		AlarmActions:     actions,
		OkActions:        actions,
	})
	newDeadLetterAlarm(b, "dtn-dead-letters", b.names.DTNDeadLetterQueue(), dlq, actions,
		"DTNDeadLetters: envelopes the dtn-gateway failed to forward are in the DTN dead-letter queue. See docs/edge-observability.md#dtndeadletters")
}

// newDeadLetterAlarm fires when a dead-letter queue holds any message: it
// got there only after its consumer failed it maxReceiveCount times.
func newDeadLetterAlarm(b *base, id, queueName string, dlq sqsqueue.SqsQueue, actions *[]*string, description string) {
	cloudwatchmetricalarm.NewCloudwatchMetricAlarm(b.stack, jsii.String(id), &cloudwatchmetricalarm.CloudwatchMetricAlarmConfig{
		AlarmName:          jsii.String(queueName + "-not-empty"),
		AlarmDescription:   jsii.String(description),
		Namespace:          jsii.String("AWS/SQS"),
		MetricName:         jsii.String("ApproximateNumberOfMessagesVisible"),
		Dimensions:         &map[string]*string{"QueueName": dlq.Name()},
		Statistic:          jsii.String("Maximum"),
		Period:             jsii.Number(300),
		EvaluationPeriods:  jsii.Number(1),
		Threshold:          jsii.Number(0),
		ComparisonOperator: jsii.String("GreaterThanThreshold"),
		TreatMissingData:   jsii.String("notBreaching"),
		AlarmActions:       actions,
		OkActions:          actions,
	})
}

// newTLSOnlyQueuePolicy refuses every request to the queue that is not
// made over TLS, whoever sends it.
func newTLSOnlyQueuePolicy(b *base, id string, queue sqsqueue.SqsQueue) {
	doc := sp.NewPolicyDocument(b.stack, id+"-document", sp.Statement{
		Sid: "DenyInsecureTransport", Effect: "Deny", Actions: []string{"sqs:*"}, Resources: []string{*queue.Arn()},
		Principals: []sp.Principal{{Type: "*", Identifiers: []string{"*"}}},
		Conditions: []sp.Condition{{Test: "Bool", Variable: "aws:SecureTransport", Values: []string{"false"}}},
	})
	sqsqueuepolicy.NewSqsQueuePolicy(b.stack, jsii.String(id), &sqsqueuepolicy.SqsQueuePolicyConfig{QueueUrl: queue.Url(), Policy: doc.Json()})
}
