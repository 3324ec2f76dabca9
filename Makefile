# spatialprops-infra: every target is self-contained on a fresh clone; it
# installs the pinned Node tools, generates provider bindings and builds the
# pinned scanners on first use. `make` alone lists the targets.

SHELL         := bash
.SHELLFLAGS   := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The cdktf CLI and Terraform must not phone home (no network here or in CI).
export CHECKPOINT_DISABLE := 1
export DISABLE_VERSION_CHECK := 1
# Build outputs that do not embed the checkout's path, so every clone on a
# machine (CI's fresh one included) shares one Go build cache instead of
# recompiling the 200 MB of generated provider bindings.
export GOFLAGS ?= -trimpath
# Terraform unpacks each provider once into this cache and links it into
# every stack's .terraform; synth keeps .terraform between runs, so a second
# diff of a stack neither downloads nor unpacks the AWS provider again.
export TF_PLUGIN_CACHE_DIR ?= $(HOME)/.terraform.d/plugin-cache

NODE_STAMP := node_modules/.installed
GEN_STAMP  := .gen/.generated
OUT        := cdktf.out
HCL_OUT    := cdktf.out.hcl
TRIVY      := bin/trivy
PROMTOOL   := bin/promtool
AMTOOL     := bin/amtool
AMINHIBIT  := bin/aminhibit
RULES_DIR  := stacks/observability/rules
ACTIONLINT := bin/actionlint
STATICCHK  := bin/staticcheck
STACK      ?=
STACKRUN   := go run ./cmd/stackrun
# The service modules under services/ (each its own Go module on the kit),
# tested and linted one after the other against one shared moto_server;
# edge-e2e, last, is the end-to-end edge scenario over all of them.
SERVICE_MODULES := kit pack-service billing-stub beacon-rotate crl-sync device-enrollment cdn-presigner dtn-gateway \
	beacons beacons-admin provenance-gate marketplace-api marketplace-ui frontend mcp-gateway edge-sync edge-e2e nats-auth
# Go packages of this module; node_modules ships a stray Go package (flatted)
# that is not ours to build, test or lint.
PKGS        = $$(go list ./... | grep -v /node_modules/)

.PHONY: spctl help gen build synth bench-synth synth-hcl test check scan tflint lint rules update-golden diff deploy diff-all deploy-all stacks clean tools \
	check-envs require-env require-stack plugin-cache validate e2e bootstrap

# The app's stack ids in deploy order (`go run . --list`): validates the
# configuration and writes nothing. Its errors reach stderr, minus jsii's
# Node end-of-life banner (lines starting with !!); its exit status is kept.
LIST_STACKS = { go run . --list 2>&1 1>&3 | { grep -v '^!!' || true; } >&2; } 3>&1

help: ## List the targets and what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(GEN_STAMP): $(NODE_STAMP)
	rm -rf .gen/go
	npx --no-install jsii-pacmak --targets go --code-only --outdir .gen \
	  node_modules/@cdktf/provider-helm node_modules/@cdktf/provider-kubernetes node_modules/@cdktf/provider-github 2>/dev/null
	@touch $@

gen: $(GEN_STAMP) ## Generate the helm, kubernetes and github provider bindings into .gen/ (pinned npm packages)

