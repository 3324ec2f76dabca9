package tests

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

// accountGlobal lists, per resource type, the attribute that names it
// uniquely within an AWS account (and region).
var accountGlobal = map[string]string{
	"aws_ecr_repository":                   "name",
	"aws_iam_role":                         "name",
	"aws_iam_policy":                       "name",
	"aws_kms_alias":                        "name",
	"aws_cloudwatch_log_group":             "name",
	"aws_codebuild_project":                "name",
	"aws_codeconnections_connection":       "name",
	"aws_s3_bucket":                        "bucket",
	"aws_dynamodb_table":                   "name",
	"aws_sqs_queue":                        "name",
	"aws_eks_cluster":                      "name",
	"aws_cloudfront_origin_access_control": "name",
	"aws_iam_openid_connect_provider":      "url",
}

// collisions returns the account-global names created by more than one env.
func collisions(docs map[string][]gjson.Result) []string {
	owner := map[string]string{}
	var out []string
	for env, stackDocs := range docs {
		for _, doc := range stackDocs {
			for typ, attr := range accountGlobal {
				for _, r := range resources(doc, typ) {
					name := r.Get(attr).String()
					if strings.Contains(name, "${") {
						continue // known only at apply time, e.g. each cluster's own OIDC issuer
					}
					key := typ + " " + name
					if prev, ok := owner[key]; ok && prev != env {
						out = append(out, key)
					}
					owner[key] = env
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestSeparateAccountsWouldCollideInOne(t *testing.T) {
	// The shipped envs assume one account each: put dev and staging in one
	// account as they are, and their ECR repositories collide. This is what
	// config validation refuses without cicd.sharedAccount.
	docs := map[string][]gjson.Result{}
	for _, s := range allStacks(t) {
		if s.Env != "prod" {
			docs[s.Env] = append(docs[s.Env], s.Doc)
		}
	}
	assert.Contains(t, collisions(docs), "aws_ecr_repository spatialprops/pack-service")
}

func TestSharedAccountNamesDoNotCollide(t *testing.T) {
	// GIVEN dev and staging in one account with sharedAccount, staging
	// referencing dev's GitHub OIDC provider
	var cfgs []*envs.Config
	for _, env := range []string{"dev", "staging"} {
		cfg, err := envs.Load(env, envs.Overrides{})
		require.NoError(t, err)
		cfg.AccountID, cfg.CICD.SharedAccount = "111111111111", true
		cfg.CICD.CreateOIDCProvider = env == "dev"
		cfgs = append(cfgs, cfg)
	}
	require.NoError(t, envs.ValidateAccounts(cfgs))

	// WHEN both synthesize into one app
	dir := t.TempDir()
	app := cdktf.NewApp(&cdktf.AppConfig{Outdir: jsii.String(dir), StackTraces: jsii.Bool(false)})
	for _, cfg := range cfgs {
		_, err := stacks.NewEnvironment(app, cfg)
		require.NoError(t, err)
	}
	app.Synth()
	docs := map[string][]gjson.Result{}
	paths, err := filepath.Glob(filepath.Join(dir, "stacks", "*", "cdk.tf.json"))
	require.NoError(t, err)
	require.Len(t, paths, 22)
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		require.NoError(t, err)
		env := "dev"
		if strings.HasPrefix(filepath.Base(filepath.Dir(p)), "staging-") {
			env = "staging"
		}
		docs[env] = append(docs[env], gjson.ParseBytes(raw))
	}

	// THEN no account-global name is created twice
	assert.Empty(t, collisions(docs))
	var repos []string
	for _, d := range docs["staging"] {
		for _, r := range resources(d, "aws_ecr_repository") {
			repos = append(repos, r.Get("name").String())
		}
	}
	assert.ElementsMatch(t, []string{"spatialprops/staging/pack-service", "spatialprops/staging/frontend", "spatialprops/staging/mcp-gateway",
		"spatialprops/staging/dtn-gateway", "spatialprops/staging/uplink-satellite", "spatialprops/staging/uplink-lpwan",
		"spatialprops/staging/beacons", "spatialprops/staging/beacons-admin", "spatialprops/staging/beacon-rotate",
		"spatialprops/staging/crl-sync", "spatialprops/staging/nats-auth", "spatialprops/staging/device-enrollment",
		"spatialprops/staging/cdn-presigner", "spatialprops/staging/provenance-gate", "spatialprops/staging/edge-sync",
		"spatialprops/staging/marketplace-api", "spatialprops/staging/marketplace-ui"}, repos)
}
