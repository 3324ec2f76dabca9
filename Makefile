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
ACTIONLINT := bin/actionlint
STATICCHK  := bin/staticcheck
STACK      ?=
# Go packages of this module; node_modules ships a stray Go package (flatted)
# that is not ours to build, test or lint.
PKGS        = $$(go list ./... | grep -v /node_modules/)

.PHONY: help gen build synth synth-hcl test unit golden policy scan lint update-golden diff deploy clean tools

help: ## List the targets and what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(GEN_STAMP): $(NODE_STAMP)
	rm -rf .gen/go
	npx --no-install jsii-pacmak --targets go --code-only --outdir .gen \
	  node_modules/@cdktf/provider-helm node_modules/@cdktf/provider-kubernetes 2>/dev/null
	@touch $@

gen: $(GEN_STAMP) ## Generate the helm and kubernetes provider bindings into .gen/ (pinned npm packages)

build: gen ## Compile the app and tests
	go build $(PKGS)
	go test -count=1 -run '^$$' $(PKGS) >/dev/null

synth: gen ## Synthesize every stack of every env (or ENV=dev) into cdktf.out/
	go run .

synth-hcl: gen ## Synthesize HCL (what Trivy scans) into cdktf.out.hcl/
	npx --no-install cdktf synth --hcl --output $(HCL_OUT) 2>/dev/null | grep -v '^$$' | tail -n 3

$(TRIVY) $(ACTIONLINT) $(STATICCHK) &: tools/go.mod tools/go.sum
	cd tools && GOEXPERIMENT=jsonv2 go build -o ../bin/ \
	  github.com/aquasecurity/trivy/cmd/trivy \
	  github.com/rhysd/actionlint/cmd/actionlint \
	  honnef.co/go/tools/cmd/staticcheck
	@touch $(TRIVY) $(ACTIONLINT) $(STATICCHK)

tools: $(TRIVY) $(ACTIONLINT) $(STATICCHK) ## Build the pinned scanners and linters into bin/

test: gen tools ## Run everything CI runs: unit, golden, policy tests, lint and the Trivy scan
	go test -count=1 $(PKGS)
	$(MAKE) --no-print-directory lint
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

diff: gen ## cdktf diff one stack: make diff STACK=dev-network (needs AWS credentials and terraform)
	@test -n "$(STACK)" || { echo "set STACK, e.g. make diff STACK=dev-network"; exit 2; }
	npx --no-install cdktf diff $(STACK)

deploy: gen ## cdktf deploy one stack: make deploy STACK=dev-network (needs AWS credentials and terraform)
	@test -n "$(STACK)" || { echo "set STACK, e.g. make deploy STACK=dev-state"; exit 2; }
	npx --no-install cdktf deploy $(STACK)

clean: ## Remove generated output (keeps bootstrap/ state and node_modules)
	rm -rf $(OUT) $(HCL_OUT) .gen bin
