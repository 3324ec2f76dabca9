package envs

import (
	"net/netip"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

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
  breakGlassRoleArn: arn:aws:iam::111122223333:role/spatialprops-dev-break-glass
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
	// the guide's and edge services, then a repository per privileged
	// workload (the provenance gate only with the marketplace)
	assert.Equal(t, append(append([]string(nil), DefaultServices...), WorkloadNATSAuth), cfg.CICD.Services)
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
			Overrides{}, `envs/dev.yaml:8: network.vpcCidr: "10.0.0.0/33" is not an IPv4 CIDR block; write the network address, e.g. 10.0.0.0/16`},
		{"host bits set", replace("vpcCidr: 10.0.0.0/16", "vpcCidr: 10.0.0.1/16"),
			Overrides{}, `envs/dev.yaml:8: network.vpcCidr: "10.0.0.1/16" is not an IPv4 CIDR block; write the network address, e.g. 10.0.0.0/16`},
		{"subnet outside vpc", replace("10.0.2.0/24", "10.9.2.0/24"),
			Overrides{}, `envs/dev.yaml:10: network.privateSubnets[1]: 10.9.2.0/24 is outside the VPC 10.0.0.0/16; pick a block inside it`},
		{"overlapping subnets", replace("10.0.102.0/24", "10.0.1.0/25"),
			Overrides{}, `envs/dev.yaml:11: network.publicSubnets[1]: 10.0.1.0/25 overlaps network.privateSubnets[0] (10.0.1.0/24); subnets must not share addresses`},
		{"fewer than two AZs", func(s string) string {
			s = replace("azs: [a, b, c]", "azs: [a]")(s)
			s = replace("[10.0.1.0/24, 10.0.2.0/24, 10.0.3.0/24]", "[10.0.1.0/24]")(s)
			return replace("[10.0.101.0/24, 10.0.102.0/24, 10.0.103.0/24]", "[10.0.101.0/24]")(s)
		}, Overrides{}, `envs/dev.yaml:9: network.azs: has 1 availability zone(s); EKS needs at least 2, the guide uses 3: [a, b, c]`},
		{"missing tag", replace("CostCenter: platform, ", ""),
			Overrides{}, `envs/dev.yaml:6: tags.CostCenter: is missing; every resource must carry the paying team, e.g. CostCenter: platform`},
		{"malformed owner", replace("Owner: sre@spatial.properties", "Owner: sre-at-spatial"),
			Overrides{}, `envs/dev.yaml:6: tags.Owner: "sre-at-spatial" is not an e-mail address; use a plain address such as sre@spatial.properties`},
		{"owner with display name", replace("Owner: sre@spatial.properties", `Owner: "SRE <sre@spatial.properties>"`),
			Overrides{}, `envs/dev.yaml:6: tags.Owner: "SRE <sre@spatial.properties>" is not an e-mail address; use a plain address such as sre@spatial.properties`},
		{"bucket name too long", func(s string) string { return s },
			Overrides{Org: "spatialproperties-platform-engineering"},
			`ORG (overrides org in envs/dev.yaml): derived S3 bucket name "spatial-packs-spatialproperties-platform-engineering-dev-ap-southeast-2" is 71 characters; AWS allows 63: shorten org`},
		{"uppercase org", replace("org: spatialprops", "org: SpatialProps"),
			Overrides{}, `envs/dev.yaml:2: org: "SpatialProps" must be lowercase letters, digits and inner hyphens (it is part of S3 bucket names), e.g. spatialprops`},
		{"bad region override", func(s string) string { return s },
			Overrides{Region: "sydney"}, `AWS_REGION (overrides region in envs/dev.yaml): "sydney" is not an AWS region; use e.g. ap-southeast-2 (the region list of github.com/aws/aws-sdk-go-v2 v1.48.0)`},
		{"env does not match file", replace("env: dev", "env: prod"),
			Overrides{}, `envs/dev.yaml:3: env: "prod" does not match the file name; set env: dev`},
		{"node group out of range", replace("cluster:\n", "cluster:\n  nodeGroup: {minSize: 4, desiredSize: 3, maxSize: 6}\n"),
			Overrides{}, `envs/dev.yaml:13: cluster.nodeGroup.desiredSize: 3 must lie between minSize 4 and maxSize 6`},
		{"lifecycle order", replace("cicd:", "storage: {noncurrentIADays: 30, noncurrentGlacierIRDays: 20}\ncicd:"),
			Overrides{}, `envs/dev.yaml:15: storage.noncurrentGlacierIRDays: 20 must be greater than noncurrentIADays (30)`},
		{"explicit zero node count", replace("cluster:\n", "cluster:\n  nodeGroup: {minSize: 0}\n"),
			Overrides{}, `envs/dev.yaml:13: cluster.nodeGroup.minSize: 0 must be at least 1 so system pods (CoreDNS, the autoscaler) always have a node; set 1 or more, or leave it out for the default 2`},
		{"trailing dot", replace("domain: spatial.properties", "domain: spatial.properties."),
			Overrides{}, `envs/dev.yaml:5: domain: "spatial.properties." ends with a dot; write it without the trailing dot: spatial.properties`},
		{"dev without any receiver", replace("alerting: {allowNullReceiver: true}", "alerting: {}"),
			Overrides{}, `envs/dev.yaml:17: observability.alerting: names no receiver, so alerts would notify no one; set slackChannel, pagerDuty or snsTopicArn, or allowNullReceiver: true to accept that in dev (see docs/observability.md#alert-routing)`},
		{"null receiver next to a real one", replace("alerting: {allowNullReceiver: true}", "alerting: {allowNullReceiver: true, pagerDuty: true}"),
			Overrides{}, `envs/dev.yaml:17: observability.alerting.allowNullReceiver: is true while a receiver is named; remove it so nobody mistakes which one applies`},
		{"slack channel without #", replace("alerting: {allowNullReceiver: true}", "alerting: {slackChannel: alerts}"),
			Overrides{}, `envs/dev.yaml:17: observability.alerting.slackChannel: "alerts" is not a Slack channel; use e.g. "#spatialprops-dev-alerts"`},
		{"fifo sns topic", replace("alerting: {allowNullReceiver: true}", "alerting: {snsTopicArn: 'arn:aws:sns:ap-southeast-2:111122223333:alerts.fifo'}"),
			Overrides{}, `envs/dev.yaml:17: observability.alerting.snsTopicArn: "arn:aws:sns:ap-southeast-2:111122223333:alerts.fifo" is not the ARN of a standard SNS topic (arn:aws:sns:<region>:<account>:<name>; FIFO topics cannot take alerts)`},
		{"loki keeps logs too long", replace("observability:\n", "observability:\n  lokiRetentionDays: 400\n"),
			Overrides{}, `envs/dev.yaml:17: observability.lokiRetentionDays: 400 must be between 1 and 365 days; Loki deletes whole days of logs, and the volume must hold them (e.g. 14 in dev, 30 in prod)`},
		{"loki volume too large", replace("observability:\n", "observability:\n  lokiStorageGi: 20000\n"),
			Overrides{}, `envs/dev.yaml:17: observability.lokiStorageGi: 20000 must be between 1 and 16384 Gi`},
		{"unknown key", replace("domain:", "domian: x\ndomain:"),
			Overrides{}, `envs/dev.yaml:5: domian: unknown key; did you mean domain? (keys are case-sensitive)`},
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
		`envs/dev.yaml:6: tags.Owner: "nobody" is not an e-mail address; use a plain address such as sre@spatial.properties`,
		`envs/dev.yaml:10: network.natMode: "double" is not a NAT mode; use "single" (dev) or "per-az" (production)`,
	}, lines)
}

