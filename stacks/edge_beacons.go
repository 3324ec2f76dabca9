package stacks

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dynamodbtable"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/edge"
)

// Beacon registry names (namespace edge-sync). The service accounts are the
// only identities each IRSA role trusts; the charts helm/beacons,
// helm/beacons-admin and helm/beacon-rotate create them under these names.
const (
	BeaconsAccount      = "beacons"
	BeaconsAdminAccount = "beacons-admin"
	BeaconRotateAccount = "beacon-rotate"
	// BeaconsPort is the container port of the beacons API and admin UI
	// (the charts' service.targetPort).
	BeaconsPort = 8080
)

// beaconWriteActions are the only write calls any role gets on the beacon
// table. BatchWriteItem is deliberately absent: nobody needs it, and one
// fewer action is one fewer place for the attribute condition to be missed.
var beaconWriteActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem"}

// beaconReadActions read items; each carries the Select condition, so a read
// cannot ask for ALL_ATTRIBUTES or an index projection.
var beaconReadActions = []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"}

// BeaconAttributeConditions are the attribute-level access conditions AWS
// documents for DynamoDB ("Amazon DynamoDB: Allows access to specific
// attributes", IAM User Guide): every attribute a request names must be in
// edge.BeaconAttributes (ForAllValues:StringEquals dynamodb:Attributes);
// a read must select specific attributes (dynamodb:Select); and a write may
// return at most the attributes it updated (dynamodb:ReturnValues), never
// ALL_OLD/ALL_NEW. Together they make "no PII in the beacon table" an IAM
// guarantee: a PutItem carrying ownerEmail is denied by AWS.
func BeaconAttributeConditions() []sp.Condition {
	return []sp.Condition{
		{Test: "ForAllValues:StringEquals", Variable: "dynamodb:Attributes", Values: edge.BeaconAttributes},
		{Test: "StringEqualsIfExists", Variable: "dynamodb:Select", Values: []string{"SPECIFIC_ATTRIBUTES"}},
		{Test: "StringEqualsIfExists", Variable: "dynamodb:ReturnValues", Values: []string{"NONE", "UPDATED_OLD", "UPDATED_NEW"}},
	}
}

// BeaconOutputs locate the beacon registry.
type BeaconOutputs struct {
	Table      *string
	KeyArn     *string
	APIRole    *string
	RotateRole *string
	AdminRole  *string
}

