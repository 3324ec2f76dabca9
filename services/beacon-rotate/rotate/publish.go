package rotate

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/spatialprops/spatialprops-infra/edge"
)

// JetStream publishes beacon updates on edge.beacon.updated and waits for
// the BEACONS stream's acknowledgement. It needs no JetStream API access:
// the beacon-rotate NATS user may publish that subject and read its own
// inbox, nothing else (edge.ServicePermissions).
type JetStream struct {
	JS jetstream.JetStream
}

// Publish sends body with header Nats-Msg-Id: msgID. The expected-stream
// header makes a publish that no BEACONS stream captures fail instead of
// landing elsewhere.
func (p JetStream) Publish(ctx context.Context, msgID string, body []byte) (bool, error) {
	msg := nats.NewMsg(edge.SubjectBeaconUpdated)
	msg.Data = body
	ack, err := p.JS.PublishMsg(ctx, msg, jetstream.WithMsgID(msgID), jetstream.WithExpectStream(edge.StreamBeacons))
	if err != nil {
		return false, fmt.Errorf("publish %s (Nats-Msg-Id %s): %w", edge.SubjectBeaconUpdated, msgID, err)
	}
	return ack.Duplicate, nil
}
