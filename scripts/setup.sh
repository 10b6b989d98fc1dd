#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain: cargo-nextest when it is missing
# (optional; the suite falls back to cargo test) and, as root, the Debian packages for real
# network partitions (`ip` from iproute2, `nft` from nftables) that `concord verify --faults
# netns` uses, a C compiler and make (the jemalloc allocator is built from C; Rust links with
# `cc` anyway), and the real cluster clients the sharding tests drive: redis-cli and
# redis-benchmark (redis-tools), and redis-py in a virtual environment beside the build
# (<target>/test-python). `setup.sh build` installs only what building needs (start.sh uses
# it). Safe to run again.
set -euo pipefail
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  command -v cc >/dev/null || missing+=(gcc)
  command -v make >/dev/null || missing+=(make)
  if [ "${1:-}" != build ]; then
    command -v ip >/dev/null || missing+=(iproute2)
    command -v nft >/dev/null || missing+=(nftables)
    command -v redis-benchmark >/dev/null || missing+=(redis-tools)
    command -v python3 >/dev/null || missing+=(python3)
    python3 -c "import ensurepip" 2>/dev/null || missing+=(python3-venv)
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]} (Debian packages)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null
  fi
fi
[ "${1:-}" = build ] && exit 0
target="${CARGO_TARGET_DIR:-target}"
if ! "$target/test-python/bin/python" -c "import redis.cluster" 2>/dev/null; then
  echo "installing redis-py into $target/test-python (for the cluster-client tests)" >&2
  python3 -m venv "$target/test-python"
  "$target/test-python/bin/pip" install -q "redis>=5,<9"
fi
