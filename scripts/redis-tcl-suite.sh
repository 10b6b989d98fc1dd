#!/usr/bin/env bash
# Runs units of the Redis project's own TCL test suite against a Concord node (a yardstick,
# not part of CI). Needs a checkout of the Redis repository at tag 7.0.15 (for its `tests/`
# and `runtest`) and tclsh:
#
#   scripts/redis-tcl-suite.sh /path/to/redis unit/type/string unit/type/hash ...
#
# Tests that need DEBUG, replication or RDB saving are skipped, as the issue asks.
#
#   AGAINST=redis scripts/redis-tcl-suite.sh ...   runs the same units against a real
#                                                   redis-server instead, for its own count
#   SKIP='/BLPOP|BZ' scripts/redis-tcl-suite.sh ... passes --skiptest patterns on
set -euo pipefail
cd "$(dirname "$0")/.."
redis_tree=$(cd "$1" && pwd); shift
units=("$@")
[ ${#units[@]} -gt 0 ] || units=(unit/type/string unit/type/incr unit/keyspace unit/expire unit/type/hash unit/multi)
command -v tclsh >/dev/null || { apt-get update -qq && apt-get install -y -qq tcl >/dev/null; }
work=$(mktemp -d)
port=${CONCORD_TCL_PORT:-16390}
if [ "${AGAINST:-concord}" = redis ]; then
  redis-server --port "$port" --dir "$work" --save "" --appendonly no --daemonize no >"$work/out" 2>&1 &
else
  cargo build --release --locked --bin concord >&2
  target/release/concord server --port "$port" --node-port $((port + 10000)) --data-dir "$work/data" --log-level warn >"$work/out" 2>&1 &
fi
pid=$!
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
cd "$redis_tree"
for unit in "${units[@]}"; do
  log="$work/$(echo "$unit" | tr / _).log"
  skip=()
  [ -n "${SKIP:-}" ] && skip=(--skiptest "$SKIP")
  ./runtest --host 127.0.0.1 --port "$port" --single "$unit" --durable --clients 1 "${skip[@]}" \
    --tags "-needs:repl -needs:debug -needs:save -needs:config-maxmemory" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >"$log" || true
  passed=$(grep -c '^\[ok\]' "$log" || true)
  failed=$(grep -cE '^\[(err|exception)\]' "$log" || true)
  echo "$unit: $passed passed, $failed failed"
  grep -E '^\[(err|exception)\]' "$log" | sed 's/^/    /' | head -60 || true
done
