// Package rollback rolls the edge additions back in the order of the
// guide's "Rollback & Cleanup (Additions)": disable the P2P bridge first,
// drain the DTN queues, revoke the device certificates of compromised
// cohorts, and export the beacon registry per venue.
package rollback

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/internal/ops/wait"
)

// Bridge is the P2P bridge switch.
type Bridge interface {
	// Disable stops peer exchange and says what it did.
	Disable(ctx context.Context) (string, error)
}

// BridgeRestartAnnotation is set on the NATS StatefulSet's pod template to
// roll its pods onto the config without the bridge.
const BridgeRestartAnnotation = "spatial.properties/p2p-bridge-disabled-at"

// NATSBridge disables the P2P bridge the way it is built: a leaf-node
// remote in the NATS server config, which the nats chart renders into key
// nats.conf of ConfigMap <release>-config. It removes the remote from that
// ConfigMap (edge.WithoutLeafRemotes), then restarts the StatefulSet's
// pods one by one: nats-server refuses to drop a leaf remote on a config
// reload, so the chart's reloader alone would leave the bridge up
// (edge/natstest proves both). A rerun finds no remote and restarts
// nothing.
type NATSBridge struct {
	Kube kubernetes.Interface
	// Namespace and Release locate the NATS release (edge-sync, nats).
	Namespace, Release string
	Now                func() time.Time
}

// Disable implements Bridge.
func (b NATSBridge) Disable(ctx context.Context) (string, error) {
	cmName, key := b.Release+"-config", "nats.conf"
	cm, err := b.Kube.CoreV1().ConfigMaps(b.Namespace).Get(ctx, cmName, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("read the NATS config (configmap %s/%s): %w", b.Namespace, cmName, err)
	}
	conf, removed, err := edge.WithoutLeafRemotes(cm.Data[key])
	if err != nil {
		return "", fmt.Errorf("configmap %s/%s: %w", b.Namespace, cmName, err)
	}
	if !removed {
		return fmt.Sprintf("configmap %s/%s has no leaf-node remote: the P2P bridge is off, nothing to disable", b.Namespace, cmName), nil
	}
	cm.Data[key] = conf
	if _, err := b.Kube.CoreV1().ConfigMaps(b.Namespace).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		return "", fmt.Errorf("write the NATS config without the bridge: %w", err)
	}
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`, BridgeRestartAnnotation, b.Now().UTC().Format(time.RFC3339))
	if _, err := b.Kube.AppsV1().StatefulSets(b.Namespace).Patch(ctx, b.Release, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return "", fmt.Errorf("the leaf-node remote is gone from the config, but restarting statefulset/%s failed (%w); until its pods restart the bridge stays up: kubectl rollout restart statefulset/%s -n %s",
			b.Release, err, b.Release, b.Namespace)
	}
	return fmt.Sprintf("removed the leaf-node remote from configmap %s/%s and restarted statefulset/%s one pod at a time "+
		"(nats-server cannot drop a remote on reload); watch: kubectl rollout status statefulset/%s -n %s. "+
		"Set edge.p2pBridge.enabled: false in the env file and deploy the edge stack, or the next deploy brings the bridge back",
		b.Namespace, cmName, b.Release, b.Release, b.Namespace), nil
}

// SQSAPI reads queue depth.
type SQSAPI interface {
	GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Drain waits until queue has no visible and no in-flight message: the DTN
// gateway has forwarded everything it accepted. It never deletes messages.
func Drain(ctx context.Context, out io.Writer, q SQSAPI, queue string, timeout time.Duration, opts wait.Options) error {
	u, err := q.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(queue)})
	if err != nil {
		return fmt.Errorf("queue %s: %w", queue, err)
	}
	return wait.Until(ctx, out, "queue "+queue+" drained", timeout, opts, func(ctx context.Context) (bool, string, error) {
		a, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		}})
		if err != nil {
			return false, "", err
		}
		visible, _ := strconv.Atoi(a.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
		inFlight, _ := strconv.Atoi(a.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
		return visible+inFlight == 0, fmt.Sprintf("%d visible, %d in flight", visible, inFlight), nil
	})
}
