# scaleguard — see README.md.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

GO ?= go
BIN := bin
TEST_TIMEOUT ?= 25m

.PHONY: all build test unit integration verify envtest-assets demo docs manifests generate fuzz clean bench bench-smoke

all: build

## build: compile bin/scaleguard (stamped with the commit it is built from, whatever GOFLAGS says)
build:
	$(GO) build -buildvcs=auto -o $(BIN)/scaleguard ./cmd/scaleguard

## test: vet, generated-file checks, unit tests, a short fuzz pass, each benchmark once at a tiny size, integration tests against a real kube-apiserver
test: verify unit fuzz bench-smoke integration

## unit: every test except the control-plane suite
unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /test/integration)

## integration: the webhook through a real kube-apiserver and etcd (built into bin/k8s on first use)
integration: envtest-assets
	KUBEBUILDER_ASSETS="$$(./hack/envtest-assets.sh)" $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./test/integration/...

## fuzz: a short fuzz pass over the manifest reader and editor, the PromQL query checker, the object and review decoders against the ones they stand in for, and whole AdmissionReview bodies through the webhook's HTTP handler
## Each pass is bounded by a number of inputs, not by a duration: go1.26's fuzz
## coordinator can report its own -fuzztime deadline as a failure when workers
## are still busy at that moment (go.dev/issue/75804). FUZZ_SCALE multiplies
## the counts for a longer pass (make fuzz FUZZ_SCALE=20).
FUZZ_SCALE ?= 1
FUZZ_FLAGS = -run '^$$' -timeout 10m
fuzz:
	$(GO) test ./internal/manifests $(FUZZ_FLAGS) -fuzz FuzzParse -fuzztime $$((5000 * $(FUZZ_SCALE)))x
	$(GO) test ./internal/manifests $(FUZZ_FLAGS) -fuzz FuzzEdit -fuzztime $$((5000 * $(FUZZ_SCALE)))x
	$(GO) test ./policies/promql $(FUZZ_FLAGS) -fuzz FuzzCheckQuery -fuzztime $$((3000 * $(FUZZ_SCALE)))x
	$(GO) test ./apis $(FUZZ_FLAGS) -fuzz FuzzDecodeExact -fuzztime $$((3000 * $(FUZZ_SCALE)))x
	$(GO) test ./webhooks $(FUZZ_FLAGS) -fuzz FuzzUnmarshalV1 -fuzztime $$((3000 * $(FUZZ_SCALE)))x
	$(GO) test ./webhooks $(FUZZ_FLAGS) -fuzz FuzzAdmissionReview -fuzztime $$((3000 * $(FUZZ_SCALE)))x

## verify: go vet, gofmt, and generated files (deepcopy, CRD, sample policy, RBAC, docs/rules.md, config/webhook/manifests.yaml) up to date
verify:
	$(GO) vet ./...
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*'))"; \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	./hack/verify-generated.sh

## bench: the benchmarks of BENCHMARKS.md at its sizes (tens of minutes; output in bin/bench). make test runs each once at a tiny size.
BENCH_VIEW ?= 10000
BENCH_SIZES ?= 100,1000,10000
BENCH_POPULATION ?= 10000
BENCH_CREATES ?= 2000
BENCH_CREATE_BLOCKS ?= 4
BENCH_CREATE_CONCURRENCY ?= 8
BENCH_BLOCK ?= 3s
BENCH_ROUNDS ?= 3
bench: envtest-assets
	@mkdir -p $(BIN)/bench
	SCALEGUARD_BENCH_VIEW=$(BENCH_VIEW) SCALEGUARD_BENCH_SIZES=$(BENCH_SIZES) \
	  $(GO) test ./internal/bench -run '^$$' -bench . -benchmem -timeout 60m | tee $(BIN)/bench/rules.txt
	for m in transform none; do \
	  KUBEBUILDER_ASSETS="$$(./hack/envtest-assets.sh)" SCALEGUARD_BENCH_POPULATION=$(BENCH_POPULATION) SCALEGUARD_BENCH_MEMORY=$$m \
	    $(GO) test ./test/integration/bench -run '^TestMemory$$' -count=1 -v -timeout 60m | tee $(BIN)/bench/memory-$$m.txt; \
	done
	KUBEBUILDER_ASSETS="$$(./hack/envtest-assets.sh)" SCALEGUARD_BENCH_POPULATION=$(BENCH_POPULATION) \
	  SCALEGUARD_BENCH_CREATES=$(BENCH_CREATES) SCALEGUARD_BENCH_CREATE_BLOCKS=$(BENCH_CREATE_BLOCKS) \
	  SCALEGUARD_BENCH_CREATE_CONCURRENCY=$(BENCH_CREATE_CONCURRENCY) SCALEGUARD_BENCH_BLOCK=$(BENCH_BLOCK) SCALEGUARD_BENCH_ROUNDS=$(BENCH_ROUNDS) \
	  $(GO) test ./test/integration/bench -run 'TestHTTPSAdmission|TestThroughAPIServer' -count=1 -v -timeout 90m | tee $(BIN)/bench/serve.txt

## bench-smoke: every Go benchmark run once over a tiny view (seconds), so that the benchmarks keep working; never a timing verdict. The serve benchmarks (test/integration/bench) run at tiny sizes in integration.
bench-smoke:
	SCALEGUARD_BENCH_VIEW=20 SCALEGUARD_BENCH_SIZES=20 $(GO) test -count=1 ./internal/bench ./policies/... -run '^$$' -bench . -benchtime 1x

## envtest-assets: build kube-apiserver and etcd into bin/k8s (skipped when KUBEBUILDER_ASSETS is set)
envtest-assets:
	@./hack/envtest-assets.sh >/dev/null

## demo: a local control plane with scaleguard in front, the examples applied through it; Ctrl-C to stop
demo: build envtest-assets
	$(BIN)/scaleguard dev --examples examples $(if $(KUBECONFIG_OUT),--kubeconfig-out $(KUBECONFIG_OUT),)

## docs: regenerate docs/rules.md from the registered rules
docs:
	$(GO) run ./cmd/scaleguard rules -o markdown > docs/rules.md

## manifests: regenerate config/webhook/manifests.yaml (and the Helm chart's copy) from the dispatch table and the registered rules
manifests:
	$(GO) run ./cmd/scaleguard manifests > config/webhook/manifests.yaml
	cp config/webhook/manifests.yaml charts/scaleguard/files/webhooks.yaml

## generate: regenerate deepcopy functions of the local API types, the ScaleGuardPolicy CRD (config/crd), the sample policy (config/samples) and the RBAC of serve (config/rbac, config/certmanager) from its markers
generate:
	./hack/generate.sh

clean:
	rm -rf $(BIN)/scaleguard

help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## //'
