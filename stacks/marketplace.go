package stacks

import (
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtable"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmsalias"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/kmskey"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/sqsqueue"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/marketplace"
)

// MarketplaceStack is the stack "<env>-marketplace", last in DeployOrder.
const MarketplaceStack = naming.ComponentMarketplace

// Marketplace workloads (service accounts and chart release names) in
// namespace marketplace.
const (
	MarketplaceAPI       = "marketplace-api"
	MarketplaceUI        = "marketplace-ui"
	BillingStub          = "billing-stub"
	BillingConnector     = "billing-connector"
	ProvenanceGate       = "provenance-gate"
	MarketplaceHTTPPort  = 8080
	BillingRetentionDays = 14
	// BillingMaxReceiveAttempts moves an event the consumer cannot process
	// to the DLQ after this many receives.
	BillingMaxReceiveAttempts = 5
	// MarketplaceSecretStore is the ClusterSecretStore serving only the
	// marketplace namespace (staging/prod, for the billing connector).
	MarketplaceSecretStore = "secrets-manager-marketplace"
)

// MarketplaceOutputs locate the marketplace's backing resources.
type MarketplaceOutputs struct {
	Host                string
	BillingQueueURL     *string
	ProvenanceKeyArn    *string
	APIRoleArn          *string
	ProvenanceGateRole  *string
	BillingConsumerRole *string
	CertificateArn      *string
	WebACLArn           *string
}

// NewMarketplaceStack deploys the marketplace's infrastructure into
// namespace marketplace: the billing-events queue under its own CMK, the
// provenance signing key, IRSA for the api, the provenance gate and the
// billing consumer (the dev stub or the provider's connector), and the
// public entry point at cfg.ServiceHost("market") with ACM, Route53 and a
// regional WAF where WAF is on. The api and ui themselves are deployed by
// their workflows (helm/marketplace-api, helm/marketplace-ui). It returns
// nil when marketplace.enabled is false.
func NewMarketplaceStack(scope constructs.Construct, cfg *envs.Config, cluster *ClusterOutputs, storage *StorageOutputs) (*MarketplaceOutputs, error) {
	if !cfg.Marketplace.Enabled {
		return nil, nil
	}
	b, err := newBase(scope, cfg, MarketplaceStack)
	if err != nil {
		return nil, err
	}
	if err := b.kubernetesProviders(cluster); err != nil {
		return nil, err
	}
	ns, err := sp.NewNamespace(b.stack, "namespace", &sp.NamespaceProps{Name: naming.NamespaceMarketplace, Policies: marketplacePolicies(cfg)})
	if err != nil {
		return nil, err
	}

	billingKey, err := sp.NewKmsKey(b.stack, "billing-key", &sp.KmsKeyProps{
		Alias: b.names.BillingKeyAlias(), Description: "Billing events queues of " + b.names.Prefix(),
		Protect: cfg.Protect(), AccountID: b.accountID(),
	})
	if err != nil {
		return nil, err
	}
	queue, dlq := newBillingQueues(b, billingKey.KeyArn)
	newDeadLetterAlarm(b, "billing-dead-letters", b.names.BillingDeadLetterQueue(), dlq, alarmActions(b, storage.AlarmTopicArn),
		"BillingDeadLetters: billing events the consumer failed to process are in the billing dead-letter queue; they are not charged until replayed. See docs/marketplace.md#billing-dead-letters")
	provenanceKey := newProvenanceKey(b)

	packs := storage.Buckets["packs"]
	entitlements := newEntitlementsTable(b, storage.DeviceKeyArn)
	roles, err := newMarketplaceRoles(b, cluster, marketplaceGrants{
		queueArn: *queue.Arn(), billingKey: *billingKey.KeyArn, provenanceKey: *provenanceKey,
		packsArn: *packs.Arn, dataKey: *storage.KeyArn, entitlementsArn: *entitlements.Arn(),
	})
	if err != nil {
		return nil, err
	}
	if !cfg.Marketplace.UsesBillingStub() {
		if err := billingConnectorSecret(b, ns); err != nil {
			return nil, err
		}
	}

	if err := newProvenanceGate(b, roles.gate, provenanceKey); err != nil {
		return nil, err
	}

	entry, err := newMarketplaceEntry(b, ns)
	if err != nil {
		return nil, err
	}

	b.output("marketplace_host", "Public host of the marketplace", entry.host, false)
	b.output("billing_events_queue_url", "Billing events queue (the api sends, the consumer receives)", queue.Url(), false)
	b.output("provenance_key_arn", "Asymmetric KMS key the provenance gate signs attestations with", provenanceKey, false)
	b.output("marketplace_api_role_arn", "IRSA role for the marketplace-api service account", roles.api, false)
	b.output("provenance_gate_role_arn", "IRSA role for the provenance-gate service account (the only kms:Sign and published/ writer)", roles.gate, false)
	b.output("billing_consumer_role_arn", "IRSA role for the billing consumer (dev stub or provider connector)", roles.consumer, false)
	b.output("marketplace_certificate_arn", "ACM certificate of the marketplace ALB", entry.certArn, false)
	b.output("entitlements_table", "Licences sold (subject, pack; TTL expiresAt): marketplace-api writes, the CDN presigner reads", entitlements.Name(), false)
	b.output("pack_service_role_arn", "IRSA role of pack-service (service account spatial-properties/pack-service): reads the published catalogue", roles.packService, false)
	return &MarketplaceOutputs{
		Host: entry.host, BillingQueueURL: queue.Url(), ProvenanceKeyArn: provenanceKey,
		APIRoleArn: roles.api, ProvenanceGateRole: roles.gate, BillingConsumerRole: roles.consumer,
		CertificateArn: entry.certArn, WebACLArn: entry.webACL,
	}, nil
}