# go:embed refuses a symlinked or unreadable envs/*.yaml with a compile
# error about load.go; say what is wrong with the file instead.
check-envs:
	@bad=0; for f in envs/*.yaml; do \
	  if [ -L "$$f" ]; then bad=1; echo "$$f: is a symbolic link to $$(readlink "$$f"); env files are embedded into the app and Go embeds only regular files: replace the link with a copy (cp --remove-destination \"$$(readlink -f "$$f")\" $$f)"; \
	  elif [ ! -f "$$f" ]; then bad=1; echo "$$f: is not a regular file; env files must be plain YAML files"; \
	  elif [ ! -r "$$f" ]; then bad=1; echo "$$f: cannot be read by user $$(id -un); make it readable: chmod a+r $$f"; fi; \
	done >&2; \
	if [ $$bad = 1 ]; then echo "error: configuration is invalid; nothing was written" >&2; exit 1; fi

require-env:
	@test -n "$(ENV)" || { echo "set ENV, e.g. ENV=dev make $(or $(MAKECMDGOALS),$@)" >&2; exit 2; }

require-stack:
	@test -n "$(STACK)" || { echo "set STACK, e.g. make $(or $(MAKECMDGOALS),$@) STACK=dev-network" >&2; exit 2; }

plugin-cache:
	@mkdir -p "$(TF_PLUGIN_CACHE_DIR)"

build: check-envs gen ## Compile the app and tests
	go build $(PKGS)
	go test -count=1 -run '^$$' $(PKGS) >/dev/null

# GO_PROGRESS turns `go build -v`'s package list into a progress line every
# 50 packages, so a first build (which downloads and compiles the AWS SDK
# and client-go for minutes) shows that it is moving; errors pass through.
GO_PROGRESS = awk '/^go: downloading/ {d++; if (d % 25 == 1) printf "  downloading modules: %d so far\n", d; next} \
	/^[a-z0-9.-]+\.[a-z]+\/[^ :]*$$|^[a-z0-9]+(\/[a-z0-9._-]+)*$$/ {n++; if (n % 50 == 0) printf "  compiled %d packages (%s)\n", n, $$0; next} \
	{print} END {if (d + n > 0) printf "  done: %d modules downloaded, %d packages compiled\n", d, n}' >&2

spctl: ## Build the operator CLI into bin/spctl (verify, teardown, edge rollback, cost)
	@echo "building bin/spctl (a first build downloads its modules and compiles about 770 packages: several minutes on 2 cores; later builds take seconds)" >&2
	@go build -v -ldflags "-X main.revision=$$(git describe --always --dirty 2>/dev/null)" -o bin/spctl ./cmd/spctl 2>&1 | $(GO_PROGRESS)

synth: check-envs gen ## Synthesize every stack of every env into cdktf.out/ (ENV=dev: only dev's stacks are replaced); keeps each stack's .terraform
	go run .

bench-synth: check-envs gen ## Paired benchmark: the app's synth of all envs vs a one-bucket app loading the same provider assemblies (not in make test; run it alone)
	go run ./cmd/synthbench -runs $(or $(RUNS),5)

synth-hcl: gen ## Synthesize HCL (what Trivy scans) into cdktf.out.hcl/
	npx --no-install cdktf synth --hcl --output $(HCL_OUT) 2>/dev/null | grep -v '^$$' | tail -n 3

# Every tool is built from source at the version pinned in tools/go.mod or
# tools/prometheus/go.mod: no system package manager, no root. promtool and
# amtool match the Prometheus (v3.14.0) and Alertmanager (v0.34.0) images
# kube-prometheus-stack 88.5.3 deploys, and aminhibit runs that
# Alertmanager's inhibitor; they have their own module because Prometheus's
# dependencies break actionlint's.
$(TRIVY) $(ACTIONLINT) $(STATICCHK) &: tools/go.mod tools/go.sum
	cd tools && GOEXPERIMENT=jsonv2 go build -o ../bin/ \
	  github.com/aquasecurity/trivy/cmd/trivy \
	  github.com/rhysd/actionlint/cmd/actionlint \
	  honnef.co/go/tools/cmd/staticcheck
	@touch $(TRIVY) $(ACTIONLINT) $(STATICCHK)

$(PROMTOOL) $(AMTOOL) $(AMINHIBIT) &: tools/prometheus/go.mod tools/prometheus/go.sum tools/prometheus/cmd/aminhibit/main.go
	cd tools/prometheus && go build -o ../../bin/ \
	  github.com/prometheus/prometheus/cmd/promtool \
	  github.com/prometheus/alertmanager/cmd/amtool \
	  ./cmd/aminhibit
	@touch $(PROMTOOL) $(AMTOOL) $(AMINHIBIT)

# TFLint and its AWS ruleset (a plugin binary TFLint loads from
# TFLINT_PLUGIN_DIR), pinned in tools/tflint/go.mod.
TFLINT        := bin/tflint
TFLINT_PLUGIN := bin/tflint-plugins/tflint-ruleset-aws
$(TFLINT) $(TFLINT_PLUGIN) &: tools/tflint/go.mod tools/tflint/go.sum
	cd tools/tflint && go build -o ../../bin/ github.com/terraform-linters/tflint && \
	  go build -o ../../$(TFLINT_PLUGIN) github.com/terraform-linters/tflint-ruleset-aws
	@touch $(TFLINT) $(TFLINT_PLUGIN)

TOOL_BINS := $(TRIVY) $(ACTIONLINT) $(STATICCHK) $(PROMTOOL) $(AMTOOL) $(AMINHIBIT) $(TFLINT) $(TFLINT_PLUGIN)

tools: $(TOOL_BINS) ## Build the pinned scanners, linters (TFLint with its AWS ruleset), promtool, amtool and aminhibit into bin/

rules: $(PROMTOOL) ## promtool check + unit tests of the alert rules
	cd $(RULES_DIR) && ../../../$(PROMTOOL) check rules platform.rules.yaml edge.rules.yaml && ../../../$(PROMTOOL) test rules platform.rules.test.yaml edge.rules.test.yaml

# Every Go test suite: the app's packages (unit, golden, policy, IAM and
# the operator CLI against moto_server), the charts, the NATS authorization
# rules and the services. make test runs them afresh ($(1) = -count=1);
# make check lets Go's test cache skip what did not change.
define go-tests
	$(STACKRUN) with-moto -- go test $(1) $(PKGS)
	cd helm && go test $(1) ./...
	cd edge/natstest && go test $(1) ./...
	$(STACKRUN) with-moto -- sh -c 'for m in $(SERVICE_MODULES); do echo "== services/$$m"; (cd services/$$m && go test $(1) ./...) || exit 1; done'
endef

# The loop to run while editing (docs: README "While you edit"): the same
# Go test suites as make test, cached, without building or running the
# scanners, linters, Terraform validation or the emulated deploy. The
# alert-routing tests run when bin/amtool is built and skip otherwise.
check: check-envs gen ## Fast loop while editing: unit, golden, policy, chart and IAM tests (Go's test cache skips what did not change)
	$(call go-tests,)

# The alert-routing tests (tests/alerting_test.go) run these binaries and
# fail when they are missing; outside make they look in bin/.
test: export AMTOOL := $(abspath $(AMTOOL))
test: export AMINHIBIT := $(abspath $(AMINHIBIT))
test: export TFLINT := $(abspath $(TFLINT))
test: export TFLINT_PLUGIN_DIR := $(abspath $(dir $(TFLINT_PLUGIN)))
test: check-envs gen tools ## Run everything CI runs: unit, golden, policy and chart tests, alert routing (amtool), linters, actionlint, Trivy, validate, e2e
	$(call go-tests,-count=1)
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory rules
	$(ACTIONLINT) -color=false
	@echo "actionlint: $$(ls .github/workflows/*.yml | wc -l) workflows clean"
	$(MAKE) --no-print-directory scan
	$(MAKE) --no-print-directory tflint
	$(MAKE) --no-print-directory validate
	$(MAKE) --no-print-directory e2e

update-golden: gen ## Refresh tests/testdata and docs/cicd.md's evaluated role table after an intended change; review the diff
	go test ./tests -run 'TestGolden|TestIAMRoleTableInTheDocs' -update

scan: synth-hcl $(TRIVY) ## Trivy misconfiguration scan of the HCL; fails on HIGH/CRITICAL
	$(TRIVY) config --quiet --skip-check-update --skip-version-check --disable-telemetry \
	  --severity HIGH,CRITICAL --exit-code 1 --ignorefile .trivyignore.yaml $(HCL_OUT)
	@echo "trivy: no HIGH or CRITICAL misconfiguration in $(HCL_OUT)"

# TFLint over the synthesized HCL of every stack, with the AWS ruleset
# (.tflint.hcl says which rules and why); runs after scan, which writes it.
tflint: $(TFLINT) $(TFLINT_PLUGIN) ## TFLint (AWS ruleset) over the HCL of every stack in cdktf.out.hcl/ (run make synth-hcl first; make test does)
	@test -d $(HCL_OUT)/stacks || { echo "no $(HCL_OUT)/stacks: run make synth-hcl first" >&2; exit 2; }
	TFLINT_PLUGIN_DIR=$(abspath $(dir $(TFLINT_PLUGIN))) $(TFLINT) --recursive --chdir=$(HCL_OUT) --config=$(abspath .tflint.hcl) --format=compact
	@echo "tflint: $$(ls -d $(HCL_OUT)/stacks/*/ | wc -l) stacks clean"

