package constructs

import (
	"fmt"
	"regexp"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdktf/cdktf-provider-helm-go/helm/v10/release"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"gopkg.in/yaml.v3"
)

// Chart pins one Helm chart: where it comes from and its exact version.
type Chart struct {
	// Repository is the chart repository URL; LocalChartRepository for a
	// chart of this repository's helm/ directory (Name is then its folder).
	Repository string
	Name       string
	// Version is an exact chart version; ranges are refused so a deploy
	// never picks up a chart nobody reviewed.
	Version string
	// AppVersion is informational: the upstream release the chart ships.
	AppVersion string
}

// HelmReleaseProps installs one pinned chart.
type HelmReleaseProps struct {
	Chart           Chart
	ReleaseName     string
	Namespace       string
	CreateNamespace bool
	// Values are rendered to YAML; strings may be CDKTF tokens (role ARNs,
	// VPC ids), which Terraform interpolates at apply time.
	Values map[string]any
	// TimeoutSeconds bounds the wait for resources to become ready.
	// Default: 600.
	TimeoutSeconds int
	DependsOn      []cdktf.ITerraformDependable
}

// HelmRelease is an installed chart.
type HelmRelease struct {
	Release release.Release
	// ValuesYAML is the rendered values document (tokens unresolved).
	ValuesYAML string
}

// LocalChartRepository marks a chart that lives in this repository's
// helm/<name> directory. The release points at it relative to the stack's
// directory (cdktf.out/stacks/<stack>, where Terraform runs), so no absolute
// path reaches the synthesized JSON, and builds its file:// dependencies
// (the spatial-service library) itself.
const LocalChartRepository = "file://helm"

// LocalChart is a chart of this repository's helm/ directory at its
// Chart.yaml version.
func LocalChart(name, version string) Chart {
	return Chart{Repository: LocalChartRepository, Name: name, Version: version}
}

var exactVersion = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

// DefaultHelmTimeoutSeconds covers image pulls on fresh nodes.
const DefaultHelmTimeoutSeconds = 600

// NewHelmRelease installs the chart atomically: a failed install or
// upgrade rolls back instead of leaving a half-applied release.
func NewHelmRelease(scope constructs.Construct, id string, props *HelmReleaseProps) (*HelmRelease, error) {
	if props == nil || props.ReleaseName == "" || props.Namespace == "" || props.Chart.Name == "" || props.Chart.Repository == "" {
		return nil, fmt.Errorf("%s: releaseName, namespace, chart.name and chart.repository are required", id)
	}
	if !exactVersion.MatchString(props.Chart.Version) {
		return nil, fmt.Errorf("%s: chart.version %q is not an exact version; pin one such as 1.2.3", id, props.Chart.Version)
	}
	values, err := yaml.Marshal(props.Values)
	if err != nil {
		return nil, fmt.Errorf("%s: values: %w", id, err)
	}
	timeout := props.TimeoutSeconds
	if timeout == 0 {
		timeout = DefaultHelmTimeoutSeconds
	}
	cfg := &release.ReleaseConfig{
		Name:            jsii.String(props.ReleaseName),
		Repository:      jsii.String(props.Chart.Repository),
		Chart:           jsii.String(props.Chart.Name),
		Version:         jsii.String(props.Chart.Version),
		Namespace:       jsii.String(props.Namespace),
		CreateNamespace: jsii.Bool(props.CreateNamespace),
		Atomic:          jsii.Bool(true),
		CleanupOnFail:   jsii.Bool(true),
		Wait:            jsii.Bool(true),
		Timeout:         jsii.Number(float64(timeout)),
		MaxHistory:      jsii.Number(10),
		Values:          &[]*string{jsii.String(string(values))},
	}
	if props.Chart.Repository == LocalChartRepository {
		cfg.Repository = nil
		cfg.Chart = jsii.String("${path.root}/../../../helm/" + props.Chart.Name)
		cfg.DependencyUpdate = jsii.Bool(true)
	}
	if len(props.DependsOn) > 0 {
		deps := append([]cdktf.ITerraformDependable(nil), props.DependsOn...)
		cfg.DependsOn = &deps
	}
	r := release.NewRelease(scope, jsii.String(id), cfg)
	return &HelmRelease{Release: r, ValuesYAML: string(values)}, nil
}