// newBillingQueues creates the billing-events queue and its DLQ, both
// under the billing CMK, TLS only, and protected from destroy outside dev:
// they hold billable events not yet charged.
func newBillingQueues(b *base, keyArn *string) (sqsqueue.SqsQueue, sqsqueue.SqsQueue) {
	lifecycle := sp.Lifecycle(b.cfg.Protect())
	dlq := sqsqueue.NewSqsQueue(b.stack, jsii.String("billing-dead-letter"), &sqsqueue.SqsQueueConfig{
		Name: jsii.String(b.names.BillingDeadLetterQueue()), KmsMasterKeyId: keyArn,
		MessageRetentionSeconds: jsii.Number(14 * 24 * 3600),
		Lifecycle:               lifecycle,
	})
	queue := sqsqueue.NewSqsQueue(b.stack, jsii.String("billing-events"), &sqsqueue.SqsQueueConfig{
		Name:                         jsii.String(b.names.BillingEventsQueue()),
		KmsMasterKeyId:               keyArn,
		KmsDataKeyReusePeriodSeconds: jsii.Number(3600),
		MessageRetentionSeconds:      jsii.Number(float64(BillingRetentionDays * 24 * 3600)),
		VisibilityTimeoutSeconds:     jsii.Number(60),
		ReceiveWaitTimeSeconds:       jsii.Number(20),
		RedrivePolicy: cdktf.Fn_Jsonencode(map[string]any{
			"deadLetterTargetArn": dlq.Arn(), "maxReceiveCount": BillingMaxReceiveAttempts,
		}),
		Lifecycle: lifecycle,
	})
	newTLSOnlyQueuePolicy(b, "billing-events-policy", queue)
	newTLSOnlyQueuePolicy(b, "billing-dead-letter-policy", dlq)
	return queue, dlq
}

