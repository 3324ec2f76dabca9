package synth

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/internal/testtree"
)

// badInput is one wrong env file: the shipped file with one edit (or a
// session variable), and the one line the refusal must print.
type badInput struct {
	name     string
	env      string // file edited: envs/<env>.yaml
	old, new string // the edit (old must occur in the shipped file)
	vars     []string
	// want is the whole line, file:line: field: message. {@} stands for
	// the line the edit starts on, {@+1} for the one after it and {@text}
	// for the first line holding text, so other changes to the shipped
	// files do not move the expectations.
	want string
}

var lineRef = regexp.MustCompile(`\{@(\+1|[^}]*)\}`)

// expand fills want's line references from the edited file.
func (tc badInput) expand(edited string) string {
	lines := strings.Split(edited, "\n")
	find := func(text string) int {
		for i, l := range lines {
			if strings.Contains(l, text) {
				return i + 1
			}
		}
		return 0
	}
	at := find(strings.Split(tc.new, "\n")[0])
	return lineRef.ReplaceAllStringFunc(tc.want, func(ref string) string {
		switch arg := lineRef.FindStringSubmatch(ref)[1]; arg {
		case "":
			return strconv.Itoa(at)
		case "+1":
			return strconv.Itoa(at + 1)
		default:
			return strconv.Itoa(find(arg))
		}
	})
}

