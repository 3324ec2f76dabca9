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

	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/internal/ops/wait"
)

// Bridge is the P2P bridge switch. The edge.p2pBridge config and the
// bridge itself (a NATS leaf-node remote or a libp2p sidecar) are not built
// yet; whatever is built must honour this interface.
type Bridge interface {
	// Disable stops peer exchange and says what it did.
	Disable(ctx context.Context) (string, error)
}

// BridgeRoleLabel marks the workloads that bridge to peers: spctl scales
// every Deployment and StatefulSet in edge-sync carrying it to zero.
const BridgeRoleLabel = "spatial.properties/role=p2p-bridge"

// KubeBridge disables the bridge by scaling its labelled workloads to 0.
// Today no workload carries the label, so it reports that nothing runs.
type KubeBridge struct{ Kube kubernetes.Interface }

// Disable implements Bridge.
func (b KubeBridge) Disable(ctx context.Context) (string, error) {
	ns, sel := naming.NamespaceEdge, metav1.ListOptions{LabelSelector: BridgeRoleLabel}
	deps, err := b.Kube.AppsV1().Deployments(ns).List(ctx, sel)
	if err != nil {
		return "", err
	}
	sts, err := b.Kube.AppsV1().StatefulSets(ns).List(ctx, sel)
	if err != nil {
		return "", err
	}
	var scaled []string
	zero := []byte(`{"spec":{"replicas":0}}`)
	for _, d := range deps.Items {
		if _, err := b.Kube.AppsV1().Deployments(ns).Patch(ctx, d.Name, types.MergePatchType, zero, metav1.PatchOptions{}); err != nil {
			return "", err
		}
		scaled = append(scaled, "deployment/"+d.Name)
	}
	for _, st := range sts.Items {
		if _, err := b.Kube.AppsV1().StatefulSets(ns).Patch(ctx, st.Name, types.MergePatchType, zero, metav1.PatchOptions{}); err != nil {
			return "", err
		}
		scaled = append(scaled, "statefulset/"+st.Name)
	}
	if len(scaled) == 0 {
		return fmt.Sprintf("no workload labelled %s in %s: the P2P bridge is not deployed, nothing to disable", BridgeRoleLabel, ns), nil
	}
	return fmt.Sprintf("scaled to 0: %v", scaled), nil
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