// newProvenanceKey creates the asymmetric signing key. Asymmetric keys
// cannot rotate automatically (a new key means a new public key that the
// api must learn), so rotation is off; the key policy delegates to IAM but
// denies kms:Sign (and the grants that could hand it on) to every principal
// but the provenance gate's role, so no IAM grant elsewhere adds a signer.
func newProvenanceKey(b *base) *string {
	policy := sp.NewPolicyDocument(b.stack, "provenance-key-policy", sp.Statement{
		Sid: "EnableIamPolicies", Actions: []string{"kms:*"}, Resources: []string{"*"},
		Principals: []sp.Principal{{Type: "AWS", Identifiers: []string{"arn:aws:iam::" + *b.accountID() + ":root"}}},
	}, sp.Statement{
		Sid: "OnlyTheGateSigns", Effect: "Deny", Actions: []string{"kms:Sign", "kms:CreateGrant"}, Resources: []string{"*"},
		Principals: []sp.Principal{{Type: "AWS", Identifiers: []string{"*"}}},
		Conditions: []sp.Condition{{Test: "ArnNotEquals", Variable: "aws:PrincipalArn", Values: []string{b.ProvenanceGateRoleArn()}}},
	})
	key := kmskey.NewKmsKey(b.stack, jsii.String("provenance-key"), &kmskey.KmsKeyConfig{
		Description:           jsii.String("Provenance attestations of " + b.names.Prefix() + " (ECDSA P-256, sign/verify)"),
		CustomerMasterKeySpec: jsii.String("ECC_NIST_P256"),
		KeyUsage:              jsii.String("SIGN_VERIFY"),
		DeletionWindowInDays:  jsii.Number(sp.KmsKeyDeletionWindowDays),
		Policy:                policy.Json(),
		Lifecycle:             sp.Lifecycle(b.cfg.Protect()),
	})
	kmsalias.NewKmsAlias(b.stack, jsii.String("provenance-key-alias"), &kmsalias.KmsAliasConfig{
		Name: jsii.String(b.names.ProvenanceKeyAlias()), TargetKeyId: key.KeyId(),
	})
	return key.Arn()
}

type marketplaceGrants struct {
	queueArn, billingKey, provenanceKey, packsArn, dataKey, entitlementsArn string
}

type marketplaceRoleArns struct {
	api, gate, consumer, packService *string
}

