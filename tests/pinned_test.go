package tests

import (
	"strings"
	"sync"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/spatialprops/spatialprops-infra/envs"
	"github.com/spatialprops/spatialprops-infra/stacks"
)

// The shipped env files pin no image digest for the privileged workloads
// (their images are built by their workflows after the first deploy), so
// the synthesized stacks create their namespaces, roles and configuration
// but no pods. pinnedStack synthesizes an env with a digest pinned for
// every privileged workload, to test what the infra stacks then deploy.
var (
	pinnedMu     sync.Mutex
	pinnedByEnv  = map[string]map[string]gjson.Result{}
	pinnedDigest = "sha256:" + strings.Repeat("0123456789abcdef", 4)
)

func pinnedStack(t *testing.T, env, component string) gjson.Result {
	t.Helper()
	pinnedMu.Lock()
	defer pinnedMu.Unlock()
	if docs, ok := pinnedByEnv[env]; ok {
		return docs[component]
	}
	cfgs, err := envs.LoadSelected(envs.Overrides{Env: env})
	require.NoError(t, err)
	require.Len(t, cfgs, 1)
	cfg := cfgs[0]
	cfg.Workloads = map[string]envs.Workload{}
	for _, w := range envs.PrivilegedWorkloads {
		cfg.Workloads[w] = envs.Workload{Digest: pinnedDigest}
	}
	app := cdktf.Testing_App(nil)
	_, err = stacks.NewEnvironment(app, cfg)
	require.NoError(t, err)
	docs := map[string]gjson.Result{}
	for _, c := range []string{"identity", "cdn", "edge", "marketplace", "cicd"} {
		child := app.Node().TryFindChild(jsii.String(env + "-" + c))
		if child == nil {
			continue
		}
		docs[c] = gjson.Parse(*cdktf.Testing_Synth(child.(cdktf.TerraformStack), jsii.Bool(true)))
	}
	pinnedByEnv[env] = docs
	return docs[component]
}