lint: gen $(STATICCHK) ## gofmt, go vet and staticcheck
	@files=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$files" ]; then echo "gofmt needed:"; echo "$$files"; exit 1; fi
	go vet $(PKGS)
	$(STATICCHK) $(PKGS)
	cd helm && go vet ./... && ../$(STATICCHK) ./...
	cd edge/natstest && go vet ./... && ../../$(STATICCHK) ./...
	for m in $(SERVICE_MODULES); do (cd services/$$m && go vet ./... && ../../$(STATICCHK) ./...) || exit 1; done
	cd tools/prometheus && go vet ./... && ../../$(STATICCHK) ./...

# Terraform over the synthesized stacks (cmd/stackrun). validate and e2e need
# Terraform >= 1.10 and a hashicorp/aws provider mirror (TF_PLUGIN_DIR or a
# well-known location); without them they print one SKIPPED line, which
# REQUIRE_E2E=1 (set by .ci/run) turns into a failure.
validate: synth plugin-cache ## terraform init (offline, from the provider mirror) + validate of every stack whose providers are mirrored
	$(STACKRUN) validate

e2e: check-envs gen plugin-cache ## Emulated deploy of dev's AWS-side stacks to moto_server: bootstrap, apply in order, re-plan, destroy (E2E_ENV=dev)
	$(STACKRUN) e2e -env $(or $(E2E_ENV),dev)

