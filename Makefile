# The README's commands. Each installs what it needs first (e2e/toolchain.sh
# is idempotent and takes well under a second once done).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
TOOLCHAIN = . "$$(bash e2e/toolchain.sh)"

.PHONY: build demo sandbox test unit e2e bench

build:
	go build -o bin/ppg .

# Start the local sandbox (EA and GA databases, a gateway) and migrate it.
demo:
	bash e2e/demo.sh

# Only the sandbox, printing its keys, until Ctrl-C.
sandbox:
	$(TOOLCHAIN) && go run ./e2e/cmd/sandbox

# Everything: formatting, vet, cross builds, unit tests, end-to-end tests.
test:
	$(TOOLCHAIN) && $(MAKE) --no-print-directory unit e2e

unit:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	go vet ./...
	go vet -tags e2e ./...
	GOOS=darwin go build -o /dev/null ./...
	GOOS=windows go build -o /dev/null ./...
	go test -race -count=1 ./...

e2e:
	go test -tags e2e -count=1 -timeout 60m ./e2e/...

# Benchmarks with recorded numbers (not part of the test run).
bench:
	$(TOOLCHAIN) && go test -tags e2e -run '^$$' -bench . -benchtime 1x -timeout 60m ./e2e/