func TestUnknownEnvironment(t *testing.T) {
	_, err := LoadSelected(Overrides{Env: "qa"})
	require.Error(t, err)
	assert.Equal(t, `ENV: unknown environment "qa": use one of dev, prod, staging (each is a file envs/<env>.yaml)`, err.Error())
}

// TestPublicEndpointGuard: the API endpoint is the cluster's front door.
// prod has none; elsewhere the listed blocks, taken together, may open at
// most one /16 of the public internet, however they are split up.
func TestPublicEndpointGuard(t *testing.T) {
	cases := []struct {
		name, env, cluster string
		want               []string
	}{
		{"prod refuses a public endpoint", "prod", "endpointPublicAccess: true\n  publicAccessCidrs: [203.0.113.0/24]", []string{
			`envs/prod.yaml:13: cluster.endpointPublicAccess: is true; prod's API endpoint is private-only (reach it through the VPN or runners in the VPC): set endpointPublicAccess: false`,
			`envs/prod.yaml:14: cluster.publicAccessCidrs: lists 1 block(s), but prod has no public API endpoint; remove publicAccessCidrs`}},
		{"prod refuses ignored CIDRs too", "prod", "endpointPublicAccess: false\n  publicAccessCidrs: [0.0.0.0/1, 128.0.0.0/1]", []string{
			`envs/prod.yaml:14: cluster.publicAccessCidrs: lists 2 block(s), but prod has no public API endpoint; remove publicAccessCidrs`}},
		{"staging refuses the whole internet", "staging", "publicAccessCidrs: [0.0.0.0/0]", []string{
			`envs/staging.yaml:13: cluster.publicAccessCidrs[0]: "0.0.0.0/0" opens the staging API to the whole internet; list your office or VPN egress blocks instead`}},
		{"two halves are the whole internet", "dev", "publicAccessCidrs: [0.0.0.0/1, 128.0.0.0/1]", []string{
			`envs/dev.yaml:13: cluster.publicAccessCidrs: together cover 3702390784 public addresses, more than one /16 (65536); list narrower office or VPN blocks, or set a smaller cluster.publicAccessWidestPrefix (a wider limit) with a recorded reason`}},
		{"adjacent /17s add up", "staging", "publicAccessCidrs: [198.51.0.0/17, 198.51.128.0/17, 198.52.0.0/24]", []string{
			`envs/staging.yaml:13: cluster.publicAccessCidrs: together cover 65792 public addresses, more than one /16 (65536); list narrower office or VPN blocks, or set a smaller cluster.publicAccessWidestPrefix (a wider limit) with a recorded reason`}},
		{"a wider limit is a recorded choice", "dev", "publicAccessCidrs: [198.0.0.0/12]\n  publicAccessWidestPrefix: 12", nil},
		{"the limit has a floor", "dev", "publicAccessWidestPrefix: 4", []string{
			`envs/dev.yaml:14: cluster.publicAccessWidestPrefix: 4 must be between 8 and 32 (a prefix length; the default 16 allows one /16 of public addresses)`}},
		{"IPv6 is not accepted by EKS", "dev", "publicAccessCidrs: [2001:db8::/32]", []string{
			`envs/dev.yaml:13: cluster.publicAccessCidrs[0]: "2001:db8::/32" is not an IPv4 CIDR block, e.g. 203.0.113.0/24`}},
		// Private space cannot reach a public endpoint, so it opens nothing.
		{"private ranges do not count", "dev", "publicAccessCidrs: [10.0.0.0/8, 172.16.0.0/12, 203.0.113.0/24]", nil},
		{"one /16 is allowed", "staging", "publicAccessCidrs: [198.51.0.0/16]", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			anchor := "publicAccessCidrs: [203.0.113.0/24]"
			if tc.env == "prod" {
				anchor = "endpointPublicAccess: false"
			}
			doc := replace(anchor, tc.cluster)(validFor(tc.env))
			if !strings.Contains(tc.cluster, "publicAccessCidrs") {
				doc = replace(tc.cluster, "publicAccessCidrs: [203.0.113.0/24]\n  "+tc.cluster)(doc)
			}
			_, err := Parse("envs/"+tc.env+".yaml", []byte(doc), Overrides{})
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.want, strings.Split(err.Error(), "\n"))
		})
	}
}

