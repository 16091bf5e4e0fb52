#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# install-deps.sh installs, on Debian or Ubuntu as root, the system packages
# that Interlock's build, tests and demo use. It installs only what is
# missing, so it costs a second when everything is there.
set -euo pipefail

# What each package is for:
#   clang, llvm, libbpf-dev        make generate: bpf2go compiles bpf/interlock.c
#   postgresql, postgresql-client  test/pgtest starts real servers; psql is a test client
#   protobuf-compiler              make generate (proto/)
#   iproute2                       test/podsim and troubleshooting (ip netns, ip link)
#   util-linux, mount              podsim's per-workload mount namespace (unshare, mount)
#   ca-certificates, git, make     the build itself
#   curl                           a real TLS client in l7proxy/tlsterm tests
#   nginx                          bench/: the reverse proxy BenchmarkHTTPS compares Interlock with
#   pgbouncer                      bench/: the PostgreSQL proxy BenchmarkPostgres compares Interlock with
#   python3                        make generate: SASLprep's tables (RFC 3454) from Python's stringprep
packages=(
	clang llvm libbpf-dev
	postgresql postgresql-client
	protobuf-compiler
	iproute2 util-linux mount
	ca-certificates curl git make
	nginx pgbouncer
	python3
)

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: run as root (sudo make deps)" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null; then
	echo "install-deps: no apt-get; install by hand: ${packages[*]}" >&2
	exit 1
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's postgresql package creates and starts a cluster of its own; the
# tests never use it (pgtest starts throwaway servers), so leave it alone.
# Likewise pgbouncer's own service: BenchmarkPostgres starts its own
# pgbouncer from a generated configuration on a random loopback port.

# Go: the toolchain named in go.mod is fetched through the module proxy by
# the go command itself (GOTOOLCHAIN=auto), so any Go >= 1.21 will do.
if ! command -v go >/dev/null; then
	if [ -x /usr/local/go/bin/go ]; then
		echo "install-deps: Go is at /usr/local/go/bin; add it to PATH" >&2
		exit 1
	fi
	echo "install-deps: installing golang-go (it fetches the toolchain go.mod names)"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends golang-go >/dev/null
fi
echo "install-deps: ok"
