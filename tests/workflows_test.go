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

	"github.com/spatialprops/spatialprops-infra/envs"
)

type workflow struct {
	Permissions any            `yaml:"permissions"`
	Jobs        map[string]job `yaml:"jobs"`
}

type job struct {
	Permissions any    `yaml:"permissions"`
	Environment any    `yaml:"environment"`
	RunsOn      any    `yaml:"runs-on"`
	If          string `yaml:"if"`
	Uses        string `yaml:"uses"`
	Steps       []step `yaml:"steps"`
	Needs       any    `yaml:"needs"`
	Strategy    struct {
		Matrix struct {
			Include []map[string]string `yaml:"include"`
		} `yaml:"matrix"`
	} `yaml:"strategy"`
}

// needs returns a single needs: entry ("" when there is none or several).
func (j job) needs() string {
	s, _ := j.Needs.(string)
	return s
}

// serviceDeploy checks one env of a deploy-<service> workflow: the
// <env> job waits for <env>-image, which fails on a HIGH/CRITICAL Trivy
// finding before it pushes; it returns the <env> job's helm upgrade script.
func serviceDeploy(t *testing.T, w workflow, env, label string) string {
	t.Helper()
	image, deploy := w.Jobs[env+"-image"], w.Jobs[env]
	assert.Equal(t, env+"-image", deploy.needs(), "%s/%s", label, env)
	var scanned, pushed bool
	for _, s := range image.Steps {
		scanned = scanned || (strings.HasPrefix(s.Uses, "aquasecurity/trivy-action@") && s.With["exit-code"] == "1")
		pushed = pushed || (scanned && strings.Contains(s.Run, "docker push"))
	}
	assert.True(t, pushed, "%s/%s-image scans before it pushes", label, env)
	var helm string
	for _, s := range deploy.Steps {
		if strings.Contains(s.Run, "helm upgrade --install") {
			helm = s.Run
		}
	}
	require.NotEmpty(t, helm, "%s/%s: no helm upgrade --install step", label, env)
	return helm
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

// pinnedUse is owner/repo[/path]@<40-hex commit> followed by the release it
// is in as a comment ("# v4.2.2"), so a reviewer sees what the SHA is and
// Dependabot can bump it. Local actions (./...) are pinned by the commit
// they live in.
var (
	pinnedUse = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v?\d+\.\d+\.\d+\s*$`)
	localUse  = regexp.MustCompile(`^\s*(?:-\s+)?uses:\s+\./\S+\s*$`)
	anyUse    = regexp.MustCompile(`^\s*(?:-\s+)?uses:`)
)

// actionFiles are every workflow and every local action of the repository.
func actionFiles(t *testing.T) []string {
	t.Helper()
	workflows, err := filepath.Glob("../.github/workflows/*.yml")
	require.NoError(t, err)
	actions, err := filepath.Glob("../.github/actions/*/action.yml")
	require.NoError(t, err)
	require.NotEmpty(t, actions)
	return append(workflows, actions...)
}

// unpinnedUses returns the uses: lines of raw that are not pinned to a commit.
func unpinnedUses(raw string) []string {
	var bad []string
	for _, line := range strings.Split(raw, "\n") {
		if anyUse.MatchString(line) && !pinnedUse.MatchString(line) && !localUse.MatchString(line) {
			bad = append(bad, strings.TrimSpace(line))
		}
	}
	return bad
}

func TestActionsArePinnedToCommits(t *testing.T) {
	// A tag can be moved to malicious code after review (it happened to
	// tj-actions and trivy-action); a full commit SHA cannot.
	uses := 0
	for _, f := range actionFiles(t) {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.Empty(t, unpinnedUses(string(raw)), "%s: pin every action to a 40-character commit SHA with its version in a comment", f)
		uses += strings.Count(string(raw), "uses:")
	}
	assert.Greater(t, uses, 60, "the check must see the workflows' actions")
	// the check itself rejects what it must
	for _, bad := range []string{
		"      - uses: actions/checkout@v4.2.2",
		"      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
		"      - uses: actions/checkout@11bd719 # v4.2.2",
		"        uses: aquasecurity/trivy-action@master # v0.35.0",
	} {
		assert.Equal(t, []string{strings.TrimSpace(bad)}, unpinnedUses(bad), bad)
	}
	assert.Empty(t, unpinnedUses("      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"))
}

func TestJobsDeclarePermissions(t *testing.T) {
	for name, w := range loadWorkflows(t) {
		for id, j := range w.Jobs {
			assert.NotNil(t, j.Permissions, "%s job %s must declare its permissions", name, id)
		}
	}
}

// urlManifest catches manifests or charts taken from the network at run time.
var urlManifest = regexp.MustCompile(`(kubectl|helm)\b[^\n]*\s(-f|--filename|--values)[ =]?["']?https?://|curl[^\n|]*\|\s*(kubectl|sh|bash)\b`)

func TestNoWorkflowAppliesManifestsFromAURL(t *testing.T) {
	for _, f := range actionFiles(t) {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.NotRegexp(t, urlManifest, string(raw), "%s: apply manifests from the repository (security/cluster-baseline/), never from a URL", f)
	}
	assert.Regexp(t, urlManifest, `kubectl apply -n default -f "https://raw.githubusercontent.com/aquasecurity/kube-bench/v0.9.4/job-eks.yaml"`)
	assert.Regexp(t, urlManifest, `curl -sL https://example.com/x.sh | bash`)
}

// tagOnlyImages are images whose digest could not be resolved where this
// repository is built (no registry access); each is named in its manifest
// with the command that pins it.
var tagOnlyImages = map[string]bool{"docker.io/aquasec/kube-hunter:0.6.8": true}

func TestClusterBaselineImagesArePinned(t *testing.T) {
	files, err := filepath.Glob("../security/cluster-baseline/*.yaml")
	require.NoError(t, err)
	images := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range regexp.MustCompile(`image:\s*(\S+)`).FindAllStringSubmatch(string(raw), -1) {
			images++
			if tagOnlyImages[m[1]] {
				assert.Contains(t, string(raw), "crane digest "+m[1], "%s: say how to pin it", f)
				continue
			}
			assert.Regexp(t, `^[\w./-]+:v?\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$`, m[1], "%s: pin the image to a release and its digest", f)
		}
	}
	assert.Equal(t, 2, images, "kube-bench and kube-hunter")
}

// clusterWork marks a step that needs the cluster API.
var clusterWork = regexp.MustCompile(`kubectl |helm upgrade|update-kubeconfig|plan\.sh|make deploy-all`)

// runnerLabel is the CodeBuild runner label of one env (naming.RunnerProject).
func runnerLabel(env string) string {
	return "codebuild-${{ vars.ORG }}-" + env + "-gha-runner-${{ github.run_id }}-${{ github.run_attempt }}"
}

func TestClusterJobsRunOnTheInVPCRunners(t *testing.T) {
	// The API endpoint is private in prod and VPN-only elsewhere: a job on a
	// GitHub-hosted runner could not reach it.
	seen := 0
	for name, w := range loadWorkflows(t) {
		for id, j := range w.Jobs {
			needsCluster := false
			for _, s := range j.Steps {
				needsCluster = needsCluster || clusterWork.MatchString(s.Run)
			}
			runsOn, _ := j.RunsOn.(string)
			if !needsCluster {
				assert.NotContains(t, runsOn, "codebuild-", "%s/%s: jobs that only call AWS stay on GitHub-hosted runners", name, id)
				continue
			}
			seen++
			labels := []string{runnerLabel("dev"), runnerLabel("staging"), runnerLabel("prod"), runnerLabel("${{ matrix.env }}")}
			if name == "infra-ci.yml" {
				// pull-request plans have a runner project of their own
				for i := range labels {
					labels[i] = strings.Replace(labels[i], "-gha-runner-", "-gha-plan-runner-", 1)
				}
			}
			assert.Contains(t, labels, runsOn, "%s/%s talks to the cluster API, so it must run on the env's CodeBuild runner", name, id)
		}
	}
	assert.GreaterOrEqual(t, seen, 15, "infra deploys, plans, drift, the baseline and 9 service deploys")
}

func TestServiceDeployWorkflows(t *testing.T) {
	all := loadWorkflows(t)
	for _, svc := range []string{"pack-service", "frontend", "mcp-gateway"} {
		w, ok := all["deploy-"+svc+".yml"]
		require.True(t, ok, "deploy-%s.yml is missing", svc)
		assert.Equal(t, map[string]any{}, w.Permissions, "permissions are granted per job")
		for _, env := range []string{"dev", "staging", "prod"} {
			image, deploy := w.Jobs[env+"-image"], w.Jobs[env]
			order := stepOrder(image.Steps)
			require.Len(t, order, 5, "%s/%s-image needs credentials, ECR login, build, scan and push", svc, env)
			assert.True(t, order["credentials"] < order["login"] && order["login"] < order["build"] &&
				order["build"] < order["scan"] && order["scan"] < order["push"],
				"%s/%s: an image is scanned before it is pushed", svc, env)
			order = stepOrder(deploy.Steps)
			require.Len(t, order, 2, "%s/%s needs credentials and helm", svc, env)
			assert.Less(t, order["credentials"], order["helm"])
			assert.Equal(t, env+"-image", deploy.needs(), "%s/%s deploys only the image its own job pushed", svc, env)
		}
	}
}

var helmDependencyFirst = regexp.MustCompile(`helm dependency build "\./helm/\$SERVICE"(?s:.*)helm upgrade --install "\$SERVICE" "\./helm/\$SERVICE"`)

// stepOrder maps the kind of each step that matters to its index.
func stepOrder(steps []step) map[string]int {
	order := map[string]int{}
	for i, s := range steps {
		switch {
		case strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@"):
			order["credentials"] = i
		case strings.HasPrefix(s.Uses, "aws-actions/amazon-ecr-login@"):
			// the guide's example reads steps.login-ecr.outputs without
			// giving the step that id
			if s.ID == "login-ecr" {
				order["login"] = i
			}
		case strings.Contains(s.Run, "docker build"):
			order["build"] = i
		case strings.HasPrefix(s.Uses, "aquasecurity/trivy-action@"):
			if s.With["severity"] == "HIGH,CRITICAL" && s.With["exit-code"] == "1" {
				order["scan"] = i
			}
		case strings.Contains(s.Run, "docker push"):
			order["push"] = i
		case strings.Contains(s.Run, "helm upgrade --install") && strings.Contains(s.Run, "--atomic") &&
			strings.Contains(s.Run, "--wait") && strings.Contains(s.Run, "--namespace spatial-properties") &&
			strings.Contains(s.Run, `image.tag="$IMAGE_TAG"`) &&
			// the library chart is a file:// dependency, packaged into
			// charts/ only by `helm dependency build`
			helmDependencyFirst.MatchString(s.Run):
			order["helm"] = i
		}
	}
	return order
}

// roleSecret is the AWS role a job's credentials step names: an infra role
// secret, or a service's own deploy role by its deterministic ARN (group 3,
// the env, group 4 the service).
var roleSecret = regexp.MustCompile(`AWS_(INFRA_PLAN|INFRA_DEPLOY)_ROLE_ARN_(DEV|STAGING|PROD)|secrets\[matrix\.role_secret\]|` +
	`^arn:aws:iam::\$\{\{ vars\.AWS_ACCOUNT_ID_(DEV|STAGING|PROD) \}\}:role/\$\{\{ vars\.ORG \}\}-[a-z]+-gha-deploy-([a-z-]+)$`)

func TestJobsUseTheEnvironmentTheirRoleTrusts(t *testing.T) {
	// The roles trust exact sub claims (stacks.*Subject): infra deploys
	// "environment:<env>-infra", service deploys "environment:<env>", prod
	// plans "environment:prod-plan". A job in another environment cannot
	// assume the role, and no service workflow can present the infra subject.
	cfgs := map[string]*envs.Config{}
	loaded, err := envs.LoadSelected(envs.Overrides{})
	require.NoError(t, err)
	for _, c := range loaded {
		cfgs[strings.ToUpper(c.Env)] = c
	}
	deployJobs := 0
	for name, w := range loadWorkflows(t) {
		for id, j := range w.Jobs {
			for _, s := range j.Steps {
				if !strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@") {
					continue
				}
				m := roleSecret.FindStringSubmatch(s.With["role-to-assume"])
				require.NotNil(t, m, "%s/%s: unknown role %q", name, id, s.With["role-to-assume"])
				env, _ := j.Environment.(string)
				if m[3] != "" {
					// a service's own role: this workflow's, in its env
					m[1], m[2] = "SERVICE_DEPLOY", m[3]
					assert.Equal(t, "deploy-"+m[4]+".yml", name, "%s/%s assumes another service's deploy role", name, id)
					assert.Contains(t, s.With["role-to-assume"], "-"+strings.ToLower(m[3])+"-gha-deploy-", "%s/%s: the role of its own env", name, id)
				}
				switch kind, cfg := m[1], cfgs[m[2]]; kind {
				case "INFRA_DEPLOY":
					assert.Equal(t, cfg.InfraEnvironment(), env, "%s/%s", name, id)
				case "SERVICE_DEPLOY":
					assert.Equal(t, cfg.ServiceEnvironment(m[4]), env, "%s/%s: the service's own environment", name, id)
					assert.True(t, strings.HasPrefix(name, "deploy-"), "%s/%s: only service workflows use the service role", name, id)
				case "INFRA_PLAN":
					assert.Equal(t, "PROD", m[2], "%s/%s: dev/staging plans come from the matrix", name, id)
					assert.Equal(t, cfg.CICD.PlanEnvironment, env, "%s/%s: prod plans wait for the prod-plan approval", name, id)
				default: // the matrix of dev/staging plans or drift: no environment
					assert.Empty(t, env, "%s/%s", name, id)
				}
				if m[1] == "INFRA_DEPLOY" || m[1] == "SERVICE_DEPLOY" {
					deployJobs++
					assert.Contains(t, j.If, "github.ref == 'refs/heads/main'", "%s/%s: deploys run only from main, even when dispatched", name, id)
				}
			}
		}
	}
	assert.Equal(t, 3+1+18+18+18+3+6+12+2+12, deployJobs, "infra deploys, the cluster baseline, 2 jobs x 3 envs for the guide's 3 services, the 3 DTN services, the 3 beacon registry services; an image job per env for crl-sync (privileged: the edge stack deploys it); 2 jobs x 3 envs for edge-sync and the marketplace api and ui; billing-stub (dev image + dev); and an image job per env for the 4 other privileged services the infra stacks deploy (the NATS callout, enrollment, the presigner, the provenance gate)")
	// prod must not sneak back into the PR plan matrix, which runs unapproved
	var planned []string
	for _, m := range loadWorkflows(t)["infra-ci.yml"].Jobs["diff"].Strategy.Matrix.Include {
		planned = append(planned, m["env"])
	}
	assert.Equal(t, []string{"dev", "staging"}, planned)
}

// sharedImageBuild checks that a deploy workflow builds its service with
// the one shared recipe (services/Dockerfile, from the repository root,
// SERVICE naming the service's module directory) and redeploys when the
// recipe or the service changes.
func sharedImageBuild(t *testing.T, text, svc string) {
	t.Helper()
	assert.Contains(t, text, "  SERVICE: "+svc+"\n", svc)
	assert.Contains(t, text, "  BUILD_CONTEXT: .\n  DOCKERFILE: services/Dockerfile\n", svc)
	assert.Contains(t, text, `docker build --pull -f "$DOCKERFILE" --build-arg SERVICE="$SERVICE" -t "$IMAGE" "$BUILD_CONTEXT"`, svc)
	for _, p := range []string{"services/" + svc, "services/Dockerfile*"} {
		if !strings.HasSuffix(p, "*") {
			p += "/**"
		}
		assert.Contains(t, text, `      - "`+p+`"`+"\n", "%s: a change to what it builds redeploys it", svc)
	}
	for _, f := range []string{"go.mod", "go.sum", "main.go"} {
		assert.FileExists(t, filepath.Join("..", "services", svc, f), "%s: SERVICE must name a module directory with a main package", svc)
	}
}

// GIVEN the service workflows THEN every Go service is built by the one
// shared recipe, which is distroless and non-root, and no service carries
// a Dockerfile of its own (the pinned uplink placeholder excepted).
func TestServiceImagesShareOneDockerfile(t *testing.T) {
	dockerfile, err := os.ReadFile("../services/Dockerfile")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^FROM gcr\.io/distroless/static-debian12:nonroot$`, string(dockerfile), "distroless, non-root runtime image pinned by tag")
	assert.Regexp(t, `(?m)^USER 65532:65532$`, string(dockerfile), "runs as the distroless nonroot user")
	assert.Regexp(t, `(?m)^ARG SERVICE$`, string(dockerfile))
	own, err := filepath.Glob("../services/*/Dockerfile*")
	require.NoError(t, err)
	assert.Equal(t, []string{"../services/edge-placeholder/Dockerfile"}, own, "one shared recipe, not a copy per service")
	built := 0
	for _, f := range mustGlob(t, "../.github/workflows/deploy-*.yml") {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		text := string(raw)
		if !strings.Contains(text, "DOCKERFILE: services/Dockerfile") {
			continue
		}
		svc := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "deploy-"), ".yml")
		sharedImageBuild(t, text, svc)
		built++
	}
	assert.GreaterOrEqual(t, built, 4, "pack-service, billing-stub, beacon-rotate and crl-sync at least")
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	require.NoError(t, err)
	require.NotEmpty(t, m, pattern)
	return m
}

// GIVEN the service modules THEN every root-module package their programs
// import is in the shared image's build context (services/Dockerfile.
// dockerignore), or `docker build` fails in CI with a missing package.
func TestImageContextHoldsWhatServicesImport(t *testing.T) {
	ignore, err := os.ReadFile("../services/Dockerfile.dockerignore")
	require.NoError(t, err)
	included := map[string]bool{}
	for _, line := range strings.Split(string(ignore), "\n") {
		if dir, ok := strings.CutPrefix(strings.TrimSpace(line), "!"); ok {
			included[strings.TrimSuffix(dir, "/")] = true
		}
	}
	imported := map[string]string{}
	const root = "github.com/spatialprops/spatialprops-infra/"
	err = filepath.WalkDir("../services", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			strings.Contains(path, "/edge-e2e/") || strings.Contains(path, "/kittest/") || strings.Contains(path, "/internal/beacontest/") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range regexp.MustCompile(`"`+regexp.QuoteMeta(root)+`([\w./-]+)"`).FindAllStringSubmatch(string(raw), -1) {
			if !strings.HasPrefix(m[1], "services/") {
				imported[m[1]] = path
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, imported, "edge", "the scan must see the services' imports")
	for pkg, from := range imported {
		assert.True(t, included[pkg], "%s imports %s, which services/Dockerfile.dockerignore leaves out of the build context", from, pkg)
	}
}

// GIVEN any workflow WHEN a job may write to pull requests THEN it runs
// none of the PR's code (no checkout, no run step): a PR that changed the
// Makefile or a Go file must not get a token that can edit comments. The
// cost workflow splits its work that way, and its estimate job compares
// every env against the PR's base with spctl cost --compare.
func TestJobsThatWriteToPullRequestsRunNoPRCode(t *testing.T) {
	for name, w := range loadWorkflows(t) {
		for id, j := range w.Jobs {
			perms, _ := j.Permissions.(map[string]any)
			if perms["pull-requests"] != "write" {
				continue
			}
			for _, s := range j.Steps {
				assert.Empty(t, s.Run, "%s job %s writes to PRs and runs a script", name, id)
				assert.False(t, strings.HasPrefix(s.Uses, "actions/checkout@"), "%s job %s writes to PRs and checks out code", name, id)
			}
		}
	}
	w := loadWorkflows(t)["cost.yml"]
	est := w.Jobs["estimate"]
	assert.Equal(t, map[string]any{"contents": "read"}, est.Permissions)
	var compare string
	for _, s := range est.Steps {
		if strings.Contains(s.Run, "spctl cost") {
			compare = s.Run
		}
	}
	for _, env := range envs.Order {
		assert.Contains(t, compare, env, "every env is priced")
	}
	assert.Contains(t, compare, `--compare "origin/$BASE_REF" --markdown`)
	assert.Equal(t, "estimate", w.Jobs["comment"].needs())
}
