// Package stacks composes constructs into the deployable units of one
// environment: state, network, cluster, platform, storage, cdn, cicd,
// observability and edge. Each constructor takes the env Config plus the
// typed outputs of the stacks it needs and returns its own typed outputs;
// passing those values between stacks is what makes CDKTF emit the outputs
// and terraform_remote_state lookups that wire them at deploy time.
package stacks

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawscalleridentity"
	"github.com/cdktf/cdktf-provider-aws-go/aws/v19/dataawsroute53zone"
	"github.com/hashicorp/terraform-cdk-go/cdktf"

	sp "github.com/spatialprops/spatialprops-infra/constructs"
	"github.com/spatialprops/spatialprops-infra/constructs/naming"
	"github.com/spatialprops/spatialprops-infra/envs"
)

// Component names, in deploy order. Stack ids are "<env>-<component>".
// They are defined in constructs/naming, which the operator CLI shares.
const (
	State         = naming.ComponentState
	Network       = naming.ComponentNetwork
	Cluster       = naming.ComponentCluster
	Platform      = naming.ComponentPlatform
	Storage       = naming.ComponentStorage
	CDN           = naming.ComponentCDN
	CICD          = naming.ComponentCICD
	Observability = naming.ComponentObservability
	EdgeStack     = naming.ComponentEdge
)

// DeployOrder is the order `cdktf deploy` must follow; later stacks read
// earlier stacks' outputs through remote state. cicd follows the cluster
// directly: its in-VPC runners and access entries are how CI reaches the
// cluster API for platform, observability and edge. The order lives in
// constructs/naming so the operator CLI shares it without the bindings.
var DeployOrder = naming.DeployOrder

// base is what every stack constructor starts from.
type base struct {
	stack   cdktf.TerraformStack
	cfg     *envs.Config
	names   naming.Names
	account *string
	// provider is the stack's default AWS provider (for constructs that
	// take one explicitly, such as certificates and web ACLs).
	provider cdktf.TerraformProvider
}

// accountID is the deploying account, looked up once per stack.
func (b *base) accountID() *string {
	if b.account == nil {
		b.account = dataawscalleridentity.NewDataAwsCallerIdentity(b.stack, jsii.String("caller"), nil).AccountId()
	}
	return b.account
}

// boundaryArn is the env's workload permissions boundary (created by the
// state stack, so it exists before the first role). Every role a stack
// creates carries it; the CI deploy role cannot create a role without it.
func (b *base) boundaryArn() *string {
	return jsii.String(fmt.Sprintf("arn:aws:iam::%s:policy/%s", *b.accountID(), b.names.WorkloadBoundary()))
}

// newBase creates stack "<env>-<component>" with the S3 backend, an AWS
// provider tagged for this component, and the guardrail aspect.
func newBase(scope constructs.Construct, cfg *envs.Config, component string) (*base, error) {
	names := naming.New(cfg.Org, cfg.Env, cfg.Region)
	names.SharedAccount = cfg.CICD.SharedAccount
	stack := cdktf.NewTerraformStack(scope, jsii.String(names.StackID(component)))
	b := &base{stack: stack, cfg: cfg, names: names}
	if _, err := sp.NewRemoteBackend(stack, &sp.RemoteBackendProps{
		Bucket: names.StateBucket(), Key: names.StateKey(component), Region: cfg.Region,
	}); err != nil {
		return nil, err
	}
	provider, err := sp.NewAwsProvider(stack, "aws", b.providerProps(component, cfg.Region, ""))
	if err != nil {
		return nil, err
	}
	b.provider = provider
	sp.AddGuardrails(stack)
	return b, nil
}

// providerProps returns an AWS provider configuration for region, tagged
// with the five required tags.
func (b *base) providerProps(component, region, alias string) *sp.AwsProviderProps {
	var allowed []string
	if b.cfg.AccountID != "" {
		allowed = []string{b.cfg.AccountID}
	}
	return &sp.AwsProviderProps{
		Region:            region,
		Alias:             alias,
		AllowedAccountIDs: allowed,
		DefaultTags:       Tags(b.cfg, component),
	}
}

// Tags returns the required tags for resources of component in cfg's env.
func Tags(cfg *envs.Config, component string) map[string]string {
	return map[string]string{
		"Environment": cfg.Env,
		"Project":     naming.Project,
		"Service":     component,
		"CostCenter":  cfg.Tags.CostCenter,
		"Owner":       cfg.Tags.Owner,
	}
}

// output declares a named stack output for humans and scripts
// (`cdktf output <stack>`); cross-stack wiring does not need it.
func (b *base) output(id, description string, value any, sensitive bool) {
	cdktf.NewTerraformOutput(b.stack, jsii.String(id), &cdktf.TerraformOutputConfig{
		Value:       value,
		Description: jsii.String(description),
		Sensitive:   jsii.Bool(sensitive),
	})
}

// kubernetesProviders points this stack's helm and kubernetes providers at
// the cluster from the cluster stack's outputs, with exec auth.
func (b *base) kubernetesProviders(cluster *ClusterOutputs) error {
	_, err := sp.NewKubernetesProviders(b.stack, &sp.KubernetesProvidersProps{
		ClusterName: cluster.Name, Endpoint: cluster.Endpoint, CertificateAuthority: cluster.CertificateAuthority, Region: b.cfg.Region,
	})
	return err
}

// publicZone looks up the env's public Route53 zone by cfg.Domain (the cdn
// stack creates it when cdn.createHostedZone is set; otherwise it must
// exist). Every stack that writes records for its hosts reads it here, as
// data source "zone".
func (b *base) publicZone() *string {
	return dataawsroute53zone.NewDataAwsRoute53Zone(b.stack, jsii.String("zone"), &dataawsroute53zone.DataAwsRoute53ZoneConfig{
		Name: jsii.String(b.cfg.Domain), PrivateZone: jsii.Bool(false),
	}).ZoneId()
}
