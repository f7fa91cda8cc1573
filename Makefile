# sagebridge. `make help` lists the targets.
GO      ?= go
BIN     := bin/bridge
SHARED  ?= ../shared
FUZZTIME ?= 10s
# Minimising a large new input can take longer than a short run itself.
FUZZFLAGS = -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 3s

.DEFAULT_GOAL := help

.PHONY: help
help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: build
build: ## build bin/bridge (static, no cgo; the Dockerfile's flags)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN) ./cmd/bridge

.PHONY: run
run: build ## run the daemon in dev mode on loopback (data in ./data)
	$(BIN) serve --dev --data ./data

.PHONY: test
test: lint ## unit, conformance-suite and integration tests, then brief fuzzing
	$(GO) test -race -count=1 ./...
	$(MAKE) fuzz

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME
	$(GO) test ./internal/scim/filter $(FUZZFLAGS) -fuzz '^FuzzParse$$'
	$(GO) test ./internal/scim/filter $(FUZZFLAGS) -fuzz '^FuzzParsePatchPath$$'
	$(GO) test ./internal/scim/patch $(FUZZFLAGS) -fuzz '^FuzzApply$$'
	$(GO) test ./internal/mapping $(FUZZFLAGS) -fuzz '^FuzzSanitize$$'
	$(GO) test ./internal/awsemu $(FUZZFLAGS) -fuzz '^FuzzRequest$$'
	$(GO) test ./internal/saml $(FUZZFLAGS) -fuzz '^FuzzACS$$'
	$(GO) test ./internal/saml $(FUZZFLAGS) -fuzz '^FuzzParseXML$$'
	$(GO) test ./internal/saml $(FUZZFLAGS) -fuzz '^FuzzCanonicalize$$'

.PHONY: conformance
conformance: build ## run Okta's SCIM specs against the real daemon (needs $(SHARED))
	SHARED=$(SHARED) BIN=$(BIN) scripts/conformance.sh

.PHONY: bench
bench: build ## Go benchmarks, then a load run against the real daemon
	$(GO) test -run '^$$' -bench . -benchtime 3s ./internal/store/boltstore ./internal/scim/... ./internal/mapping
	$(GO) run ./cmd/scimload -bin $(BIN)
	$(GO) test -run '^$$' -bench 'SignIn|RSA2048Sign' -benchtime 2s -cpu 1,2 ./internal/saml
	$(GO) run ./cmd/syncbench

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff

.PHONY: clean
clean: ## remove build output and the dev data directory
	rm -rf bin data
