package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

type workflow struct {
	Permissions any            `yaml:"permissions"`
	Jobs        map[string]job `yaml:"jobs"`
}

type job struct {
	Permissions any    `yaml:"permissions"`
	Environment any    `yaml:"environment"`
	Uses        string `yaml:"uses"`
	Steps       []step `yaml:"steps"`
}

type step struct {
	ID   string            `yaml:"id"`
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	With map[string]string `yaml:"with"`
}

func loadWorkflows(t *testing.T) map[string]workflow {
	t.Helper()
	files, err := filepath.Glob("../.github/workflows/*.yml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string]workflow{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var w workflow
		require.NoError(t, yaml.Unmarshal(raw, &w), f)
		out[filepath.Base(f)] = w
	}
	return out
}

// pinned matches owner/repo@<40-hex SHA> or @<exact semver>; local actions
// (./...) are pinned by the commit they live in.
var pinned = regexp.MustCompile(`^([\w.-]+/[\w./-]+@([0-9a-f]{40}|v?\d+\.\d+\.\d+)|\./.+)$`)

func TestWorkflowsPinActionsAndScopePermissions(t *testing.T) {
	for name, w := range loadWorkflows(t) {
		for id, j := range w.Jobs {
			assert.NotNil(t, j.Permissions, "%s job %s must declare its permissions", name, id)
			for _, s := range j.Steps {
				if s.Uses != "" {
					assert.Regexp(t, pinned, s.Uses, "%s job %s: pin actions to a SHA or exact version", name, id)
				}
			}
		}
	}
	for _, f := range []string{"../.github/actions/setup-toolchain/action.yml"} {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range regexp.MustCompile(`uses: (\S+)`).FindAllStringSubmatch(string(raw), -1) {
			assert.Regexp(t, pinned, m[1], f)
		}
	}
}

func TestServiceDeployWorkflows(t *testing.T) {
	all := loadWorkflows(t)
	for _, svc := range []string{"pack-service", "frontend", "mcp-gateway"} {
		w, ok := all["deploy-"+svc+".yml"]
		require.True(t, ok, "deploy-%s.yml is missing", svc)
		assert.Equal(t, map[string]any{"id-token": "write", "contents": "read"}, w.Permissions)
		for id, j := range w.Jobs {
			order := map[string]int{}
			for i, s := range j.Steps {
				switch {
				case strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@"):
					order["credentials"] = i
				case strings.HasPrefix(s.Uses, "aws-actions/amazon-ecr-login@"):
					order["login"] = i
					// the guide's example reads steps.login-ecr.outputs
					// without giving the step that id
					assert.Equal(t, "login-ecr", s.ID, "%s/%s", svc, id)
				case strings.Contains(s.Run, "docker build"):
					order["build"] = i
				case strings.HasPrefix(s.Uses, "aquasecurity/trivy-action@"):
					order["scan"] = i
					assert.Equal(t, "HIGH,CRITICAL", s.With["severity"])
					assert.Equal(t, "1", s.With["exit-code"])
				case strings.Contains(s.Run, "docker push"):
					order["push"] = i
				case strings.Contains(s.Run, "helm upgrade --install"):
					order["helm"] = i
					assert.Contains(t, s.Run, "--atomic")
					assert.Contains(t, s.Run, "--wait")
					assert.Contains(t, s.Run, "--namespace spatial-properties")
					assert.Contains(t, s.Run, `image.tag="$IMAGE_TAG"`)
				}
			}
			require.Len(t, order, 6, "%s/%s needs credentials, ECR login, build, scan, push and helm steps", svc, id)
			assert.True(t, order["credentials"] < order["login"] && order["login"] < order["build"] &&
				order["build"] < order["scan"] && order["scan"] < order["push"] && order["push"] < order["helm"],
				"%s/%s: an image is scanned before it is pushed, and pushed before it is deployed", svc, id)
		}
		// prod and staging are gated by GitHub environments; dev by main
		assert.Equal(t, "prod", w.Jobs["prod"].Environment)
		assert.Equal(t, "staging", w.Jobs["staging"].Environment)
		assert.Nil(t, w.Jobs["dev"].Environment, "dev's role trusts the main branch, which an environment would change")
	}
}

func TestInfraDeployGatesStagingAndProd(t *testing.T) {
	w := loadWorkflows(t)["infra-deploy.yml"]
	assert.Equal(t, "staging", w.Jobs["staging"].Environment)
	assert.Equal(t, "prod", w.Jobs["prod"].Environment)
	assert.Nil(t, w.Jobs["dev"].Environment)
}

// GIVEN deploy-pack-service WHEN it builds the image THEN the build context
// it names is a directory holding a Dockerfile and its own Go module, so
// `docker build services/pack-service` is self-contained (a missing
// directory made E1.4's "merges push images" impossible before).
func TestPackServiceBuildContextExists(t *testing.T) {
	wf := loadWorkflows(t)["deploy-pack-service.yml"]
	require.NotEmpty(t, wf.Jobs)
	built := false
	for _, j := range wf.Jobs {
		for _, s := range j.Steps {
			if strings.Contains(s.Run, "docker build") {
				require.Contains(t, s.Run, `"services/$SERVICE"`, "the build context is the service's own directory")
				built = true
			}
		}
	}
	require.True(t, built)
	for _, f := range []string{"Dockerfile", "go.mod", "go.sum", "main.go"} {
		_, err := os.Stat(filepath.Join("..", "services", "pack-service", f))
		assert.NoError(t, err, "services/pack-service/%s", f)
	}
	dockerfile, err := os.ReadFile("../services/pack-service/Dockerfile")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^FROM gcr\.io/distroless/static-debian12:nonroot$`, string(dockerfile), "distroless, non-root runtime image pinned by tag")
	assert.Regexp(t, `(?m)^USER 65532:65532$`, string(dockerfile), "runs as the distroless nonroot user")
}
