package envs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validDev is a minimal valid file; each negative case changes one thing.
const validDev = `
org: spatialprops
env: dev
region: ap-southeast-2
domain: spatial.properties
tags: {CostCenter: platform, Owner: sre@spatial.properties}
network:
  vpcCidr: 10.0.0.0/16
  azs: [a, b, c]
  privateSubnets: [10.0.1.0/24, 10.0.2.0/24, 10.0.3.0/24]
  publicSubnets: [10.0.101.0/24, 10.0.102.0/24, 10.0.103.0/24]
cluster:
  publicAccessCidrs: [203.0.113.0/24]
cicd: {githubOrg: spatialprops, githubRepo: spatialprops-infra}
observability:
  alerting: {allowNullReceiver: true}
`

func TestEmbeddedEnvironmentsLoad(t *testing.T) {
	// GIVEN the three shipped files WHEN all are loaded THEN each is valid,
	// in promotion order, because `make synth` builds all of them.
	cfgs, err := LoadSelected(Overrides{})
	require.NoError(t, err)
	require.Len(t, cfgs, 3)
	assert.Equal(t, []string{"dev", "staging", "prod"}, []string{cfgs[0].Env, cfgs[1].Env, cfgs[2].Env})
	assert.Equal(t, []string{"dev", "prod", "staging"}, Names())
}

func TestDevMatchesTheGuide(t *testing.T) {
	// The guide's reference values: an SRE following it must find them here.
	cfg, err := Load("dev", Overrides{})
	require.NoError(t, err)
	assert.Equal(t, "spatialprops", cfg.Org)
	assert.Equal(t, "ap-southeast-2", cfg.Region)
	assert.Equal(t, "spatial.properties", cfg.Domain)
	assert.Equal(t, "10.0.0.0/16", cfg.Network.VpcCidr)
	assert.Equal(t, []string{"ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"}, cfg.FullAZs())
	assert.Equal(t, []string{"10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"}, cfg.Network.PrivateSubnets)
	assert.Equal(t, []string{"10.0.101.0/24", "10.0.102.0/24", "10.0.103.0/24"}, cfg.Network.PublicSubnets)
	assert.Equal(t, NatSingle, cfg.Network.NatMode)
	assert.Equal(t, 2, cfg.Cluster.NodeGroup.MinSize)
	assert.Equal(t, 3, cfg.Cluster.NodeGroup.DesiredSize)
	assert.Equal(t, 6, cfg.Cluster.NodeGroup.MaxSize)
	assert.Equal(t, "cdn.dev.spatial.properties", cfg.CDN.Domain)
	assert.False(t, cfg.Protect(), "dev stays cheap to tear down")
}

func TestProdIsHardened(t *testing.T) {
	cfg, err := Load("prod", Overrides{})
	require.NoError(t, err)
	assert.Equal(t, NatPerAZ, cfg.Network.NatMode, "one NAT per AZ so a zone outage stays local")
	assert.False(t, *cfg.Cluster.EndpointPublicAccess, "prod API is private-only")
	assert.True(t, cfg.Protect())
	assert.Equal(t, "cdn.spatial.properties", cfg.CDN.Domain)
}

func TestEnvironmentsDoNotOverlap(t *testing.T) {
	// Distinct CIDRs keep peering and transit-gateway options open.
	cfgs, err := LoadSelected(Overrides{})
	require.NoError(t, err)
	seen := map[string]string{}
	for _, c := range cfgs {
		prefix := strings.Join(strings.Split(c.Network.VpcCidr, ".")[:2], ".")
		require.NotContains(t, seen, prefix, "%s reuses %s's VPC range", c.Env, seen[prefix])
		seen[prefix] = c.Env
	}
}