bootstrap: require-env check-envs gen plugin-cache ## Deploy <env>-state and move its own state into the bucket it creates: make bootstrap ENV=dev (AWS credentials)
	ENV=$(ENV) go run . >/dev/null
	$(STACKRUN) bootstrap -env $(ENV)

diff: require-stack check-envs gen plugin-cache ## cdktf diff one stack: make diff STACK=dev-network (needs AWS credentials and terraform)
	npx --no-install cdktf diff $(STACK)

deploy: require-stack check-envs gen plugin-cache ## cdktf deploy one stack: make deploy STACK=dev-network (needs AWS credentials and terraform)
	npx --no-install cdktf deploy $(STACK)

stacks: check-envs gen ## Print the stack ids of ENV (or of every env) in deploy order; read-only, writes nothing
	@$(LIST_STACKS)

# Stacks CI never deploys: state (local state, bootstrap) and cicd (CI's own
# access). A human with the bootstrap admin role deploys them.
HUMAN_ONLY := -state$$|-cicd$$

# The aggregate targets take their list from the read-only listing and stop
# at the first failing step with its error and a non-zero exit, so CI never
# reports success for work that did not happen.
diff-all: require-env check-envs gen plugin-cache ## cdktf diff every stack of ENV (except state) in deploy order; stops at the first failure; DIFF_REPORT=file collects a Markdown report
	@ids=$$($(LIST_STACKS)); \
	report=$${DIFF_REPORT:-/dev/stdout}; echo "### $(ENV)" > "$$report"; \
	for s in $$(grep -v -- '-state$$' <<<"$$ids" || true); do \
	  echo "==> cdktf diff $$s" >&2; \
	  if ! out=$$(npx --no-install cdktf diff "$$s" 2>&1); then \
	    grep -v '^!!' <<<"$$out" >&2 || true; echo "error: cdktf diff $$s failed; later stacks were not diffed" >&2; exit 1; \
	  fi; \
	  { echo "<details><summary>$$s</summary>"; echo; echo '```'; grep -v '^!!' <<<"$$out" | tail -n 200 || true; echo '```'; echo '</details>'; } >> "$$report"; \
	done

deploy-all: require-env check-envs gen plugin-cache ## cdktf deploy every stack of ENV in order, except state and cicd; stops at the first failure
	@ids=$$($(LIST_STACKS)); \
	for s in $$(grep -Ev -- '$(HUMAN_ONLY)' <<<"$$ids" || true); do \
	  echo "==> cdktf deploy $$s" >&2; \
	  npx --no-install cdktf deploy "$$s" --auto-approve || { echo "error: cdktf deploy $$s failed; later stacks were not deployed" >&2; exit 1; }; \
	done

clean: ## Remove generated output (keeps bootstrap/ state and node_modules)
	rm -rf $(OUT) $(HCL_OUT) .gen bin .e2e .terraform.d
