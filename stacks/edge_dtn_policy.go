package stacks

import sp "github.com/spatialprops/spatialprops-infra/constructs"

// DTNGatewayPort is the container port of the dtn-gateway chart
// (helm/dtn-gateway service.targetPort), which its Service's port 80 targets.
const DTNGatewayPort = 8080

// dtnGatewayIngress lets only the two uplink adapters reach the gateway
// (helm/<chart> pods carry app.kubernetes.io/name=<chart>). The gateway's
// own path to NATS is the nats-clients allow, which admits edge-sync.
func dtnGatewayIngress() sp.IngressAllow {
	return sp.IngressAllow{
		Name:      "dtn-gateway-from-uplinks",
		PodLabels: map[string]string{"app.kubernetes.io/name": "dtn-gateway"},
		Ports:     []int{DTNGatewayPort},
		From: []sp.Peer{
			{PodLabels: map[string]string{"app.kubernetes.io/name": "uplink-satellite"}},
			{PodLabels: map[string]string{"app.kubernetes.io/name": "uplink-lpwan"}},
		},
	}
}
