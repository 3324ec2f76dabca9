package stacks

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/cloudwatchmetricalarm"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/sqsqueue"
)

// DTNBacklogAgeAlarmSeconds is how old the oldest envelope in the DTN
// outbox may get before the DTNBacklogOld alarm fires. DTN links are
// delay-tolerant (satellite passes, LPWAN duty cycles), so minutes of age are
// normal; six hours means the gateway has stopped draining, well inside the
// queue's 14-day retention.
const DTNBacklogAgeAlarmSeconds = 6 * 3600

// newDTNBacklogAlarm is the DTNBacklogOld alert. The age of the oldest SQS
// message is a CloudWatch metric that Prometheus never sees, so this alert is
// a CloudWatch alarm rather than a PrometheusRule. It notifies the SNS topic
// the alerting config names (observability.alerting.snsTopicArn), the same
// topic Alertmanager publishes to; with no topic configured the alarm still
// shows its state in the console and on the DTN backlog dashboard.
func newDTNBacklogAlarm(b *base, queue sqsqueue.SqsQueue) cloudwatchmetricalarm.CloudwatchMetricAlarm {
	var actions *[]*string
	if t := b.cfg.Observability.Alerting.SNSTopicArn; t != "" {
		actions = &[]*string{jsii.String(t)}
	}
	return cloudwatchmetricalarm.NewCloudwatchMetricAlarm(b.stack, jsii.String("dtn-backlog-old"), &cloudwatchmetricalarm.CloudwatchMetricAlarmConfig{
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
}
