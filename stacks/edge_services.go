package stacks

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtable"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/edge"
)

// ServiceMetricsPort is where every service on the kit (services/kit,
// DefaultOpsPort) serves /metrics, /healthz and /readyz, apart from its
// API: the charts' container port "metrics", which Prometheus scrapes.
const ServiceMetricsPort = 9090

// Workloads of the edge and marketplace walking skeletons (chart names,
// service accounts and pod labels).
const (
	EdgeSyncApp       = "edge-sync"
	PresignerAccount  = "cdn-presigner"
	ProvenanceGateApp = ProvenanceGate
	UplinkSatellite   = "uplink-satellite"
	UplinkLPWAN       = "uplink-lpwan"
)

// prometheusScrape admits Prometheus to every pod of a namespace on the
// kit's metrics port, and nothing else.
func prometheusScrape() sp.IngressAllow {
	return sp.IngressAllow{Name: "prometheus-scrape-metrics-port", Ports: []int{ServiceMetricsPort}, From: []sp.Peer{PrometheusPeer}}
}

// uplinksFromGateway lets the dtn-gateway reach the uplink adapters it
// forwards through (dtn.HTTPUplink: GET /healthz, POST /v1/bundles).
func uplinksFromGateway() []sp.IngressAllow {
	gw := []sp.Peer{{PodLabels: map[string]string{"app.kubernetes.io/name": "dtn-gateway"}}}
	var out []sp.IngressAllow
	for _, u := range []string{UplinkSatellite, UplinkLPWAN} {
		out = append(out, sp.IngressAllow{Name: u + "-from-dtn-gateway", PodLabels: map[string]string{"app.kubernetes.io/name": u},
			Ports: []int{DTNGatewayPort}, From: gw})
	}
	return out
}

// newDevicesTable is the devices table (contracts.md, "Device identity"):
// one item per device with its cohort, status and current certificate
// serial, and, until it is used, the SHA-256 of its one-time enrollment
// token. device-enrollment writes it; the CDN presigner reads it. Keyed
// by device id, encrypted with the devices key, PITR, protected outside dev.
func newDevicesTable(b *base, keyArn *string) dynamodbtable.DynamodbTable {
	protect := b.cfg.Protect()
	return dynamodbtable.NewDynamodbTable(b.stack, jsii.String("devices"), &dynamodbtable.DynamodbTableConfig{
		Name:                      jsii.String(b.names.DevicesTable()),
		BillingMode:               jsii.String("PAY_PER_REQUEST"),
		HashKey:                   jsii.String(edge.DeviceKey),
		Attribute:                 &[]*dynamodbtable.DynamodbTableAttribute{{Name: jsii.String(edge.DeviceKey), Type: jsii.String("S")}},
		PointInTimeRecovery:       pointInTimeRecovery(),
		ServerSideEncryption:      &dynamodbtable.DynamodbTableServerSideEncryption{Enabled: jsii.Bool(true), KmsKeyArn: keyArn},
		DeletionProtectionEnabled: jsii.Bool(protect),
		Lifecycle:                 sp.Lifecycle(protect),
	})
}
