# buildslave — a Buildbot worker in one Go binary.
#
#   make demo    build, start a throwaway local Buildbot master, connect a
#                worker, run a build and show its result
#   make test    vet, unit tests, fuzz seeds and real-master tests, with -race
#   make fuzz    run every fuzz target for FUZZTIME each

VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/buildslave
FUZZTIME ?= 60s
GO       ?= go

.PHONY: all build test vet fuzz demo clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/buildslave

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# The real-master tests live beside the code they exercise and in
# ./integration; they need Debian's buildbot and buildbot-worker packages
# (.ci/run installs them).
test: vet build
	$(GO) test -race -timeout 20m ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./protocol/banana/
	$(GO) test -run '^$$' -fuzz '^FuzzUnjelly$$' -fuzztime $(FUZZTIME) ./protocol/jelly/

demo: build
	$(GO) run ./scripts/demo -buildslave $(BIN)

clean:
	rm -rf bin