// newBeaconRegistry creates the beacon registry of the edge additions: the
// table "<org>-<env>-beacons" (venueId + beaconId, TTL on expiresAt, PITR,
// its own CMK alias/<org>-<env>-beacons, protected outside dev) and the IRSA
// roles of its three workloads: the beacons API and the rotation job write
// (allowed attributes only), the admin UI only reads.
func newBeaconRegistry(b *base, cluster *ClusterOutputs) (*BeaconOutputs, error) {
	protect := b.cfg.Protect()
	key, err := sp.NewKmsKey(b.stack, "beacons-key", &sp.KmsKeyProps{
		Alias:       "alias/" + b.names.BeaconTable(),
		Description: "Beacon registry table " + b.names.BeaconTable(),
		Protect:     protect,
	})
	if err != nil {
		return nil, err
	}
	table := dynamodbtable.NewDynamodbTable(b.stack, jsii.String("beacons"), &dynamodbtable.DynamodbTableConfig{
		Name:        jsii.String(b.names.BeaconTable()),
		BillingMode: jsii.String("PAY_PER_REQUEST"),
		HashKey:     jsii.String(edge.BeaconAttrVenueID),
		RangeKey:    jsii.String(edge.BeaconAttrBeaconID),
		Attribute: &[]*dynamodbtable.DynamodbTableAttribute{
			{Name: jsii.String(edge.BeaconAttrVenueID), Type: jsii.String("S")},
			{Name: jsii.String(edge.BeaconAttrBeaconID), Type: jsii.String("S")},
		},
		// DynamoDB deletes an item (usually within days) once expiresAt has
		// passed: a rotated id lives exactly through its grace window.
		Ttl:                       &dynamodbtable.DynamodbTableTtl{AttributeName: jsii.String(edge.BeaconAttrExpiresAt), Enabled: jsii.Bool(true)},
		PointInTimeRecovery:       pointInTimeRecovery(),
		ServerSideEncryption:      &dynamodbtable.DynamodbTableServerSideEncryption{Enabled: jsii.Bool(true), KmsKeyArn: key.KeyArn},
		DeletionProtectionEnabled: jsii.Bool(protect),
		Lifecycle:                 sp.Lifecycle(protect),
	})
	tableArn := *table.Arn()
	conds := BeaconAttributeConditions()
	viaDynamoDB := []sp.Condition{viaServices(b.cfg.Region, "dynamodb")}
	useKey := sp.Statement{Sid: "UseTheBeaconsKey", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resources: []string{*key.KeyArn}, Conditions: viaDynamoDB}
	read := sp.Statement{Sid: "ReadBeacons", Actions: beaconReadActions, Resources: []string{tableArn}, Conditions: conds}
	write := sp.Statement{Sid: "WriteAllowedBeaconAttributes", Actions: beaconWriteActions, Resources: []string{tableArn}, Conditions: conds}
	roles := map[string]*string{}
	for _, r := range []struct {
		purpose, account string
		statements       []sp.Statement
	}{
		{"irsa-beacons", BeaconsAccount, []sp.Statement{read, write, useKey}},
		{"irsa-beacon-rotate", BeaconRotateAccount, []sp.Statement{read, write, useKey}},
		// The admin UI lists and shows beacons; it never writes.
		{"irsa-beacons-admin", BeaconsAdminAccount, []sp.Statement{read, {Sid: "DecryptBeacons", Actions: []string{"kms:Decrypt"}, Resources: []string{*key.KeyArn}, Conditions: viaDynamoDB}}},
	} {
		role, err := sp.NewIrsaRole(b.stack, r.purpose, &sp.IrsaRoleProps{
			RoleName: b.names.Role(r.purpose), OidcProviderArn: cluster.OidcProviderArn, OidcIssuerURL: cluster.OidcIssuerURL,
			PermissionsBoundary: b.boundaryArn(),
			Namespace:           naming.NamespaceEdge, ServiceAccount: r.account,
			Statements: r.statements,
		})
		if err != nil {
			return nil, err
		}
		roles[r.purpose] = role.RoleArn
	}
	b.output("beacons_table", "Beacon registry table (venueId, beaconId; TTL expiresAt)", table.Name(), false)
	b.output("beacons_role_arn", "IRSA role of the beacons API (service account edge-sync/beacons)", roles["irsa-beacons"], false)
	b.output("beacon_rotate_role_arn", "IRSA role of the rotation CronJob (service account edge-sync/beacon-rotate)", roles["irsa-beacon-rotate"], false)
	b.output("beacons_admin_role_arn", "Read-only IRSA role of the admin UI (service account edge-sync/beacons-admin)", roles["irsa-beacons-admin"], false)
	b.output("beacons_admin_host", "Host of the admin UI's internal ALB", b.cfg.ServiceHost("beacons-admin"), false)
	return &BeaconOutputs{Table: table.Name(), KeyArn: key.KeyArn, APIRole: roles["irsa-beacons"], RotateRole: roles["irsa-beacon-rotate"], AdminRole: roles["irsa-beacons-admin"]}, nil
}

// beaconPolicies open the beacons API to edge-sync (agents' in-cluster
// peers, the admin UI, the gateway) and Prometheus, and the admin UI to its
// ALB only: that internal ALB sits in the public subnets
// (stacks/edge_beacons_admin.go), which hold no pod, so admitting them
// admits the load balancer and nothing else of the cluster.
func beaconPolicies(publicSubnets []string) []sp.IngressAllow {
	api := map[string]string{"app.kubernetes.io/name": "beacons"}
	admin := map[string]string{"app.kubernetes.io/name": "beacons-admin"}
	var alb []sp.Peer
	for _, cidr := range publicSubnets {
		alb = append(alb, sp.Peer{CIDR: cidr})
	}
	return []sp.IngressAllow{
		{Name: "beacons-api", PodLabels: api, Ports: []int{BeaconsPort}, From: []sp.Peer{{Namespace: naming.NamespaceEdge}, PrometheusPeer}},
		{Name: "beacons-admin-alb", PodLabels: admin, Ports: []int{BeaconsPort}, From: append(alb, PrometheusPeer)},
	}
}
