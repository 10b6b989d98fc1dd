#!/usr/bin/env bash
# Builds Concord (release) and starts one node serving Redis clients on 127.0.0.1:6379, with its
# data in ./concord-data. Extra arguments go to `concord server` (see `concord server --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin concord
exec target/release/concord server "$@"
