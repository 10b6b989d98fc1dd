#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain: cargo-nextest when it is missing
# (optional; the suite falls back to cargo test) and, as root, the Debian packages for real
# network partitions (`ip` from iproute2, `nft` from nftables) that `concord verify --faults
# netns` uses, and a C compiler (the mimalloc allocator is built from C; Rust links with `cc`
# anyway). Safe to run again.
set -euo pipefail
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  command -v cc >/dev/null || missing+=(gcc)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v nft >/dev/null || missing+=(nftables)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]} (Debian packages)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null
  fi
fi