func TestOverridesFromSessionVariables(t *testing.T) {
	env := map[string]string{"ORG": "acme", "ENV": "staging", "AWS_REGION": "us-west-2"}
	cfgs, err := LoadSelected(OverridesFromEnv(func(k string) string { return env[k] }))
	require.NoError(t, err)
	require.Len(t, cfgs, 1, "ENV selects one environment")
	assert.Equal(t, "acme", cfgs[0].Org)
	assert.Equal(t, "us-west-2", cfgs[0].Region)
	assert.Equal(t, "us-west-2a", cfgs[0].FullAZs()[0], "AZ letters follow the overridden region")
}

func TestDefaultsFillMissingFields(t *testing.T) {
	cfg, err := Parse("envs/dev.yaml", []byte(validDev), Overrides{})
	require.NoError(t, err)
	assert.Equal(t, DefaultKubernetesVersion, cfg.Cluster.Version)
	assert.Equal(t, []string{"m6i.large"}, cfg.Cluster.NodeGroup.InstanceTypes)
	assert.Equal(t, DefaultServices, cfg.CICD.Services)
	assert.Equal(t, "15d", cfg.Observability.PrometheusRetention)
	assert.Equal(t, []string{"*"}, cfg.Storage.CorsAllowedOrigins)
	assert.Equal(t, 30, cfg.Observability.LokiRetentionDays, "logs are bounded even when the file says nothing")
}

func TestShippedAlertingAndRetention(t *testing.T) {
	// Alerts must reach people outside dev, and Loki must delete old logs
	// before its volume fills (finding: it kept everything).
	want := map[string]struct {
		retention int
		alerting  Alerting
	}{
		"dev":     {14, Alerting{AllowNullReceiver: true}},
		"staging": {30, Alerting{SlackChannel: "#spatialprops-staging-alerts"}},
		"prod":    {30, Alerting{PagerDuty: true, SlackChannel: "#spatialprops-prod-alerts"}},
	}
	for env, w := range want {
		cfg, err := Load(env, Overrides{})
		require.NoError(t, err)
		assert.Equal(t, w.retention, cfg.Observability.LokiRetentionDays, env)
		assert.Equal(t, w.alerting, cfg.Observability.Alerting, env)
	}
}