// newMarketplaceRoles creates the three IRSA roles. Least privilege:
//   - marketplace-api sends billing events (nothing else on the queue),
//     writes entitlements, reads and verifies the published catalogue, and
//     writes candidate packs under staging/;
//   - provenance-gate is the only kms:Sign holder and the only writer of
//     published/ (the packs bucket policy denies everyone else); it reads
//     staging/ and published/ and deletes from published/ (delisting);
//   - pack-service (namespace spatial-properties) reads the catalogue;
//   - the billing consumer (stub in dev, connector elsewhere) receives and
//     deletes events. marketplace-ui gets no role: it needs no AWS.
func newMarketplaceRoles(b *base, cluster *ClusterOutputs, g marketplaceGrants) (*marketplaceRoleArns, error) {
	roleIn := func(ns, id, purpose, account string, st []sp.Statement) (*string, error) {
		r, err := sp.NewIrsaRole(b.stack, id, &sp.IrsaRoleProps{
			RoleName: purpose, OidcProviderArn: cluster.OidcProviderArn, OidcIssuerURL: cluster.OidcIssuerURL,
			PermissionsBoundary: b.boundaryArn(), Namespace: ns, ServiceAccount: account,
			Statements: st,
		})
		if err != nil {
			return nil, err
		}
		return r.RoleArn, nil
	}
	role := func(id, purpose, account string, st []sp.Statement) (*string, error) {
		return roleIn(naming.NamespaceMarketplace, id, purpose, account, st)
	}
	published := g.packsArn + "/" + naming.PacksPublishedPrefix + "*"
	readCatalogue := []sp.Statement{
		{Sid: "ListPublished", Actions: []string{"s3:ListBucket"}, Resources: []string{g.packsArn},
			Conditions: []sp.Condition{{Test: "StringLike", Variable: "s3:prefix", Values: []string{naming.PacksPublishedPrefix + "*"}}}},
		{Sid: "ReadPublished", Actions: []string{"s3:GetObject"}, Resources: []string{published}},
	}
	var out marketplaceRoleArns
	var err error
	viaSQS := []sp.Condition{viaServices(b.cfg.Region, "sqs")}
	viaS3 := []sp.Condition{viaServices(b.cfg.Region, "s3")}
	if out.api, err = role("marketplace-api-irsa", b.names.Role("irsa-"+MarketplaceAPI), MarketplaceAPI, []sp.Statement{
		{Sid: "SendBillingEvents", Actions: []string{"sqs:SendMessage"}, Resources: []string{g.queueArn}},
		{Sid: "GrantLicences", Actions: []string{"dynamodb:PutItem"}, Resources: []string{g.entitlementsArn}},
		b.deviceKeyThroughDynamoDB("UseTheDevicesKeyThroughDynamoDB", "kms:GenerateDataKey", "kms:Decrypt"),
		readCatalogue[0], readCatalogue[1],
		{Sid: "EncryptBillingEvents", Actions: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resources: []string{g.billingKey}, Conditions: viaSQS},
		{Sid: "VerifyAttestations", Actions: []string{"kms:GetPublicKey", "kms:Verify"}, Resources: []string{g.provenanceKey}},
		{Sid: "UploadCandidatePacks", Actions: []string{"s3:PutObject"}, Resources: []string{g.packsArn + "/" + naming.PacksStagingPrefix + "*"}},
		{Sid: "UseTheDataKey", Actions: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resources: []string{g.dataKey}, Conditions: viaS3},
	}); err != nil {
		return nil, err
	}
	if out.gate, err = roleIn(naming.NamespaceProvenance, "provenance-gate-irsa", b.names.ProvenanceGateRole(), ProvenanceGate, []sp.Statement{
		{Sid: "SignAttestations", Actions: []string{"kms:Sign", "kms:GetPublicKey"}, Resources: []string{g.provenanceKey}},
		{Sid: "ReadCandidates", Actions: []string{"s3:GetObject"}, Resources: []string{g.packsArn + "/" + naming.PacksStagingPrefix + "*"}},
		{Sid: "PublishVerifiedPacks", Actions: []string{"s3:PutObject"}, Resources: []string{published}},
		{Sid: "ReadAndDelistPublished", Actions: []string{"s3:GetObject", "s3:DeleteObject"}, Resources: []string{published}},
		{Sid: "UseTheDataKey", Actions: []string{"kms:GenerateDataKey", "kms:Decrypt"}, Resources: []string{g.dataKey}, Conditions: viaS3},
	}); err != nil {
		return nil, err
	}
	if out.packService, err = roleIn(naming.NamespaceServices, "pack-service-irsa", b.names.Role("irsa-pack-service"), "pack-service", append(readCatalogue,
		sp.Statement{Sid: "VerifyAttestations", Actions: []string{"kms:GetPublicKey"}, Resources: []string{g.provenanceKey}},
		sp.Statement{Sid: "DecryptPublished", Actions: []string{"kms:Decrypt"}, Resources: []string{g.dataKey}, Conditions: viaS3},
	)); err != nil {
		return nil, err
	}
	consumer, account := BillingStub, BillingStub
	if !b.cfg.Marketplace.UsesBillingStub() {
		consumer, account = BillingConnector, BillingConnector
	}
	if out.consumer, err = role(consumer+"-irsa", b.names.Role("irsa-"+consumer), account, []sp.Statement{
		{Sid: "ConsumeBillingEvents", Actions: []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"},
			Resources: []string{g.queueArn}},
		{Sid: "DecryptBillingEvents", Actions: []string{"kms:Decrypt"}, Resources: []string{g.billingKey}, Conditions: viaSQS},
	}); err != nil {
		return nil, err
	}
	return &out, nil
}

// marketplacePolicies: the ALB (public subnets) reaches the api and ui on
// their HTTP port; the ui calls the api; Prometheus scrapes every pod.
// Everything else is denied by the namespace's default deny.
func marketplacePolicies(cfg *envs.Config) []sp.IngressAllow {
	var albs []sp.Peer
	for _, cidr := range cfg.Network.PublicSubnets {
		albs = append(albs, sp.Peer{CIDR: cidr})
	}
	api := map[string]string{"app.kubernetes.io/name": MarketplaceAPI}
	ui := map[string]string{"app.kubernetes.io/name": MarketplaceUI}
	return []sp.IngressAllow{
		{Name: "alb-to-api", PodLabels: api, Ports: []int{MarketplaceHTTPPort}, From: albs},
		{Name: "alb-to-ui", PodLabels: ui, Ports: []int{MarketplaceHTTPPort}, From: albs},
		{Name: "ui-to-api", PodLabels: api, Ports: []int{MarketplaceHTTPPort}, From: []sp.Peer{{PodLabels: ui}}},
		{Name: "prometheus", Ports: []int{MarketplaceHTTPPort, ServiceMetricsPort}, From: []sp.Peer{PrometheusPeer}},
	}
}