func TestPublicAddressesCountsTheUnion(t *testing.T) {
	p := netip.MustParsePrefix
	assert.Equal(t, uint64(256), publicAddresses([]netip.Prefix{p("203.0.113.0/24"), p("203.0.113.128/25")}), "overlaps count once")
	assert.Equal(t, uint64(512), publicAddresses([]netip.Prefix{p("203.0.112.0/24"), p("203.0.113.0/24")}), "adjacent blocks add up")
	assert.Equal(t, uint64(0), publicAddresses([]netip.Prefix{p("192.168.0.0/16"), p("10.1.0.0/16")}))
	// 2^32 minus 0/8, 10/8, 127/8, 100.64/10, 172.16/12, 169.254/16,
	// 192.168/16 and 224/3 (multicast and reserved).
	assert.Equal(t, uint64(3702390784), publicAddresses([]netip.Prefix{p("0.0.0.0/1"), p("128.0.0.0/1")}))
}

// TestDomainsAreRefusedUnlessExact: ACM, CloudFront aliases and Route53
// records must all see the same name, so the file must say it exactly.
func TestDomainsAreRefusedUnlessExact(t *testing.T) {
	cases := []struct{ domain, cdn, want string }{
		{"spatial.properties.", "", `envs/dev.yaml:5: domain: "spatial.properties." ends with a dot; write it without the trailing dot: spatial.properties`},
		{"Spatial.Properties", "", `envs/dev.yaml:5: domain: "Spatial.Properties" has uppercase letters; write it in lowercase: spatial.properties`},
		{"spatial..properties", "", `envs/dev.yaml:5: domain: "spatial..properties" has an empty label (a leading dot or two dots in a row); remove the extra dot`},
		{".spatial.properties", "", `envs/dev.yaml:5: domain: ".spatial.properties" has an empty label (a leading dot or two dots in a row); remove the extra dot`},
		{"spatial_props.io", "", `envs/dev.yaml:5: domain: "spatial_props.io" has the label "spatial_props"; each label is 1 to 63 lowercase letters, digits and inner hyphens`},
		{"localhost", "", `envs/dev.yaml:5: domain: "localhost" must be a DNS domain you control, e.g. spatial.properties`},
		{"spatial.properties", "cdn.spatial.properties.", `envs/dev.yaml:15: cdn.domain: "cdn.spatial.properties." ends with a dot; write it without the trailing dot: cdn.spatial.properties`},
		{"spatial.properties", "CDN.spatial.properties", `envs/dev.yaml:15: cdn.domain: "CDN.spatial.properties" has uppercase letters; write it in lowercase: cdn.spatial.properties`},
		{"spatial.properties", "cdn.example.com", `envs/dev.yaml:15: cdn.domain: "cdn.example.com" is not inside the domain "spatial.properties", so its certificate cannot be validated in that zone`},
	}
	for _, tc := range cases {
		t.Run(tc.domain+" "+tc.cdn, func(t *testing.T) {
			doc := replace("domain: spatial.properties", "domain: "+tc.domain)(validDev)
			if tc.cdn != "" {
				doc = replace("cicd:", "cdn: {domain: "+tc.cdn+"}\ncicd:")(doc)
			}
			_, err := Parse("envs/dev.yaml", []byte(doc), Overrides{})
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error(), "one message: cdn.domain's default does not repeat domain's problem")
		})
	}
}