// badInputs spans what the newcomer trial found (values AWS would
// refuse, prod guards, misleading messages) and the shape and range
// mistakes the loader already caught. Each is refused with the file, the
// line and the field, and nothing is written.
var badInputs = []badInput{
	// Values AWS would refuse, checked against the pinned catalogue.
	{"region typo", "dev", "region: ap-southeast-2", "region: ap-sotheast-2", nil,
		`envs/dev.yaml:{@}: region: "ap-sotheast-2" is not an AWS region; did you mean ap-southeast-2? (the region list of github.com/aws/aws-sdk-go-v2 v1.48.0)`},
	{"region that does not exist", "dev", "region: ap-southeast-2", "region: eu-north-9", nil,
		`envs/dev.yaml:{@}: region: "eu-north-9" is not an AWS region; did you mean eu-north-1? (the region list of github.com/aws/aws-sdk-go-v2 v1.48.0)`},
	{"region without zone data", "dev", "region: ap-southeast-2", "region: us-gov-west-1", nil,
		"envs/dev.yaml:{@}: region: us-gov-west-1 is an AWS region, but the pinned EC2 catalogue has no zones or instance types for it (not opted in when it was read); refresh it with `go run ./internal/awscatalog/refresh` from an account that has the region, or pick another region"},
	{"zone letter the region lacks", "dev", "azs: [a, b, c]", "azs: [a, b, d]", nil,
		`envs/dev.yaml:{@}: network.azs[2]: "d" is not a zone of ap-southeast-2, which has a, b, c; did you mean c?`},
	{"AWS_REGION with fewer zones", "dev", "", "", []string{"AWS_REGION=us-west-1"},
		`envs/dev.yaml:{@azs: [a, b, c]}: network.azs[2]: "c" is not a zone of us-west-1 (AWS_REGION), which has a, b` + "\n" +
			`envs/dev.yaml:{@instanceTypes: [m6i.large,}: cluster.nodeGroup.instanceTypes[4]: "m7a.large" is not offered in us-west-1 (AWS_REGION); did you mean m5a.large?`},
	{"instance type typo", "dev", "instanceTypes: [m6i.large,", "instanceTypes: [m6i.lrage,", nil,
		`envs/dev.yaml:{@}: cluster.nodeGroup.instanceTypes[0]: "m6i.lrage" is not an EC2 instance type; did you mean m6i.large?`},
	{"instance type that does not exist", "dev", "instanceTypes: [m6i.large,", "instanceTypes: [m6i.huge,", nil,
		`envs/dev.yaml:{@}: cluster.nodeGroup.instanceTypes[0]: "m6i.huge" is not an EC2 instance type, e.g. m6i.large`},
	{"arm64 type on the x86_64 AMI", "dev", "instanceTypes: [m6i.large,", "instanceTypes: [m7g.large,", nil,
		`envs/dev.yaml:{@}: cluster.nodeGroup.instanceTypes[0]: "m7g.large" runs arm64, but the node group's AMI (AL2023_x86_64_STANDARD) needs x86_64; pick an x86_64 type such as m6i.large`},
	{"instance type not offered in the region", "dev", "instanceTypes: [m6i.large,", "instanceTypes: [c7a.large,", nil,
		`envs/dev.yaml:{@}: cluster.nodeGroup.instanceTypes[0]: "c7a.large" is not offered in ap-southeast-2; did you mean c5a.large?`},
	{"instance type missing from one zone", "dev", "instanceTypes: [m6i.large,", "instanceTypes: [m5zn.2xlarge,", nil,
		`envs/dev.yaml:{@}: cluster.nodeGroup.instanceTypes[0]: "m5zn.2xlarge" is not offered in ap-southeast-2a (only in ap-southeast-2b, ap-southeast-2c); pick a type every zone of network.azs offers, or other zones`},
	{"tag value with a character AWS refuses", "dev", "CostCenter: platform-engineering", "CostCenter: platform#eng", nil,
		`envs/dev.yaml:{@}: tags.CostCenter: "platform#eng" has "#", which AWS tag values do not allow; use letters, digits, spaces and _ . : / = + - @`},
	{"tag value too long", "dev", "CostCenter: platform-engineering", "CostCenter: " + strings.Repeat("x", 257), nil,
		`envs/dev.yaml:{@}: tags.CostCenter: is 257 characters; AWS tag values hold at most 256`},
	{"owner address a tag cannot hold", "dev", "Owner: sre@spatial.properties", "Owner: sre!ops@spatial.properties", nil,
		`envs/dev.yaml:{@}: tags.Owner: "sre!ops@spatial.properties" has "!", which AWS tag values do not allow; use letters, digits, spaces and _ . : / = + - @`},
	{"Kubernetes version out of support", "dev", `version: "1.35"`, `version: "1.30"`, nil,
		`envs/dev.yaml:{@}: cluster.version: "1.30" is not a supported Kubernetes version; EKS clusters here run 1.35: use 1.35 (the newest), or leave the key out for the default 1.35`},
	{"Kubernetes version not yet pinned", "dev", `version: "1.35"`, `version: "1.36"`, nil,
		`envs/dev.yaml:{@}: cluster.version: "1.36" is not a supported Kubernetes version; EKS clusters here run 1.35: use 1.35 (the newest), or leave the key out for the default 1.35`},

	// Prod guards: valid values elsewhere, refused in prod, naming the key written.
	{"prod CDN without WAF", "prod", "  enableWaf: true", "  enableWaf: false", nil,
		`envs/prod.yaml:{@}: cdn.enableWaf: is false; prod's CDN always sits behind WAF (AWS managed rules and a rate limit): remove the key or set enableWaf: true`},
	{"prod with one NAT gateway", "prod", "natMode: per-az", "natMode: single", nil,
		`envs/prod.yaml:{@}: network.natMode: "single" gives prod one NAT gateway, so one zone's outage cuts every zone's egress; prod has one per AZ: set natMode: per-az`},
	{"prod plan role trusting staging's environment", "prod", "planEnvironment: prod-plan", "planEnvironment: staging-plan", nil,
		`envs/prod.yaml:{@}: cicd.planEnvironment: "staging-plan" is not prod's own plan environment; prod's plan role may trust only prod-plan (the environment whose reviewers approve each prod plan in infra-ci.yml): set planEnvironment: prod-plan`},
	{"prod flow logs kept a month", "prod", "flowLogRetentionDays: 365", "flowLogRetentionDays: 30", nil,
		`envs/prod.yaml:{@}: network.flowLogRetentionDays: 30 days is shorter than prod keeps VPC flow logs (at least 365): set 365 or more, or remove the key for that default`},
	{"prod control-plane logs kept 90 days", "prod", "  logRetentionDays: 365", "  logRetentionDays: 90", nil,
		`envs/prod.yaml:{@}: cluster.logRetentionDays: 90 days is shorter than prod keeps EKS control-plane logs (at least 365): set 365 or more, or remove the key for that default`},
	{"prod public API endpoint", "prod", "endpointPublicAccess: false", "endpointPublicAccess: true", nil,
		`envs/prod.yaml:{@}: cluster.endpointPublicAccess: is true; prod's API endpoint is private-only (reach it through the VPN or runners in the VPC): set endpointPublicAccess: false`},
	{"prod pretending to be dev", "prod", "env: prod", "env: dev", nil,
		`envs/prod.yaml:{@}: env: "dev" does not match the file name; set env: prod`},
	{"staging without a billing connector", "staging", "billingConnectorSecret: billing-connector", "billingConnectorSecret: ", nil,
		`envs/staging.yaml:{@}: marketplace.billingConnectorSecret: is required in staging: name the Secrets Manager secret holding the billing connector's credentials, stored as spatialprops/staging/<name>; write e.g. billing-connector`},

	// Messages a person understands.
	{"a list where one value belongs", "dev", "org: spatialprops", "org:\n  - spatialprops\n  - acme", nil,
		`envs/dev.yaml:{@}: org: is a list (2 item(s)), but org takes a single value (text)`},
	{"a flow list for the region", "dev", "region: ap-southeast-2", "region: [ap-southeast-2]", nil,
		`envs/dev.yaml:{@}: region: is a list (1 item(s)), but region takes a single value (text)`},
	{"tags written as a list", "dev", "tags:\n  CostCenter: platform-engineering\n  Owner: sre@spatial.properties", "tags: [platform-engineering, sre@spatial.properties]", nil,
		`envs/dev.yaml:{@}: tags: is a list (2 item(s)), but tags takes keys: CostCenter, Owner`},
	{"a mapping where a list belongs", "dev", "azs: [a, b, c]", "azs: {a: 1}", nil,
		`envs/dev.yaml:{@}: network.azs: is a block of keys, but azs takes a list, e.g. azs: [...]`},
	{"unknown top-level key", "dev", "domain: spatial.properties", "domian: spatial.properties", nil,
		`envs/dev.yaml:{@}: domian: unknown key; did you mean domain? (keys are case-sensitive)`},
	{"unknown key in a block, wrong case", "dev", "natMode: single", "natmode: single", nil,
		`envs/dev.yaml:{@}: network.natmode: unknown key; did you mean natMode? (keys are case-sensitive)`},
	{"unknown key with nothing close", "dev", "  logRetentionDays: 30", "  hostedZone: x", nil,
		`envs/dev.yaml:{@}: cluster.hostedZone: unknown key; cluster takes: version, endpointPublicAccess, publicAccessCidrs, publicAccessWidestPrefix, breakGlassRoleArn, logRetentionDays, logTypes, nodeGroup`},
	{"a tab for indentation", "dev", "  natMode: single", "\tnatMode: single", nil,
		`envs/dev.yaml:{@}: network.natMode: is indented with a tab (column 1); YAML indents with spaces only: replace the tab with spaces`},
	{"a key set twice", "dev", "  natMode: single", "  natMode: single\n  natMode: per-az", nil,
		`envs/dev.yaml:{@+1}: network.natMode: is set twice (first on line {@}); keep one`},
	{"a word where a number belongs", "dev", "minSize: 2", "minSize: two", nil,
		`envs/dev.yaml:{@}: cluster.nodeGroup.minSize: "two" is not a whole number`},
	{"yes is not a switch", "dev", "enableWaf: false", "enableWaf: yes", nil,
		`envs/dev.yaml:{@}: cdn.enableWaf: "yes" is not true or false`},
	{"a quote left open", "dev", "domain: spatial.properties", `domain: "spatial.properties`, nil,
		`envs/dev.yaml:{@}: domain: the " opened here is not closed on this line; close it (the YAML parser gave up later: line 2: did not find expected key)`},

	// Shapes and ranges.
	{"subnet outside the VPC", "dev", "10.0.2.0/24", "10.9.2.0/24", nil,
		`envs/dev.yaml:{@}: network.privateSubnets[1]: 10.9.2.0/24 is outside the VPC 10.0.0.0/16; pick a block inside it`},
	{"overlapping subnets", "dev", "10.0.102.0/24", "10.0.1.0/25", nil,
		`envs/dev.yaml:{@}: network.publicSubnets[1]: 10.0.1.0/25 overlaps network.privateSubnets[0] (10.0.1.0/24); subnets must not share addresses`},
	{"VPC too large", "dev", "vpcCidr: 10.0.0.0/16", "vpcCidr: 10.0.0.0/8", nil,
		`envs/dev.yaml:{@}: network.vpcCidr: "10.0.0.0/8" has a /8 mask; AWS allows /16 to /24 for a VPC`},
	{"not a NAT mode", "dev", "natMode: single", "natMode: shared", nil,
		`envs/dev.yaml:{@}: network.natMode: "shared" is not a NAT mode; use "single" (dev) or "per-az" (production)`},
	{"retention CloudWatch does not offer", "dev", "flowLogRetentionDays: 30", "flowLogRetentionDays: 45", nil,
		`envs/dev.yaml:{@}: network.flowLogRetentionDays: 45 is not a CloudWatch retention period; use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...`},
	{"desired above max", "dev", "desiredSize: 3", "desiredSize: 9", nil,
		`envs/dev.yaml:{@}: cluster.nodeGroup.desiredSize: 9 must lie between minSize 2 and maxSize 6`},
	{"uppercase domain", "dev", "domain: spatial.properties", "domain: Spatial.Properties", nil,
		`envs/dev.yaml:{@}: domain: "Spatial.Properties" has uppercase letters; write it in lowercase: spatial.properties`},
	{"the whole internet on the API", "dev", "publicAccessCidrs: [203.0.113.0/24]", "publicAccessCidrs: [0.0.0.0/0]", nil,
		`envs/dev.yaml:{@}: cluster.publicAccessCidrs[0]: "0.0.0.0/0" opens the dev API to the whole internet; list your office or VPN egress blocks instead`},
	{"break-glass role that is not a role", "dev", "breakGlassRoleArn: arn:aws:iam::111111111111:role/spatialprops-dev-break-glass", "breakGlassRoleArn: spatialprops-dev-break-glass", nil,
		`envs/dev.yaml:{@}: cluster.breakGlassRoleArn: "spatialprops-dev-break-glass" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)`},
	{"Loki kept over a year", "dev", "lokiRetentionDays: 14", "lokiRetentionDays: 400", nil,
		`envs/dev.yaml:{@}: observability.lokiRetentionDays: 400 must be between 1 and 365 days; Loki deletes whole days of logs, and the volume must hold them (e.g. 14 in dev, 30 in prod)`},
	{"CA key AWS Private CA cannot use here", "dev", "keyAlgorithm: EC_prime256v1", "keyAlgorithm: EC_secp521r1", nil,
		`envs/dev.yaml:{@}: identity.keyAlgorithm: "EC_secp521r1" is not supported; use EC_prime256v1 (the default) or RSA_2048`},
	{"bad ORG", "dev", "", "", []string{"ORG=Spatial_Props"},
		`ORG (overrides org in envs/dev.yaml): "Spatial_Props" must be lowercase letters, digits and inner hyphens (it is part of S3 bucket names), e.g. spatialprops`},
}

