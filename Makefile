# spatialprops-infra: every target is self-contained on a fresh clone; it
# installs the pinned Node tools, generates provider bindings and builds the
# pinned scanners on first use. `make` alone lists the targets.

SHELL         := bash
.SHELLFLAGS   := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The cdktf CLI and Terraform must not phone home (no network here or in CI).
export CHECKPOINT_DISABLE := 1
export DISABLE_VERSION_CHECK := 1
export CDKTF_DISABLE_PLUGIN_CACHE_ENV := 1

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
# Go packages of this module; node_modules ships a stray Go package (flatted)
# that is not ours to build, test or lint.
PKGS        = $$(go list ./... | grep -v /node_modules/)

.PHONY: help gen build synth synth-hcl test scan lint rules update-golden diff deploy diff-all deploy-all stacks clean tools

help: ## List the targets and what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(GEN_STAMP): $(NODE_STAMP)
	rm -rf .gen/go
	npx --no-install jsii-pacmak --targets go --code-only --outdir .gen \
	  node_modules/@cdktf/provider-helm node_modules/@cdktf/provider-kubernetes \
	  node_modules/@cdktf/provider-random 2>/dev/null
	@touch $@

gen: $(GEN_STAMP) ## Generate the helm, kubernetes and random provider bindings into .gen/ (pinned npm packages)

build: gen ## Compile the app and tests
	go build $(PKGS)
	go test -count=1 -run '^$$' $(PKGS) >/dev/null

synth: gen ## Synthesize every stack of every env (or ENV=dev) into cdktf.out/
	go run .

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

TOOL_BINS := $(TRIVY) $(ACTIONLINT) $(STATICCHK) $(PROMTOOL) $(AMTOOL) $(AMINHIBIT)

tools: $(TOOL_BINS) ## Build the pinned scanners, linters, promtool, amtool and aminhibit into bin/

rules: $(PROMTOOL) ## promtool check + unit tests of the alert rules
	cd $(RULES_DIR) && ../../../$(PROMTOOL) check rules platform.rules.yaml && ../../../$(PROMTOOL) test rules platform.rules.test.yaml

# The alert-routing tests (tests/alerting_test.go) run these binaries and
# fail when they are missing; outside make they look in bin/.
test: export AMTOOL := $(abspath $(AMTOOL))
test: export AMINHIBIT := $(abspath $(AMINHIBIT))
test: gen tools ## Run everything CI runs: unit, golden, policy and chart tests, alert routing (amtool), linters, actionlint, Trivy
	go test -count=1 $(PKGS)
	cd helm && go test -count=1 ./...
	cd edge/natstest && go test -count=1 ./...
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory rules
	$(ACTIONLINT) -color=false
	@echo "actionlint: $$(ls .github/workflows/*.yml | wc -l) workflows clean"
	$(MAKE) --no-print-directory scan

update-golden: gen ## Refresh tests/testdata after an intended change; review the diff
	go test ./tests -run TestGolden -update

scan: synth-hcl $(TRIVY) ## Trivy misconfiguration scan of the HCL; fails on HIGH/CRITICAL
	$(TRIVY) config --quiet --skip-check-update --skip-version-check --disable-telemetry \
	  --severity HIGH,CRITICAL --exit-code 1 --ignorefile .trivyignore.yaml $(HCL_OUT)
	@echo "trivy: no HIGH or CRITICAL misconfiguration in $(HCL_OUT)"

lint: gen $(STATICCHK) ## gofmt, go vet and staticcheck
	@files=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$files" ]; then echo "gofmt needed:"; echo "$$files"; exit 1; fi
	go vet $(PKGS)
	$(STATICCHK) $(PKGS)
	cd helm && go vet ./... && ../$(STATICCHK) ./...
	cd edge/natstest && go vet ./... && ../../$(STATICCHK) ./...
	cd tools/prometheus && go vet ./... && ../../$(STATICCHK) ./...

diff: gen ## cdktf diff one stack: make diff STACK=dev-network (needs AWS credentials and terraform)
	@test -n "$(STACK)" || { echo "set STACK, e.g. make diff STACK=dev-network"; exit 2; }
	npx --no-install cdktf diff $(STACK)

deploy: gen ## cdktf deploy one stack: make deploy STACK=dev-network (needs AWS credentials and terraform)
	@test -n "$(STACK)" || { echo "set STACK, e.g. make deploy STACK=dev-state"; exit 2; }
	npx --no-install cdktf deploy $(STACK)

stacks: gen ## Print ENV's stack ids in deploy order (ENV=dev make stacks)
	@go run . 2>/dev/null | awk '/^synthesized /{print $$2}'

# Stacks CI never deploys: state (local state, bootstrap) and cicd (CI's own
# access). A human with the bootstrap admin role deploys them.
HUMAN_ONLY := -state$$|-cicd$$

diff-all: gen ## cdktf diff every stack of ENV in deploy order; DIFF_REPORT=file collects a Markdown report
	@test -n "$$ENV" || { echo "set ENV, e.g. ENV=dev make diff-all"; exit 2; }
	@report=$${DIFF_REPORT:-/dev/stdout}; echo "### $$ENV" > $$report; \
	for s in $$($(MAKE) --no-print-directory stacks | grep -v -- '-state$$'); do \
	  echo "<details><summary>$$s</summary>"; echo; echo '```'; \
	  npx --no-install cdktf diff "$$s" 2>&1 | grep -v '^!!' | tail -n 200; \
	  echo '```'; echo '</details>'; \
	done >> $$report

deploy-all: gen ## cdktf deploy every stack of ENV in order, except state and cicd
	@test -n "$$ENV" || { echo "set ENV, e.g. ENV=dev make deploy-all"; exit 2; }
	for s in $$($(MAKE) --no-print-directory stacks | grep -Ev -- '$(HUMAN_ONLY)'); do \
	  npx --no-install cdktf deploy "$$s" --auto-approve || exit 1; \
	done

clean: ## Remove generated output (keeps bootstrap/ state and node_modules)
	rm -rf $(OUT) $(HCL_OUT) .gen bin