// ProvenanceGatePort is the gate's API port (the service kit's PORT).
const ProvenanceGatePort = 8080

// newProvenanceGate runs the provenance gate in its own namespace, which no
// service-deploy role can edit: its role is the only kms:Sign on the
// provenance key and the only writer of published/. The infra stack installs
// helm/provenance-gate by the digest pinned in envs/<env>.yaml; its workflow
// only builds and pushes the image. Admitted to it: marketplace-api (from
// namespace marketplace) on the API port, which asks it to attest a
// candidate, and Prometheus on the metrics port.
func newProvenanceGate(b *base, roleArn, keyArn *string) error {
	gate := map[string]string{"app.kubernetes.io/name": envs.WorkloadProvenanceGate}
	ns, err := sp.NewNamespace(b.stack, "provenance-namespace", &sp.NamespaceProps{
		Name: naming.NamespaceProvenance, Policies: []sp.IngressAllow{
			{Name: "marketplace-api-to-gate", PodLabels: gate, Ports: []int{ProvenanceGatePort}, From: []sp.Peer{{
				Namespace: naming.NamespaceMarketplace, PodLabels: map[string]string{"app.kubernetes.io/name": "marketplace-api"},
			}}},
			workloadMetricsAllow(envs.WorkloadProvenanceGate),
		},
	})
	if err != nil {
		return err
	}
	_, err = newWorkloadRelease(b, envs.WorkloadProvenanceGate, naming.NamespaceProvenance, roleArn, map[string]any{
		"PACKS_BUCKET": b.names.DataBucket("packs"), "PROVENANCE_KEY_ID": *keyArn, "AWS_REGION": b.cfg.Region,
	}, ns.Resource)
	return err
}

// newEntitlementsTable is the licences table (contracts.md): hash key
// subject ("device#<id>" or "cohort#<cohort>"), range key pack; expiresAt
// is the TTL. marketplace-api writes it on purchase, the CDN presigner
// reads it. A lost licence is a refund, so it is recoverable (PITR) and
// protected outside dev, encrypted like the device records with the devices
// key (the presigner reads both through DynamoDB).
func newEntitlementsTable(b *base, keyArn *string) dynamodbtable.DynamodbTable {
	protect := b.cfg.Protect()
	return dynamodbtable.NewDynamodbTable(b.stack, jsii.String("entitlements"), &dynamodbtable.DynamodbTableConfig{
		Name:        jsii.String(b.names.EntitlementsTable()),
		BillingMode: jsii.String("PAY_PER_REQUEST"),
		HashKey:     jsii.String(marketplace.EntitlementSubject),
		RangeKey:    jsii.String(marketplace.EntitlementPack),
		Attribute: &[]*dynamodbtable.DynamodbTableAttribute{
			{Name: jsii.String(marketplace.EntitlementSubject), Type: jsii.String("S")},
			{Name: jsii.String(marketplace.EntitlementPack), Type: jsii.String("S")},
		},
		Ttl:                       &dynamodbtable.DynamodbTableTtl{AttributeName: jsii.String(marketplace.EntitlementExpiresAt), Enabled: jsii.Bool(true)},
		PointInTimeRecovery:       pointInTimeRecovery(),
		ServerSideEncryption:      &dynamodbtable.DynamodbTableServerSideEncryption{Enabled: jsii.Bool(true), KmsKeyArn: keyArn},
		DeletionProtectionEnabled: jsii.Bool(protect),
		Lifecycle:                 sp.Lifecycle(protect),
	})
}
