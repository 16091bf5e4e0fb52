# SPDX-License-Identifier: Apache-2.0
#
# Interlock's build. Every target works on a fresh Debian machine as root
# once `make deps` (or .ci/run) has installed the system packages.

GO        ?= go
PROTOC    ?= protoc
BIN       ?= bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/interlockhq/interlock/internal/version.Version=$(VERSION)
PKGS      := ./...
# Tests build once per package; packages run in parallel, two at a time here.
TESTFLAGS ?= -count=1 -timeout 15m

PROTO_DIR   := proto
PROTO_FILES := $(wildcard $(PROTO_DIR)/interlock/v1/*.proto)

# The policy `make up` enforces.
POLICY    ?= deploy/kubernetes/base/policy.yaml

IMAGE     ?= ghcr.io/interlockhq/interlock
CONTAINER ?= $(shell command -v docker || command -v podman)

.PHONY: demo up all build image generate generate-proto check-generated lint test bench deps clean

all: build

## build: the interlock binary in bin/
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/interlock ./cmd/interlock

## image: the container image the Kubernetes manifests run (needs docker or podman)
image:
	@test -n "$(CONTAINER)" || { echo "make image needs docker or podman" >&2; exit 1; }
	$(CONTAINER) build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(VERSION) .

## demo: the demo — fake Azure, an unmodified SDK agent, every outcome (as root)
demo: deps build
	@if [ "$$(id -u)" != 0 ]; then echo "make demo needs root: sudo make demo" >&2; exit 1; fi
	./$(BIN)/interlock up --demo

## up: run Interlock on this machine (control plane + node, as root)
up: deps build
	@if [ "$$(id -u)" != 0 ]; then echo "make up needs root: sudo make up" >&2; exit 1; fi
	./$(BIN)/interlock up --policy $(POLICY) --data-dir /var/lib/interlock

## generate: regenerate committed code (protobuf, bpf2go)
generate: generate-proto
	$(GO) generate ./...

generate-proto:
	$(PROTOC) -I $(PROTO_DIR) \
		--plugin=protoc-gen-go=$$($(GO) tool -n protoc-gen-go) \
		--plugin=protoc-gen-go-grpc=$$($(GO) tool -n protoc-gen-go-grpc) \
		--go_out=$(PROTO_DIR) --go_opt=paths=source_relative \
		--go-grpc_out=$(PROTO_DIR) --go-grpc_opt=paths=source_relative \
		$(PROTO_FILES)
	@# Session events are marshalled on the proxies' hot path (the spool):
	@# vtprotobuf's generated code does it without reflection.
	$(PROTOC) -I $(PROTO_DIR) \
		--plugin=protoc-gen-go-vtproto=$$($(GO) tool -n protoc-gen-go-vtproto) \
		--go-vtproto_out=$(PROTO_DIR) --go-vtproto_opt=paths=source_relative,features=marshal+size \
		$(PROTO_DIR)/interlock/v1/events.proto

## check-generated: fail when committed generated code is stale
check-generated: generate
	@git diff --exit-code -- '*.pb.go' '*_bpfel.go' '*_bpfel.o' 'l7proxy/postgres/internal/saslprep/tables.go' || \
		{ echo "generated code is stale: run 'make generate' and commit" >&2; exit 1; }
	@test -z "$$(git status --porcelain -- '*.pb.go' '*_bpfel.go' '*_bpfel.o')" || \
		{ echo "generated files not committed:" >&2; git status --porcelain -- '*.pb.go' '*_bpfel.go' '*_bpfel.o' >&2; exit 1; }

## lint: gofmt, go.mod tidy, go vet, staticcheck (pinned in go.mod's tool block)
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
		if [ -n "$$out" ]; then echo "gofmt would change:" >&2; echo "$$out" >&2; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

## test: every test, unit and end-to-end; needs root (eBPF, namespaces, cgroups)
test: deps
	@if [ "$$(id -u)" != 0 ]; then echo "make test needs root: sudo make test" >&2; exit 1; fi
	@# bpffs where systemd would mount it; test packages run in parallel and share it.
	@mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	$(GO) test $(TESTFLAGS) $(PKGS)

## bench: the Go benchmarks that exist (figures are printed, never asserted)
bench:
	$(GO) test -run '^$$' -bench . -benchmem $$($(GO) list ./... | grep -v /bench$$)
	@# bench/ runs whole scenarios per iteration (1 GiB streams, 20,000 connects).
	$(GO) test -run '^$$' -bench . -benchtime 3x ./bench/

## deps: install the system packages the build and tests use (Debian, as root)
deps:
	./scripts/install-deps.sh

clean:
	rm -rf $(BIN)
