# buildslave — a Buildbot worker in one Go binary.
#
#   make demo    build, start a throwaway local Buildbot master, connect a
#                worker, run a build and show its result
#   make test    vet, cross-compilation, unit tests, fuzz seeds and
#                real-master tests, with -race
#   make fuzz    run every fuzz target for FUZZTIME each
#   make bench   this worker beside the Python worker on one real master
#   make cross   the binary for every supported system

VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/buildslave
FUZZTIME ?= 60s
GO       ?= go

.PHONY: all build cross test test-windows vet fuzz demo bench clean

all: build

# Static (no cgo): nothing needs the C library, and without it an idle
# worker holds 1.5 MB less (make bench, idle RSS 10.9 -> 9.4 MB).
build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/buildslave

# The fleet allocator, the second program: make build makes both.
SLAVEALLOC := bin/slavealloc
.PHONY: slavealloc
build: slavealloc
slavealloc:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(SLAVEALLOC) ./cmd/slavealloc

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# The real-master tests live beside the code they exercise and in
# ./integration; they need Debian's buildbot and buildbot-worker packages
# (.ci/run installs them). -count=1: the integration tests build the binary
# themselves, a dependency Go's test cache cannot see.
test: vet build cross test-windows
	$(GO) test -race -count=1 -timeout 20m ./...

# test-windows runs the unit tests of the Windows build under Wine
# (Debian's wine64 and gcc-mingw-w64-x86-64; .ci/run installs them), in a
# Wine prefix of the tests' own, made once (see internal/wine). The
# integration tests' Windows subset shares the prefix; what does not run
# under Wine, and why: internal/wine/wineexec/skips.txt, docs/windows.md.
export BUILDSLAVE_WINEPREFIX ?= $(CURDIR)/bin/wine/prefix
WINEEXEC     := $(CURDIR)/bin/wine/wineexec
# Every package but the integration tests (they drive the Windows binary
# under Wine themselves) and the Wine scaffolding.
WINDOWS_PKGS  = $(shell $(GO) list ./... | grep -v -e /integration -e /internal/wine)

test-windows:
	$(GO) build -o $(WINEEXEC) ./internal/wine/wineexec
	GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $(GO) test -count=1 -timeout 10m \
		-overlay "$$($(WINEEXEC) -overlay bin/wine/_overlay)" -exec $(WINEEXEC) $(WINDOWS_PKGS)

# cross builds the binary for every system volunteers run, so that no
# platform's build-tagged files silently break; the binaries land in
# CROSSDIR, named buildslave-GOOS-GOARCH.
CROSSDIR ?= bin/cross
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 freebsd/amd64

cross:
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ $$os = windows ] && ext=.exe; \
		echo "cross: $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -ldflags "$(LDFLAGS)" \
			-o $(CROSSDIR)/buildslave-$$os-$$arch$$ext ./cmd/buildslave || exit 1; \
	done

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./protocol/banana/
	$(GO) test -run '^$$' -fuzz '^FuzzUnjelly$$' -fuzztime $(FUZZTIME) ./protocol/jelly/
	$(GO) test -run '^$$' -fuzz '^FuzzHandle$$' -fuzztime $(FUZZTIME) ./protocol/pb/
	$(GO) test -run '^$$' -fuzz '^FuzzCommandArgs$$' -fuzztime $(FUZZTIME) ./agent/command/
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./protocol/msgpack/
	$(GO) test -run '^$$' -fuzz '^FuzzMasterFrames$$' -fuzztime $(FUZZTIME) ./protocol/msgpack/
	$(GO) test -run '^$$' -fuzz '^FuzzTacRoundTrip$$' -fuzztime $(FUZZTIME) ./config/

# make demo PROTOCOL=msgpack_experimental_v7 shows a worker over msgpack.
PROTOCOL ?= pb
demo: build
	$(GO) run ./scripts/demo -buildslave $(BIN) -protocol $(PROTOCOL)

# Our worker against the Python reference worker on one real master: wall
# time, worker CPU and peak RSS for a large log and large transfers.
bench: build
	$(GO) run ./scripts/bench -buildslave $(BIN)

clean:
	rm -rf bin