// TestExplicitZeroIsNeverReplacedByADefault walks every int and string
// field of Config, so fields added later are covered too: when the file
// sets one to 0 or "", that value is either refused with a message naming
// the field, or honoured. It must never silently become the default.
func TestExplicitZeroIsNeverReplacedByADefault(t *testing.T) {
	for _, f := range scalarFields(reflect.TypeOf(Config{}), "") {
		t.Run(f.path, func(t *testing.T) {
			zero := "0"
			if f.kind == reflect.String {
				zero = `""`
			}
			cfg, err := Parse("envs/dev.yaml", []byte(withValue(t, validDev, f.path, zero)), Overrides{})
			if err != nil {
				assert.Regexp(t, `(^|\n)envs/dev\.yaml:\d+: `+regexp.QuoteMeta(f.path)+": ", err.Error(), "the error names the line and the field the file set")
				return
			}
			assert.True(t, fieldByPath(reflect.ValueOf(cfg).Elem(), f.path).IsZero(), "%s: 0 was replaced by a default", f.path)
		})
	}
}

func TestExplicitZeroMinSizeIsRefused(t *testing.T) {
	_, err := Parse("envs/dev.yaml", []byte(withValue(t, validDev, "cluster.nodeGroup.minSize", "0")), Overrides{})
	require.Error(t, err)
	assert.Equal(t, `envs/dev.yaml:15: cluster.nodeGroup.minSize: 0 must be at least 1 so system pods (CoreDNS, the autoscaler) always have a node; set 1 or more, or leave it out for the default 2`, err.Error())
}

