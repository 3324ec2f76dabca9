package stacks

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/sqsqueue"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/configmapv1"
	"github.com/cdktf/cdktf-provider-kubernetes-go/kubernetes/v11/jobv1"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// Edge Sync names in namespace edge-sync.
const (
	NATSRelease           = naming.ReleaseNATS
	DTNGatewayAccount     = "dtn-gateway"
	DTNRetentionDays      = 14
	DTNVisibilitySeconds  = 300
	DTNMaxReceiveAttempts = 5
)

// EdgeOutputs locate the edge services' backing resources.
type EdgeOutputs struct {
	// NATSURL is the in-cluster client URL (service CA certificates).
	NATSURL string
	// AgentsURL is where agents connect with a device certificate.
	AgentsURL string
	// DeviceLedgerTable is the name of the device-certificate ledger.
	DeviceLedgerTable *string
	DTNQueueURL       *string
	DTNBucket         *string
	DTNGatewayRole    *string
	Beacons           *BeaconOutputs
	// PresignerHost is the CDN presigner's public host (mutual TLS).
	PresignerHost string
	// TrustStoreArn is the presigner ALB's trust store (device CA only).
	TrustStoreArn *string
}

// NewEdgeStack deploys the Edge Sync foundation of the edge & marketplace
// additions: NATS JetStream with the edge streams (payloads capped at the
// 50 KB envelope) and its auth callout in the privileged namespace
// edge-nats; the DTN gateway's store-and-forward queue, backed by S3 for
// bodies and SQS for order, with an IRSA role for the gateway, beside the
// beacon registry in edge-sync (where the service workflows deploy). It
// also builds the trust anchors of the CA hierarchy into the cluster and
// the edge: the per-namespace service-CA issuers and their approval
// policies, the device trust store, the CDN presigner's mutual-TLS entry
// point with crl-sync, and the enrollment service's namespace
// (stacks/edge_trust.go, stacks/edge_identity.go). It needs the PKI
// ceremony to have signed both subordinate CAs. It returns nil when
// cfg.Edge.Enabled is false.
func NewEdgeStack(scope constructs.Construct, cfg *envs.Config, cluster *ClusterOutputs, platform *PlatformOutputs, storage *StorageOutputs, identity *IdentityOutputs, cdn *CDNOutputs) (*EdgeOutputs, error) {
	if !cfg.Edge.Enabled {
		return nil, nil
	}
	replicas := NATSReplicas(cfg)
	clustered := replicas > 1
	streams, err := edge.Streams(cfg.Edge.EnvelopeMaxBytes, replicas)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	b, err := newBase(scope, cfg, EdgeStack)
	if err != nil {
		return nil, err
	}
	if err := b.kubernetesProviders(cluster); err != nil {
		return nil, err
	}
	ns, err := sp.NewNamespace(b.stack, "namespace", &sp.NamespaceProps{Name: naming.NamespaceEdge,
		Policies: slices.Concat([]sp.IngressAllow{dtnGatewayIngress(), prometheusScrape()}, uplinksFromGateway(), beaconPolicies(cfg.Network.PublicSubnets))})
	if err != nil {
		return nil, err
	}
	natsNS, err := sp.NewNamespace(b.stack, "nats-namespace", &sp.NamespaceProps{Name: naming.NamespaceNATS, Policies: natsPolicies()})
	if err != nil {
		return nil, err
	}

	// DTN store-and-forward: bodies in S3, order and retries in SQS, both
	// encrypted with the edge's own key (storage.EdgeKeyArn); the queue
	// refuses anything larger than the envelope limit.
	bucket, err := sp.NewSecureBucket(b.stack, "dtn-store", &sp.SecureBucketProps{
		Name: b.names.DataBucket("dtn"), KmsKeyArn: storage.EdgeKeyArn, Protect: cfg.Protect(),
		AccessLogs: &sp.AccessLogTarget{Bucket: storage.Buckets["logs"].Name, Prefix: AccessLogPrefix("dtn")},
		Lifecycle: []sp.LifecycleRule{{
			ID: "expire-forwarded-envelopes", ExpireDays: DTNRetentionDays, NoncurrentExpireDays: 1, AbortMultipartDays: 1,
		}},
	})
	if err != nil {
		return nil, err
	}
	queue, dlq := newDTNQueues(b, storage.EdgeKeyArn)
	role, err := sp.NewIrsaRole(b.stack, "dtn-gateway-irsa", &sp.IrsaRoleProps{
		RoleName: b.names.Role("irsa-dtn-gateway"), OidcProviderArn: cluster.OidcProviderArn, OidcIssuerURL: cluster.OidcIssuerURL,
		PermissionsBoundary: b.boundaryArn(),
		Namespace:           naming.NamespaceEdge, ServiceAccount: DTNGatewayAccount,
		Statements: []sp.Statement{
			{Sid: "QueueEnvelopes", Actions: []string{"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"},
				Resources: []string{*queue.Arn()}},
			{Sid: "StoreEnvelopeBodies", Actions: []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject"}, Resources: []string{*bucket.Arn + "/*"}},
			{Sid: "ListEnvelopes", Actions: []string{"s3:ListBucket"}, Resources: []string{*bucket.Arn}},
			{Sid: "UseTheEdgeKeyForItsStoreAndQueues", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resources: []string{*storage.EdgeKeyArn},
				Conditions: []sp.Condition{viaServices(cfg.Region, "s3", "sqs")}},
		},
	})
	if err != nil {
		return nil, err
	}

	ledger := newDeviceLedger(b, storage.DeviceKeyArn)
	devices := newDevicesTable(b, storage.DeviceKeyArn)
	beacons, err := newBeaconRegistry(b, cluster)
	if err != nil {
		return nil, err
	}
	// The env's public zone: the agents' NATS endpoint, the presigner and
	// the beacon admin UI each get a record in it.
	zone := b.publicZone()
	if _, err := newBeaconsAdminEntry(b, ns, zone, cluster); err != nil {
		return nil, err
	}
	newDTNAlarms(b, storage.AlarmTopicArn, queue, dlq)

	// Trust anchors: both subordinate CAs must be signed (PKI ceremony).
	anchors := newTrustAnchors(b, identity)
	trustStore := newDeviceTrustStore(b, identity, anchors)
	natsAnchors := newNATSTrustAnchors(b, anchors, natsNS.Resource)

	// mTLS, accounts and the auth callout (stacks/edge_nats.go,
	// stacks/edge_natsauth.go): issuers and approval policies first, then
	// certificates, then the servers, so the chart's pods find their Secrets.
	certs := natsCertificates(cfg, clustered)
	issuers := newServiceIssuers(b, identity, natsCertRequests(certs), []cdktf.ITerraformDependable{ns.Resource, natsNS.Resource})
	certObjs := newNATSCertificates(b, certs, issuers)
	authSecret := newNATSAuthSecret(b, []cdktf.ITerraformDependable{natsNS.Resource})
	values := natsValues(cfg, replicas, platform.StorageClass)
	if err := addNATSSecurity(values, cfg, clustered); err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	nats, err := sp.NewHelmRelease(b.stack, "nats", &sp.HelmReleaseProps{
		Chart: NATSChart, ReleaseName: NATSRelease, Namespace: naming.NamespaceNATS,
		Values:    values,
		DependsOn: append([]cdktf.ITerraformDependable{natsNS.Resource, natsAnchors, authSecret}, certObjs...),
	})
	if err != nil {
		return nil, err
	}
	// Every client but the callout itself is authorized by the callout, so
	// the streams can be set up only once it runs.
	// Until the callout's image is pinned, the stream definitions exist but
	// no Job applies them.
	callout := newNATSAuth(b, []cdktf.ITerraformDependable{nats.Release})
	if err := newStreamSetup(b, natsNS.Name, callout, streams, NATSURL()); err != nil {
		return nil, err
	}
	agentsURL := newNATSAgentsEndpoint(b, nats.Release, zone)

	presignNS, presignHost, err := newPresigner(b, cluster, cdn, trustStore, zone)
	if err != nil {
		return nil, err
	}
	if err := newCRLSync(b, presignNS, identity, trustStore); err != nil {
		return nil, err
	}
	if err := newEnrollment(b, identity); err != nil {
		return nil, err
	}

	b.output("presigner_host", "Host of the CDN presigner (ALB mutual TLS with device certificates)", presignHost, false)
	b.output("device_trust_store_arn", "ALB trust store of device certificates (the device CA only)", trustStore.Arn(), false)
	b.output("nats_agents_url", "URL agents connect to with their device certificate (NATS over TLS websocket)", agentsURL, false)
	b.output("nats_url", "In-cluster NATS URL (service CA certificates)", NATSURL(), false)
	b.output("dtn_queue_url", "DTN store-and-forward queue", queue.Url(), false)
	b.output("dtn_gateway_role_arn", "IRSA role for the dtn-gateway service account", role.RoleArn, false)
	b.output("device_ledger_table", "Device certificate ledger (serial, device, cohort, notAfter, revoked, fingerprint)", ledger.Name(), false)
	b.output("unpinned_workloads", "Privileged workloads with no image digest pinned in envs/<env>.yaml (no pods yet)", unpinnedWorkloads(cfg), false)
	b.output("devices_table", "Devices and their one-time enrollment tokens (device, cohort, status, tokenHash, currentSerial)", devices.Name(), false)
	return &EdgeOutputs{
		NATSURL: NATSURL(), AgentsURL: agentsURL, DTNQueueURL: queue.Url(), DTNBucket: bucket.Name, DTNGatewayRole: role.RoleArn,
		DeviceLedgerTable: ledger.Name(), Beacons: beacons, PresignerHost: presignHost, TrustStoreArn: trustStore.Arn(),
	}, nil
}

// unpinnedWorkloads lists the edge's privileged workloads still waiting for
// a digest in envs/<env>.yaml.
func unpinnedWorkloads(cfg *envs.Config) []string {
	out := []string{}
	for _, w := range []string{envs.WorkloadNATSAuth, envs.WorkloadDeviceEnrollment, envs.WorkloadCDNPresigner, envs.WorkloadCRLSync} {
		if cfg.WorkloadDigest(w) == "" {
			out = append(out, w)
		}
	}
	return out
}

// newDTNQueues creates the outbox and its dead-letter queue. Both hold
// envelopes not yet delivered: outside dev, destroying one is a deliberate
// two-step change, like every stateful resource.
func newDTNQueues(b *base, keyArn *string) (sqsqueue.SqsQueue, sqsqueue.SqsQueue) {
	lifecycle := &cdktf.TerraformResourceLifecycle{PreventDestroy: jsii.Bool(b.cfg.Protect())}
	dlq := sqsqueue.NewSqsQueue(b.stack, jsii.String("dtn-dead-letter"), &sqsqueue.SqsQueueConfig{
		Name: jsii.String(b.names.DTNDeadLetterQueue()), KmsMasterKeyId: keyArn,
		MessageRetentionSeconds: jsii.Number(14 * 24 * 3600),
		Lifecycle:               lifecycle,
	})
	queue := sqsqueue.NewSqsQueue(b.stack, jsii.String("dtn-outbox"), &sqsqueue.SqsQueueConfig{
		Name:                         jsii.String(b.names.DTNOutboxQueue()),
		KmsMasterKeyId:               keyArn,
		KmsDataKeyReusePeriodSeconds: jsii.Number(3600),
		MaxMessageSize:               jsii.Number(float64(b.cfg.Edge.EnvelopeMaxBytes)),
		MessageRetentionSeconds:      jsii.Number(float64(DTNRetentionDays * 24 * 3600)),
		VisibilityTimeoutSeconds:     jsii.Number(DTNVisibilitySeconds),
		ReceiveWaitTimeSeconds:       jsii.Number(20),
		RedrivePolicy: cdktf.Fn_Jsonencode(map[string]any{
			"deadLetterTargetArn": dlq.Arn(), "maxReceiveCount": DTNMaxReceiveAttempts,
		}),
		Lifecycle: lifecycle,
	})
	for id, q := range map[string]sqsqueue.SqsQueue{"dtn-outbox-policy": queue, "dtn-dead-letter-policy": dlq} {
		newTLSOnlyQueuePolicy(b, id, q)
	}
	return queue, dlq
}

// NATSReplicas is how many NATS servers run and how many copies each
// stream keeps: three outside dev, so one server or AZ can go without
// losing a stored message or the streams' quorum. In staging that costs
// two more JetStream volumes (`spctl cost --env staging` prices them); the
// servers fit on the existing nodes. dev keeps one server and R1 streams.
func NATSReplicas(cfg *envs.Config) int {
	if cfg.Protect() {
		return 3
	}
	return 1
}

// newDeviceLedger creates the device-certificate ledger: one item per
// issued certificate, keyed by serial, with a cohort index so `spctl edge
// rollback --cohort` can find exactly a cohort's serials to revoke.
// services/device-enrollment writes it with the identity stack's
// enrollment role; the identity stack's revocation role and the CDN
// presigner read it.
// It holds device ids, so it is encrypted with the devices key, recoverable
// (PITR) and protected from destroy outside dev.
func newDeviceLedger(b *base, keyArn *string) dynamodbtable.DynamodbTable {
	protect := b.cfg.Protect()
	return dynamodbtable.NewDynamodbTable(b.stack, jsii.String("device-ledger"), &dynamodbtable.DynamodbTableConfig{
		Name:        jsii.String(b.names.DeviceLedgerTable()),
		BillingMode: jsii.String("PAY_PER_REQUEST"),
		HashKey:     jsii.String("serial"),
		Attribute: &[]*dynamodbtable.DynamodbTableAttribute{
			{Name: jsii.String("serial"), Type: jsii.String("S")},
			{Name: jsii.String("cohort"), Type: jsii.String("S")},
		},
		GlobalSecondaryIndex: &[]*dynamodbtable.DynamodbTableGlobalSecondaryIndex{{
			Name: jsii.String(naming.DeviceLedgerCohortIndex), HashKey: jsii.String("cohort"), ProjectionType: jsii.String("ALL"),
		}},
		PointInTimeRecovery:       pointInTimeRecovery(),
		ServerSideEncryption:      &dynamodbtable.DynamodbTableServerSideEncryption{Enabled: jsii.Bool(true), KmsKeyArn: keyArn},
		DeletionProtectionEnabled: jsii.Bool(protect),
		Lifecycle:                 sp.Lifecycle(protect),
	})
}

// NATS ports (chart defaults): clients, cluster routes.
const (
	NATSClientPort  = 4222
	NATSClusterPort = 6222
)

// newStreamSetup applies the stream definitions with the nats CLI in a Job.
// The Job's name carries a hash of the definitions, so a change replaces
// the Job (and re-applies) while an unchanged plan leaves it alone. With
// after nil (the auth callout not deployed yet) only the definitions'
// ConfigMap is created.
func newStreamSetup(b *base, namespace *string, after cdktf.ITerraformDependable, streams []edge.Stream, natsURL string) error {
	files, err := edge.StreamConfigs(streams)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	h := sha256.New()
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, n := range names {
		h.Write([]byte(n + files[n]))
	}
	hash := hex.EncodeToString(h.Sum(nil))[:10]
	cm := configmapv1.NewConfigMapV1(b.stack, jsii.String("stream-definitions"), &configmapv1.ConfigMapV1Config{
		Metadata: &configmapv1.ConfigMapV1Metadata{Name: jsii.String("edge-streams"), Namespace: namespace},
		Data:     sp.StringMap(files),
	})
	if after == nil {
		return nil
	}
	// The Job authenticates as stream-admin with its cert-manager client
	// certificate (mounted from nats-user-stream-admin), and takes replies
	// on stream-admin's own inbox, the only one it may subscribe to.
	script := `set -eu
n() { nats --server "$NATS_URL" --tlscert /certs/tls.crt --tlskey /certs/tls.key --tlsca /certs/ca.crt --inbox-prefix "$INBOX_PREFIX" "$@"; }
for f in /streams/*.json; do
  name=$(basename "$f" .json)
  if n stream info "$name" >/dev/null 2>&1; then
    n stream edit "$name" --config "$f" --force
  else
    n stream add --config "$f"
  fi
done
n stream ls`
	jobv1.NewJobV1(b.stack, jsii.String("stream-setup"), &jobv1.JobV1Config{
		Metadata: &jobv1.JobV1Metadata{Name: jsii.String("edge-streams-" + hash), Namespace: namespace},
		Spec: &jobv1.JobV1Spec{
			BackoffLimit:            jsii.Number(6),
			TtlSecondsAfterFinished: jsii.String("86400"),
			Template: &jobv1.JobV1SpecTemplate{
				Metadata: &jobv1.JobV1SpecTemplateMetadata{Labels: &map[string]*string{"app.kubernetes.io/name": jsii.String("edge-streams")}},
				Spec: &jobv1.JobV1SpecTemplateSpec{
					RestartPolicy: jsii.String("OnFailure"),
					SecurityContext: &jobv1.JobV1SpecTemplateSpecSecurityContext{
						RunAsNonRoot: jsii.Bool(true), RunAsUser: jsii.String("1000"),
						SeccompProfile: &jobv1.JobV1SpecTemplateSpecSecurityContextSeccompProfile{Type: jsii.String("RuntimeDefault")},
					},
					Container: &[]*jobv1.JobV1SpecTemplateSpecContainer{{
						Name:    jsii.String("nats-cli"),
						Image:   jsii.String(NATSBoxImage),
						Command: jsii.Strings("/bin/sh", "-c", script),
						Env: &[]*jobv1.JobV1SpecTemplateSpecContainerEnv{
							{Name: jsii.String("NATS_URL"), Value: jsii.String(natsURL)},
							{Name: jsii.String("INBOX_PREFIX"), Value: jsii.String(edge.ServiceInboxPrefix(edge.UserStreamAdmin))},
							{Name: jsii.String("HOME"), Value: jsii.String("/tmp")},
						},
						SecurityContext: &jobv1.JobV1SpecTemplateSpecContainerSecurityContext{
							AllowPrivilegeEscalation: jsii.Bool(false), ReadOnlyRootFilesystem: jsii.Bool(true),
							Capabilities: &jobv1.JobV1SpecTemplateSpecContainerSecurityContextCapabilities{Drop: jsii.Strings("ALL")},
						},
						VolumeMount: &[]*jobv1.JobV1SpecTemplateSpecContainerVolumeMount{
							{Name: jsii.String("streams"), MountPath: jsii.String("/streams"), ReadOnly: jsii.Bool(true)},
							{Name: jsii.String("tmp"), MountPath: jsii.String("/tmp")},
							{Name: jsii.String("certs"), MountPath: jsii.String("/certs"), ReadOnly: jsii.Bool(true)},
						},
					}},
					Volume: &[]*jobv1.JobV1SpecTemplateSpecVolume{
						{Name: jsii.String("streams"), ConfigMap: &jobv1.JobV1SpecTemplateSpecVolumeConfigMap{Name: cm.Metadata().Name()}},
						{Name: jsii.String("tmp"), EmptyDir: &jobv1.JobV1SpecTemplateSpecVolumeEmptyDir{}},
						{Name: jsii.String("certs"), Secret: &jobv1.JobV1SpecTemplateSpecVolumeSecret{SecretName: jsii.String(NATSUserSecret(edge.UserStreamAdmin))}},
					},
				},
			},
		},
		WaitForCompletion: jsii.Bool(true),
		DependsOn:         &[]cdktf.ITerraformDependable{after},
	})
	return nil
}

// natsValues: JetStream on an encrypted gp3 volume, payloads capped at the
// envelope limit server-wide, clustered in prod only (a one-node "cluster"
// only routes to itself), and non-root pods, which the chart does not set
// by itself.
func natsValues(cfg *envs.Config, replicas int, storageClass string) map[string]any {
	restricted := map[string]any{
		"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": map[string]any{"drop": []string{"ALL"}},
	}
	return map[string]any{
		"config": map[string]any{
			"cluster": map[string]any{"enabled": replicas > 1, "replicas": replicas},
			"jetstream": map[string]any{
				"enabled": true,
				"fileStore": map[string]any{"pvc": map[string]any{
					"size": fmt.Sprintf("%dGi", cfg.Edge.JetStreamStorageGi), "storageClassName": storageClass,
				}},
			},
			"merge": map[string]any{"max_payload": cfg.Edge.EnvelopeMaxBytes},
		},
		"podTemplate": map[string]any{"merge": map[string]any{"spec": map[string]any{"securityContext": map[string]any{
			"runAsNonRoot": true, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000,
			"fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": map[string]any{"type": "RuntimeDefault"},
		}}}},
		"container": map[string]any{"merge": map[string]any{
			"securityContext": restricted, "resources": podResources("100m", "256Mi", "1", "1Gi"),
		}},
		"reloader": map[string]any{"merge": map[string]any{
			"securityContext": restricted, "resources": podResources("10m", "16Mi", "100m", "64Mi"),
		}},
		// The stream-setup Job carries the CLI; no standing nats-box.
		"natsBox":      map[string]any{"enabled": false},
		"promExporter": natsExporterValues(restricted),
		// At most one server down at a time while nodes drain (the chart's
		// maxUnavailable: 1), so R3 streams in prod keep their quorum. Set
		// explicitly: the cluster autoscaler may now drain these nodes.
		"podDisruptionBudget": map[string]any{"enabled": true},
	}
}