// TestBadInputIsRefusedAndWritesNothing runs the app's Main (what main.go
// runs) on each bad file: it exits 1 with "configuration is invalid;
// nothing was written", exactly the expected line, and the folder holding
// cdktf.out is unchanged byte for byte (no new output, staging folder or
// lock file).
func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	require.GreaterOrEqual(t, len(badInputs), 40)
	shipped := fstest.MapFS{}
	for _, env := range envs.Names() {
		raw, err := fs.ReadFile(envs.Embedded(), env+".yaml")
		require.NoError(t, err)
		shipped[env+".yaml"] = &fstest.MapFile{Data: raw}
	}
	for _, tc := range badInputs {
		t.Run(tc.name, func(t *testing.T) {
			files := fstest.MapFS{}
			for name, f := range shipped {
				files[name] = f
			}
			edited := string(shipped[tc.env+".yaml"].Data)
			if tc.old != "" || tc.new != "" {
				require.Contains(t, edited, tc.old, "the edit's anchor")
				edited = strings.Replace(edited, tc.old, tc.new, 1)
				files[tc.env+".yaml"] = &fstest.MapFile{Data: []byte(edited)}
			}
			parent := t.TempDir()
			out := previousOutput(t, parent)
			before := testtree.Snapshot(t, parent)
			vars := map[string]string{"ENV": tc.env, "CDKTF_OUTDIR": out}
			for _, kv := range tc.vars {
				k, v, _ := strings.Cut(kv, "=")
				vars[k] = v
			}
			var stdout, stderr bytes.Buffer
			built := false
			code := Main(Options{Getenv: func(k string) string { return vars[k] }, Stdout: &stdout, Stderr: &stderr, Envs: files,
				Build: func(constructs.Construct, *envs.Config) error { built = true; return nil }})

			assert.Equal(t, 1, code)
			assert.False(t, built, "no stack is built from a bad file")
			assert.Empty(t, stdout.String())
			assert.Equal(t, "error: configuration is invalid; nothing was written:\n"+tc.expand(edited)+"\n", stderr.String())
			assert.Equal(t, before, testtree.Snapshot(t, parent), "cdktf.out and its folder are unchanged byte for byte")
		})
	}
}

