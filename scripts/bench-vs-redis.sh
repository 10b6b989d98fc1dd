#!/usr/bin/env bash
# Side-by-side benchmark: redis-benchmark against Concord and against Redis with
# `appendonly yes, appendfsync always`, on this machine, in the same run. Prints requests per
# second and p50/p99 latency for both, and Concord's ratio. Not a test: numbers vary by machine.
#
#   scripts/bench-vs-redis.sh [tests] [requests]      e.g. scripts/bench-vs-redis.sh set,get 200000
#   NODES=3 scripts/bench-vs-redis.sh set,get          a 3-node cluster (every write fsynced on a
#                                                      majority), measured through its leader
set -euo pipefail
cd "$(dirname "$0")/.."
tests=${1:-set,get,incr,mset}
requests=${2:-200000}
if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
  echo "installing redis-server and redis-tools (Debian packages)" >&2
  (apt-get update -qq && apt-get install -y -qq redis-server redis-tools) >/dev/null
fi
cargo build --release --locked --bin concord >&2
work=$(mktemp -d)
concord_port=${CONCORD_BENCH_PORT:-16379}
redis_port=${REDIS_BENCH_PORT:-16479}
nodes=${NODES:-1}
if [ "$nodes" = 1 ]; then
  target/release/concord server --port "$concord_port" --data-dir "$work/concord" --log-level warn >"$work/concord.out" 2>&1 &
else
  target/release/concord local --nodes "$nodes" --base-port "$concord_port" --dir "$work/concord" --log-level warn >"$work/concord.out" 2>&1 &
fi
concord_pid=$!
redis-server --port "$redis_port" --dir "$work" --appendonly yes --appendfsync always --save "" --daemonize no >"$work/redis.out" 2>&1 &
redis_pid=$!
trap 'kill $concord_pid $redis_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for port in "$concord_port" "$redis_port"; do
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
if [ "$nodes" != 1 ]; then
  for _ in $(seq 300); do grep -q "cluster ready" "$work/concord.out" && break; sleep 0.1; done
  # Measure through the leader: followers would forward every request to it.
  for i in $(seq 0 $((nodes - 1))); do
    if redis-cli -p $((concord_port + i)) info replication | grep -q "role:master"; then concord_port=$((concord_port + i)); fi
  done
  echo "cluster of $nodes nodes; leader on port $concord_port" >&2
fi
run() { # port pipeline -> csv lines: test,rps,p50,p99
  redis-benchmark -p "$1" -t "$tests" -n "$requests" -r 100000 -d 64 -c 50 -P "$2" --csv 2>/dev/null |
    tail -n +2 | tr -d '"' | awk -F, '{print $1","$2","$5","$7}'
}
printf '%-18s %-4s %14s %9s %9s %14s %9s %9s %7s\n' test P concord_rps p50_ms p99_ms redis_rps p50_ms p99_ms ratio
for pipeline in 1 16; do
  concord=$(run "$concord_port" "$pipeline")
  redis=$(run "$redis_port" "$pipeline")
  paste -d, <(echo "$concord") <(echo "$redis") | while IFS=, read -r test crps cp50 cp99 _ rrps rp50 rp99; do
    ratio=$(awk -v a="$crps" -v b="$rrps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    printf '%-18s %-4s %14s %9s %9s %14s %9s %9s %7s\n' "$test" "$pipeline" "$crps" "$cp50" "$cp99" "$rrps" "$rp50" "$rp99" "${ratio}x"
  done
done
