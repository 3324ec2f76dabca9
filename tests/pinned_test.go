package tests

import (
	"strings"
	"sync"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/assert"
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

// imagesIn collects every container image a synthesized stack names: a
// string "image" anywhere in its Kubernetes resources and manifests, and
// the repository@digest of every Helm release value "image" that carries
// a digest. Chart-default images (a release value without "image") are the
// chart version's, pinned by that version.
func imagesIn(doc gjson.Result) []string {
	var out []string
	var walk func(v gjson.Result)
	walk = func(v gjson.Result) {
		v.ForEach(func(k, e gjson.Result) bool {
			if k.String() == "image" && e.Type == gjson.String {
				out = append(out, e.String())
			} else if k.String() == "image" && e.Get("digest").Exists() {
				out = append(out, e.Get("repository").String()+"@"+e.Get("digest").String())
			} else if e.IsObject() || e.IsArray() {
				walk(e)
			}
			return true
		})
	}
	doc.Get("resource").ForEach(func(typ, byName gjson.Result) bool {
		if strings.HasPrefix(typ.String(), "kubernetes_") {
			walk(byName)
		}
		return true
	})
	return out
}

// GIVEN every env with every privileged workload pinned WHEN the edge and
// marketplace stacks run containers of their own (the stream-setup Job,
// the NATS auth callout, the privileged workloads' charts) THEN each image
// is pinned by digest: the stream-admin key, the callout's account key and
// the workload roles are handed only to an exact image.
func TestEveryImageTheStacksRunIsPinnedByDigest(t *testing.T) {
	for _, env := range iamEnvs {
		var images []string
		for _, c := range []string{"edge", "marketplace"} {
			doc := pinnedStack(t, env, c)
			images = append(images, imagesIn(doc)...)
			for _, r := range doc.Get("resource.helm_release").Map() {
				for _, v := range r.Get("values").Array() {
					if strings.Contains(v.String(), "digest: ") {
						require.Contains(t, v.String(), "digest: "+pinnedDigest, "%s: a release's image digest is the one pinned", env)
						images = append(images, "helm value@"+pinnedDigest)
					}
				}
			}
		}
		require.GreaterOrEqual(t, len(images), 4, "%s: the stream-setup Job, the callout and the privileged charts", env)
		for _, img := range images {
			assert.Regexp(t, `@sha256:[0-9a-f]{64}$`, img, "%s: %s is not pinned by digest", env, img)
		}
	}
}
