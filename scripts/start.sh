#!/usr/bin/env bash
# Builds Concord (release) and starts a local cluster of 3 nodes and 3 shards on loopback
# (each shard replicated on every node, leaders spread over them): nodes serve Redis clients on
# 127.0.0.1:6379, 6380 and 6381 (and each other on 16379-16381), with data and logs under
# ./concord-local. Ctrl-C stops every node. Extra arguments go to `concord local` (e.g. --nodes
# 5, --shards 6, --routing redirect); run `target/release/concord server` for a single node.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
cargo build --release --locked --bin concord
exec target/release/concord local "$@"   # defaults: --nodes 3 --shards 3