// TestInvalidInput checks the exact message for each bad input: the file,
// the field, what is wrong and how to fix it.
func TestInvalidInput(t *testing.T) {
	cases := []struct {
		name string
		edit func(string) string
		ov   Overrides
		want string
	}{
		{"bad vpc cidr", replace("vpcCidr: 10.0.0.0/16", "vpcCidr: 10.0.0.0/33"),
			Overrides{}, `envs/dev.yaml: network.vpcCidr: "10.0.0.0/33" is not an IPv4 CIDR block; write the network address, e.g. 10.0.0.0/16`},
		{"host bits set", replace("vpcCidr: 10.0.0.0/16", "vpcCidr: 10.0.0.1/16"),
			Overrides{}, `envs/dev.yaml: network.vpcCidr: "10.0.0.1/16" is not an IPv4 CIDR block; write the network address, e.g. 10.0.0.0/16`},
		{"subnet outside vpc", replace("10.0.2.0/24", "10.9.2.0/24"),
			Overrides{}, `envs/dev.yaml: network.privateSubnets[1]: 10.9.2.0/24 is outside the VPC 10.0.0.0/16; pick a block inside it`},
		{"overlapping subnets", replace("10.0.102.0/24", "10.0.1.0/25"),
			Overrides{}, `envs/dev.yaml: network.publicSubnets[1]: 10.0.1.0/25 overlaps network.privateSubnets[0] (10.0.1.0/24); subnets must not share addresses`},
		{"fewer than two AZs", func(s string) string {
			s = replace("azs: [a, b, c]", "azs: [a]")(s)
			s = replace("[10.0.1.0/24, 10.0.2.0/24, 10.0.3.0/24]", "[10.0.1.0/24]")(s)
			return replace("[10.0.101.0/24, 10.0.102.0/24, 10.0.103.0/24]", "[10.0.101.0/24]")(s)
		}, Overrides{}, `envs/dev.yaml: network.azs: has 1 availability zone(s); EKS needs at least 2, the guide uses 3: [a, b, c]`},
		{"missing tag", replace("CostCenter: platform, ", ""),
			Overrides{}, `envs/dev.yaml: tags.CostCenter: is missing; every resource must carry the paying team, e.g. CostCenter: platform`},
		{"malformed owner", replace("Owner: sre@spatial.properties", "Owner: sre-at-spatial"),
			Overrides{}, `envs/dev.yaml: tags.Owner: "sre-at-spatial" is not an e-mail address; use a plain address such as sre@spatial.properties`},
		{"owner with display name", replace("Owner: sre@spatial.properties", `Owner: "SRE <sre@spatial.properties>"`),
			Overrides{}, `envs/dev.yaml: tags.Owner: "SRE <sre@spatial.properties>" is not an e-mail address; use a plain address such as sre@spatial.properties`},
		{"bucket name too long", func(s string) string { return s },
			Overrides{Org: "spatialproperties-platform-engineering"},
			`ORG (overrides org in envs/dev.yaml): derived S3 bucket name "spatial-packs-spatialproperties-platform-engineering-dev-ap-southeast-2" is 71 characters; AWS allows 63: shorten org`},
		{"uppercase org", replace("org: spatialprops", "org: SpatialProps"),
			Overrides{}, `envs/dev.yaml: org: "SpatialProps" must be lowercase letters, digits and inner hyphens (it is part of S3 bucket names), e.g. spatialprops`},
		{"bad region override", func(s string) string { return s },
			Overrides{Region: "sydney"}, `AWS_REGION (overrides region in envs/dev.yaml): "sydney" is not an AWS region name; use e.g. ap-southeast-2`},
		{"env does not match file", replace("env: dev", "env: prod"),
			Overrides{}, `envs/dev.yaml: env: "prod" does not match the file name; set env: dev`},
		{"node group out of range", replace("cluster:\n", "cluster:\n  nodeGroup: {minSize: 4, desiredSize: 3, maxSize: 6}\n"),
			Overrides{}, `envs/dev.yaml: cluster.nodeGroup.desiredSize: 3 must lie between minSize 4 and maxSize 6`},
		{"lifecycle order", replace("cicd:", "storage: {noncurrentIADays: 30, noncurrentGlacierIRDays: 20}\ncicd:"),
			Overrides{}, `envs/dev.yaml: storage.noncurrentGlacierIRDays: 20 must be greater than noncurrentIADays (30)`},
		{"dev without any receiver", replace("alerting: {allowNullReceiver: true}", "alerting: {}"),
			Overrides{}, `envs/dev.yaml: observability.alerting: names no receiver, so alerts would notify no one; set slackChannel, pagerDuty or snsTopicArn, or allowNullReceiver: true to accept that in dev (see docs/observability.md#alert-routing)`},
		{"null receiver next to a real one", replace("alerting: {allowNullReceiver: true}", "alerting: {allowNullReceiver: true, pagerDuty: true}"),
			Overrides{}, `envs/dev.yaml: observability.alerting.allowNullReceiver: is true while a receiver is named; remove it so nobody mistakes which one applies`},
		{"slack channel without #", replace("alerting: {allowNullReceiver: true}", "alerting: {slackChannel: alerts}"),
			Overrides{}, `envs/dev.yaml: observability.alerting.slackChannel: "alerts" is not a Slack channel; use e.g. "#spatialprops-dev-alerts"`},
		{"fifo sns topic", replace("alerting: {allowNullReceiver: true}", "alerting: {snsTopicArn: 'arn:aws:sns:ap-southeast-2:111122223333:alerts.fifo'}"),
			Overrides{}, `envs/dev.yaml: observability.alerting.snsTopicArn: "arn:aws:sns:ap-southeast-2:111122223333:alerts.fifo" is not the ARN of a standard SNS topic (arn:aws:sns:<region>:<account>:<name>; FIFO topics cannot take alerts)`},
		{"loki keeps logs too long", replace("observability:\n", "observability:\n  lokiRetentionDays: 400\n"),
			Overrides{}, `envs/dev.yaml: observability.lokiRetentionDays: 400 must be between 1 and 365 days; Loki deletes whole days of logs, and the volume must hold them (e.g. 14 in dev, 30 in prod)`},
		{"loki volume too large", replace("observability:\n", "observability:\n  lokiStorageGi: 20000\n"),
			Overrides{}, `envs/dev.yaml: observability.lokiStorageGi: 20000 must be between 1 and 16384 Gi`},
		{"unknown key", replace("domain:", "domian: x\ndomain:"),
			Overrides{}, `envs/dev.yaml: line 5: field domian not found in type envs.Config: fix the YAML (keys are case-sensitive; see envs/config.go for the schema)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("envs/dev.yaml", []byte(tc.edit(validDev)), tc.ov)
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

func TestEveryProblemIsReportedOnce(t *testing.T) {
	// Two independent mistakes give exactly two lines, so a user fixes both
	// in one pass instead of discovering them one synth at a time.
	bad := replace("Owner: sre@spatial.properties", "Owner: nobody")(validDev)
	bad = replace("azs: [a, b, c]", "azs: [a, b, c]\n  natMode: double")(bad)
	_, err := Parse("envs/dev.yaml", []byte(bad), Overrides{})
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	assert.Equal(t, []string{
		`envs/dev.yaml: tags.Owner: "nobody" is not an e-mail address; use a plain address such as sre@spatial.properties`,
		`envs/dev.yaml: network.natMode: "double" is not a NAT mode; use "single" (dev) or "per-az" (production)`,
	}, lines)
}

func TestUnknownEnvironment(t *testing.T) {
	_, err := LoadSelected(Overrides{Env: "qa"})
	require.Error(t, err)
	assert.Equal(t, `ENV: unknown environment "qa": use one of dev, prod, staging (each is a file envs/<env>.yaml)`, err.Error())
}

func TestProdRefusesAnOpenPublicEndpoint(t *testing.T) {
	prod := replace("env: dev", "env: prod")(validDev)
	prod = replace("publicAccessCidrs: [203.0.113.0/24]", "endpointPublicAccess: true\n  publicAccessCidrs: [0.0.0.0/0]")(prod)
	_, err := Parse("envs/prod.yaml", []byte(prod), Overrides{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `envs/prod.yaml: cluster.publicAccessCidrs[0]: "0.0.0.0/0" opens the prod API to the internet`)
}

func TestAlertsMustReachPeopleOutsideDev(t *testing.T) {
	// GIVEN staging and prod files WHEN they name no receiver, or ask for
	// the null receiver THEN synth stops: only dev may stay silent.
	for _, env := range []string{"staging", "prod"} {
		file := "envs/" + env + ".yaml"
		base := replace("env: dev", "env: "+env)(validDev)
		base = replace("publicAccessCidrs: [203.0.113.0/24]", "endpointPublicAccess: true\n  publicAccessCidrs: [203.0.113.0/24]")(base)

		_, err := Parse(file, []byte(replace("alerting: {allowNullReceiver: true}", "alerting: {}")(base)), Overrides{})
		require.Error(t, err)
		assert.Equal(t, file+`: observability.alerting: names no receiver, so alerts would notify no one; set slackChannel, pagerDuty or snsTopicArn (see docs/observability.md#alert-routing)`, err.Error())

		_, err = Parse(file, []byte(base), Overrides{})
		require.Error(t, err)
		assert.Equal(t, file+`: observability.alerting.allowNullReceiver: is allowed only in `+"dev; "+env+` alerts must reach people: set slackChannel, pagerDuty or snsTopicArn (see docs/observability.md#alert-routing)`, err.Error())

		cfg, err := Parse(file, []byte(replace("alerting: {allowNullReceiver: true}", "alerting: {snsTopicArn: 'arn:aws:sns:ap-southeast-2:111122223333:spatialprops-alerts'}")(base)), Overrides{})
		require.NoError(t, err, "an SNS topic alone is a real receiver")
		assert.True(t, cfg.Observability.Alerting.HasReceiver())
	}
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("test fixture does not contain " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}