// previousOutput writes what an earlier good synth leaves in parent: the
// output with a manifest, a stack and Terraform's working state, and the
// lock file beside it.
func previousOutput(t *testing.T, parent string) string {
	t.Helper()
	out := filepath.Join(parent, "cdktf.out")
	stack := filepath.Join(out, "stacks", "dev-network")
	require.NoError(t, os.MkdirAll(filepath.Join(stack, ".terraform"), 0o755))
	for path, body := range map[string]string{
		filepath.Join(out, "manifest.json"):               `{"stacks":{"dev-network":{}}}`,
		filepath.Join(stack, "cdk.tf.json"):               `{"terraform":{}}`,
		filepath.Join(stack, ".terraform", "marker"):      "init",
		filepath.Join(stack, ".terraform.lock.hcl"):       "# lock",
		filepath.Join(parent, leftoverPrefix(out)+"lock"): "",
	} {
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	}
	return out
}

// TestReadmeBadInputExample runs the README's example of bad input (two
// mistakes in dev.yaml) and expects exactly the output the README shows.
func TestReadmeBadInputExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(readme), "Bad input stops the command with one line per problem")
	require.True(t, ok)
	_, block, ok := strings.Cut(after, "```\n")
	require.True(t, ok)
	block, _, _ = strings.Cut(block, "```")

	raw, err := fs.ReadFile(envs.Embedded(), "dev.yaml")
	require.NoError(t, err)
	dev := strings.Replace(strings.Replace(string(raw), "10.0.2.0/24", "10.9.2.0/24", 1), "instanceTypes: [m6i.large,", "instanceTypes: [m6i.lrage,", 1)
	files := fstest.MapFS{"dev.yaml": {Data: []byte(dev)}}
	for _, env := range []string{"staging", "prod"} {
		raw, err := fs.ReadFile(envs.Embedded(), env+".yaml")
		require.NoError(t, err)
		files[env+".yaml"] = &fstest.MapFile{Data: raw}
	}
	var stdout, stderr bytes.Buffer
	code := Main(Options{Getenv: func(k string) string {
		return map[string]string{"ENV": "dev", "CDKTF_OUTDIR": filepath.Join(t.TempDir(), "out")}[k]
	}, Stdout: &stdout, Stderr: &stderr, Envs: files,
		Build: func(constructs.Construct, *envs.Config) error { return nil }})
	assert.Equal(t, 1, code)
	assert.Equal(t, block, stderr.String())
}