func TestKeyWithoutValueMeansDefault(t *testing.T) {
	// "minSize:" and "minSize: ~" are YAML null, which reads as "not set".
	for _, null := range []string{"", "~", "null"} {
		doc := replace("cluster:\n", "cluster:\n  endpointPublicAccess: "+null+"\n  nodeGroup:\n    minSize: "+null+"\n")(validDev)
		cfg, err := Parse("envs/dev.yaml", []byte(doc), Overrides{})
		require.NoError(t, err, null)
		assert.Equal(t, DefaultMinSize, cfg.Cluster.NodeGroup.MinSize)
		assert.True(t, *cfg.Cluster.EndpointPublicAccess)
	}
}

func TestExplicitValuesSurviveDefaulting(t *testing.T) {
	// The file is decoded over the defaults; a value it sets stays, and
	// session overrides still win over the file.
	doc := replace("cluster:\n", "cluster:\n  nodeGroup: {minSize: 1, desiredSize: 1, maxSize: 2}\n")(validDev)
	cfg, err := Parse("envs/dev.yaml", []byte(doc), Overrides{Org: "acme"})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1, 2}, []int{cfg.Cluster.NodeGroup.MinSize, cfg.Cluster.NodeGroup.DesiredSize, cfg.Cluster.NodeGroup.MaxSize})
	assert.Equal(t, DefaultDiskSizeGiB, cfg.Cluster.NodeGroup.DiskSizeGiB, "unset siblings keep their defaults")
	assert.Equal(t, "acme", cfg.Org)
}

// TestYAMLErrorsPointAtTheCause: the parser reports an unclosed quote where
// it gave up (line 21 of dev.yaml), not where the quote was opened.
func TestYAMLErrorsPointAtTheCause(t *testing.T) {
	shipped, err := files.ReadFile("dev.yaml")
	require.NoError(t, err)
	require.Equal(t, "domain: spatial.properties", strings.Split(string(shipped), "\n")[5], "the fixture edits line 6")
	cases := []struct{ name, from, to, want string }{
		{"unclosed double quote on line 6", "domain: spatial.properties", `domain: "spatial.properties`,
			`envs/dev.yaml:6: domain: the " opened here is not closed on this line; close it (the YAML parser gave up later: line 2: did not find expected key)`},
		{"unclosed single quote", "  natMode: single", "  natMode: 'single",
			`envs/dev.yaml:16: network.natMode: the ' opened here is not closed on this line; close it (the YAML parser gave up later: line 11: did not find expected key)`},
		{"bad indentation names the key", "  flowLogRetentionDays: 30", "   flowLogRetentionDays: 30",
			`envs/dev.yaml:17: network.flowLogRetentionDays: mapping values are not allowed in this context: fix the YAML (keys are case-sensitive; see envs/config.go for the schema)`},
		{"wrong type names the key", "    minSize: 2", "    minSize: two",
			`envs/dev.yaml:32: cluster.nodeGroup.minSize: "two" is not a whole number`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("envs/dev.yaml", []byte(replace(tc.from, tc.to)(string(shipped))), Overrides{})
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
		})
	}
}

