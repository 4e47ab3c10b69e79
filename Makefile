# The README's commands. Each installs what it needs first (e2e/toolchain.sh
# is idempotent and takes well under a second once done).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# The toolchain's env file is sourced only when the script succeeded, so a
# failure shows the script's own message and nothing after it.
TOOLCHAIN = toolchain_env=$$(bash e2e/toolchain.sh) && . "$$toolchain_env"

# Stamped into the binary; ppg version prints them.
VERSION ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || echo 0.0.0-dev)
COMMIT ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
DATE ?= $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS = -X main.version=$(VERSION:v%=%) -X main.commit=$(COMMIT) -X main.date=$(DATE)
# The oldest Go release go.mod allows; make unit builds with it too.
GO_MIN = go1.25.0

.PHONY: build install dist dist-check demo sandbox test toolchain-check unit lint fuzz e2e bench

build:
	go build -ldflags "$(LDFLAGS)" -o bin/ppg .

install:
	go install -ldflags "$(LDFLAGS)" .

# Release archives for Linux, macOS and Windows (amd64, arm64) in dist/.
dist:
	bash scripts/dist.sh

# Start the local sandbox (EA and GA databases, a gateway) and migrate it.
demo:
	bash e2e/demo.sh

# Only the sandbox, printing its keys, until Ctrl-C.
sandbox:
	$(TOOLCHAIN) && go run ./e2e/cmd/sandbox

# Everything: the toolchain's own check, formatting, vet, release archives,
# unit tests, fuzzing, end-to-end tests.
test:
	$(MAKE) --no-print-directory toolchain-check
	$(TOOLCHAIN) && $(MAKE) --no-print-directory unit fuzz dist-check e2e

# The PostgreSQL 17 client tools build from the pinned source on a machine
# without them, and a broken pin fails (about 80 s).
toolchain-check:
	bash e2e/toolchain_check.sh

# make dist, then the archives are checked as a user would use them.
dist-check:
	bash scripts/dist_check.sh

unit:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	go vet ./...
	go vet -tags e2e ./...
	$(MAKE) --no-print-directory lint
	GOTOOLCHAIN=$(GO_MIN) go build -o /dev/null ./...
	go test -race -count=1 ./...

# staticcheck and errcheck, default and e2e builds, then the ratchet:
# complexity (gocyclo, gocognit), function length (tools/funlen) and
# exhaustive switches, at today's worst (tools/lint.sh; the linters' versions are in
# tools/go.mod, not in the main go.mod).
lint:
	bash tools/lint.sh

# Each fuzz target (key parser, startup negotiation, verbose-line and TOC
# parsers, version parser, state decoder) for FUZZTIME (default 10 s), after
# its committed corpus.
fuzz:
	bash scripts/fuzz.sh

e2e:
	go test -tags e2e -count=1 -timeout 60m ./e2e/...

# Benchmarks with recorded numbers (not part of the test run).
bench:
	$(TOOLCHAIN) && go test -tags e2e -run '^$$' -bench . -benchtime 1x -timeout 120m -v ./e2e/
