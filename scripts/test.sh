#!/usr/bin/env bash
# Runs the whole test suite: formatting, lints, the core's purity, then every test (unit,
# conformance against the real binary, crash and recovery). This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "== format"; cargo fmt --all -- --check
echo "== lints"; cargo clippy --locked --all-targets -- -D warnings
echo "== core purity"; scripts/check-core.sh
echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --locked --workspace --no-fail-fast
else
  cargo test --locked --workspace --no-fail-fast
fi