// scalar is one int or string field of Config, by its YAML path.
type scalar struct {
	path string
	kind reflect.Kind
}

func scalarFields(t reflect.Type, prefix string) []scalar {
	var out []scalar
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		switch f.Type.Kind() {
		case reflect.Int, reflect.String:
			out = append(out, scalar{prefix + name, f.Type.Kind()})
		case reflect.Struct:
			out = append(out, scalarFields(f.Type, prefix+name+".")...)
		}
	}
	return out
}

func fieldByPath(v reflect.Value, path string) reflect.Value {
	for _, key := range strings.Split(path, ".") {
		for i := 0; i < v.NumField(); i++ {
			if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ","); name == key {
				v = v.Field(i)
				break
			}
		}
	}
	return v
}

// withValue sets the dotted path in doc to the YAML scalar value, creating
// the parent mappings it needs.
func withValue(t *testing.T, doc, path, value string) string {
	t.Helper()
	var root yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(doc), &root))
	n := root.Content[0]
	keys := strings.Split(path, ".")
	for i, key := range keys {
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == key {
				next = n.Content[j+1]
			}
		}
		if next == nil {
			next = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			if i == len(keys)-1 {
				next = &yaml.Node{Kind: yaml.ScalarNode}
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, next)
		}
		n = next
	}
	var v yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(value), &v))
	*n = *v.Content[0]
	n.Style = 0
	out, err := yaml.Marshal(&root)
	require.NoError(t, err)
	return string(out)
}

func TestAlertsMustReachPeopleOutsideDev(t *testing.T) {
	// GIVEN staging and prod files WHEN they name no receiver, or ask for
	// the null receiver THEN synth stops: only dev may stay silent.
	for _, env := range []string{"staging", "prod"} {
		file := "envs/" + env + ".yaml"
		base := replace("alerting: {pagerDuty: true}", "alerting: {allowNullReceiver: true}")(validFor(env))

		_, err := Parse(file, []byte(replace("alerting: {allowNullReceiver: true}", "alerting: {}")(base)), Overrides{})
		require.Error(t, err)
		assert.Equal(t, file+`:17: observability.alerting: names no receiver, so alerts would notify no one; set slackChannel, pagerDuty or snsTopicArn (see docs/observability.md#alert-routing)`, err.Error())

		_, err = Parse(file, []byte(base), Overrides{})
		require.Error(t, err)
		assert.Equal(t, file+`:17: observability.alerting.allowNullReceiver: is allowed only in `+"dev; "+env+` alerts must reach people: set slackChannel, pagerDuty or snsTopicArn (see docs/observability.md#alert-routing)`, err.Error())

		cfg, err := Parse(file, []byte(replace("alerting: {allowNullReceiver: true}", "alerting: {snsTopicArn: 'arn:aws:sns:ap-southeast-2:111122223333:spatialprops-alerts'}")(base)), Overrides{})
		require.NoError(t, err, "an SNS topic alone is a real receiver")
		assert.True(t, cfg.Observability.Alerting.HasReceiver())
	}
}

// validFor turns validDev into a valid file for env: its own name and
// break-glass role, a real alert receiver outside dev, and for prod a
// private-only API and an approval environment for plans. Tests that break
// one rule start here, so each trips only its own.
func validFor(env string) string {
	s := strings.ReplaceAll(validDev, "env: dev", "env: "+env)
	s = strings.ReplaceAll(s, "spatialprops-dev-break-glass", "spatialprops-"+env+"-break-glass")
	if env != "dev" {
		s = strings.Replace(s, "alerting: {allowNullReceiver: true}", "alerting: {pagerDuty: true}", 1)
	}
	if env == "prod" {
		s = strings.Replace(s, "publicAccessCidrs: [203.0.113.0/24]", "endpointPublicAccess: false", 1)
		s = strings.Replace(s, "cicd: {", "cicd: {planEnvironment: prod-plan, ", 1)
	}
	return s
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("test fixture does not contain " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func TestControlPlaneLogTypes(t *testing.T) {
	// dev defaults to the three cheapest; anything else ships all five.
	dev, err := Parse("envs/dev.yaml", []byte(validDev), Overrides{})
	require.NoError(t, err)
	assert.Equal(t, []string{"api", "audit", "authenticator"}, dev.Cluster.LogTypes)

	staging := validFor("staging")
	cfg, err := Parse("envs/staging.yaml", []byte(staging), Overrides{})
	require.NoError(t, err)
	assert.Equal(t, EKSLogTypes, cfg.Cluster.LogTypes)

	_, err = Parse("envs/staging.yaml", []byte(strings.Replace(staging, "cluster:\n", "cluster:\n  logTypes: [api, audit, authenticator]\n", 1)), Overrides{})
	require.EqualError(t, err, "envs/staging.yaml:13: cluster.logTypes: is missing controllerManager; staging must ship all five control-plane logs (api, audit, authenticator, controllerManager, scheduler), or leave logTypes out\n"+
		"envs/staging.yaml:13: cluster.logTypes: is missing scheduler; staging must ship all five control-plane logs (api, audit, authenticator, controllerManager, scheduler), or leave logTypes out")

	_, err = Parse("envs/dev.yaml", []byte(strings.Replace(validDev, "cluster:\n", "cluster:\n  logTypes: [api, kubelet]\n", 1)), Overrides{})
	require.EqualError(t, err, `envs/dev.yaml:13: cluster.logTypes[1]: "kubelet" is not an EKS log type; use api, audit, authenticator, controllerManager, scheduler`)
}

func TestAccountBaselineDefaultsToTheLandingZone(t *testing.T) {
	cfg, err := Parse("envs/dev.yaml", []byte(validDev), Overrides{})
	require.NoError(t, err)
	assert.False(t, cfg.AccountBaseline.Create, "CloudTrail, GuardDuty and Config come from the organization by default")
	assert.Equal(t, DefaultBaselineDays, cfg.AccountBaseline.RetentionDays)
}

func TestNodeCapacity(t *testing.T) {
	// GIVEN the shipped files THEN dev runs on Spot across several pools,
	// and staging and prod on on-demand nodes (docs/cost.md says why).
	for env, want := range map[string]string{"dev": CapacitySpot, "staging": CapacityOnDemand, "prod": CapacityOnDemand} {
		cfg, err := Load(env, Overrides{})
		require.NoError(t, err)
		assert.Equal(t, want, cfg.Cluster.NodeGroup.CapacityType, env)
		assert.Nil(t, cfg.Cluster.NodeGroup.WorkingHours, "%s ships with nodes around the clock", env)
	}
	dev, err := Load("dev", Overrides{})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(dev.Cluster.NodeGroup.InstanceTypes), MinSpotInstanceTypes)

	// A file that names nothing gets on-demand nodes.
	cfg, err := Parse("envs/dev.yaml", []byte(validDev), Overrides{})
	require.NoError(t, err)
	assert.Equal(t, CapacityOnDemand, cfg.Cluster.NodeGroup.CapacityType)

	// WHEN working hours are set THEN the two cron expressions follow them.
	cfg, err = Parse("envs/dev.yaml", []byte(replace("cluster:\n",
		"cluster:\n  nodeGroup:\n    workingHours: {timeZone: Australia/Perth, start: \"07:30\", end: \"19:00\"}\n")(validDev)), Overrides{})
	require.NoError(t, err)
	up, down := cfg.Cluster.NodeGroup.WorkingHours.Recurrences()
	assert.Equal(t, "30 7 * * MON,TUE,WED,THU,FRI", up)
	assert.Equal(t, "0 19 * * MON,TUE,WED,THU,FRI", down)
}

func TestNodeCapacityRefusals(t *testing.T) {
	nodeGroup := func(yaml string) func(string) string {
		return replace("cluster:\n", "cluster:\n  nodeGroup:\n"+yaml)
	}
	cases := []struct {
		name string
		file string
		edit func(string) string
		want string
	}{
		{"unknown capacity type", "dev", nodeGroup("    capacityType: spot\n"),
			`envs/dev.yaml: cluster.nodeGroup.capacityType: "spot" is not a capacity type; use ON_DEMAND or SPOT`},
		{"spot with one type", "dev", nodeGroup("    capacityType: SPOT\n    instanceTypes: [m6i.large]\n"),
			`envs/dev.yaml: cluster.nodeGroup.instanceTypes: lists 1 type(s); Spot needs at least 2 of the same size (e.g. m6i.large, m6a.large, m5.large) so one reclaimed capacity pool does not empty the group`},
		{"bad time zone", "dev", nodeGroup("    workingHours: {timeZone: Perth, start: \"07:00\", end: \"19:00\"}\n"),
			`envs/dev.yaml: cluster.nodeGroup.workingHours.timeZone: "Perth" is not an IANA time zone name; use e.g. Australia/Perth or Australia/Sydney`},
		{"missing time zone", "dev", nodeGroup("    workingHours: {start: \"07:00\", end: \"19:00\"}\n"),
			`envs/dev.yaml: cluster.nodeGroup.workingHours.timeZone: is missing; name the IANA time zone the hours are in, e.g. Australia/Perth`},
		{"end before start", "dev", nodeGroup("    workingHours: {timeZone: Australia/Perth, start: \"19:00\", end: \"07:00\"}\n"),
			`envs/dev.yaml: cluster.nodeGroup.workingHours.end: 07:00 is not after start 19:00; nodes run from start to end of the same day`},
		{"twelve-hour clock", "dev", nodeGroup("    workingHours: {timeZone: Australia/Perth, start: 7am, end: \"19:00\"}\n"),
			`envs/dev.yaml: cluster.nodeGroup.workingHours.start: "7am" is not a 24-hour time HH:MM, e.g. "07:00"`},
		{"unknown day", "dev", nodeGroup("    workingHours: {timeZone: Australia/Perth, days: [MON, Tuesday], start: \"07:00\", end: \"19:00\"}\n"),
			`envs/dev.yaml: cluster.nodeGroup.workingHours.days[1]: "Tuesday" must be one of SUN MON TUE WED THU FRI SAT, each listed once`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("envs/dev.yaml", []byte(tc.edit(validDev)), Overrides{})
			require.Error(t, err)
			assert.Equal(t, tc.want, withoutLine(err.Error()), "the refusal names the file, its line and the field")
		})
	}

	// Outside dev: no Spot in prod, no working hours in staging or prod.
	prod, err := os.ReadFile("prod.yaml")
	require.NoError(t, err)
	_, err = Parse("envs/prod.yaml", []byte(replace("    minSize: 3\n", "    minSize: 3\n    capacityType: SPOT\n")(string(prod))), Overrides{})
	require.Error(t, err)
	assert.Contains(t, withoutLine(err.Error()), "envs/prod.yaml: cluster.nodeGroup.capacityType: SPOT is not allowed in prod")
	staging, err := os.ReadFile("staging.yaml")
	require.NoError(t, err)
	_, err = Parse("envs/staging.yaml", []byte(replace("    maxSize: 6\n",
		"    maxSize: 6\n    workingHours: {timeZone: Australia/Perth, start: \"07:00\", end: \"19:00\"}\n")(string(staging))), Overrides{})
	require.Error(t, err)
	assert.NotEqual(t, err.Error(), withoutLine(err.Error()), "the refusal names its line")
	assert.Equal(t, "envs/staging.yaml: cluster.nodeGroup.workingHours: is allowed only in dev; staging nodes must run around the clock (alerts, devices and rehearsals need them)", withoutLine(err.Error()))
}

// lineRef is the ":<line>" after an env file's name in a refusal.
var lineRef = regexp.MustCompile(`(envs/[a-z]+\.yaml):[0-9]+:`)

// withoutLine drops the line numbers from a refusal, for tests whose edit
// moves lines; it fails to change a refusal that names none.
func withoutLine(msg string) string { return lineRef.ReplaceAllString(msg, "$1:") }
