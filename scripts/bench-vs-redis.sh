#!/usr/bin/env bash
# Side-by-side benchmark: redis-benchmark against Concord and against Redis with
# `appendonly yes, appendfsync always`, on this machine, in the same run. Prints requests per
# second and p50/p99 latency for both, and Concord's ratio. Not a test: numbers vary by machine.
#
#   scripts/bench-vs-redis.sh [tests] [requests]      e.g. scripts/bench-vs-redis.sh set,get 200000
#   NODES=3 scripts/bench-vs-redis.sh set,get          a 3-node cluster (every write fsynced on a
#                                                      majority), measured through its leader
#   NODES=3 CLUSTER=1 scripts/bench-vs-redis.sh set,get
#                                                      the same cluster (3 shards) driven by
#                                                      `redis-benchmark --cluster`, which sends
#                                                      each key to its shard's leader
#   NODES=3 SHARDS=6 CLUSTER=1 scripts/bench-vs-redis.sh set
#                                                      as many shards as asked (default 3)
#   COMMAND='XADD bench:s * f __rand_int__' scripts/bench-vs-redis.sh
#                                                      one command of your own instead of the
#                                                      tests (redis-benchmark has no XADD test)
#   ROUNDS=5 scripts/bench-vs-redis.sh set             alternate Concord and Redis five times and
#                                                      report the medians (a shared VM drifts by
#                                                      a fifth between runs; one run says little)
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
  target/release/concord local --nodes "$nodes" --shards "${SHARDS:-3}" --base-port "$concord_port" --dir "$work/concord" --log-level warn >"$work/concord.out" 2>&1 &
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
fi
cluster_flag=""
if [ "${CLUSTER:-0}" = 1 ]; then
  cluster_flag="--cluster"
  echo "cluster of $nodes nodes, driven with redis-benchmark --cluster" >&2
elif [ "$nodes" != 1 ]; then
  # Measure through the leader: followers would forward every request to it.
  for i in $(seq 0 $((nodes - 1))); do
    if redis-cli -p $((concord_port + i)) info replication | grep -q "role:master"; then concord_port=$((concord_port + i)); fi
  done
  echo "cluster of $nodes nodes; leader on port $concord_port" >&2
fi
run() { # port pipeline [--cluster] -> csv lines: test,rps,p50,p99
  local what=(-t "$tests")
  if [ -n "${COMMAND:-}" ]; then set -f; what=($COMMAND); set +f; fi
  redis-benchmark ${3:-} -p "$1" -n "$requests" -r 100000 -d 64 -c 50 -P "$2" --csv "${what[@]}" 2>/dev/null |
    grep '^"' | tail -n +2 | tr -d '"' | awk -F, '{print $1","$2","$5","$7}'
}
rounds=${ROUNDS:-1}
# The median of each column over the rounds, per test (rounds are interleaved: Concord, Redis,
# Concord, ...).
median() { # csv lines test,rps,p50,p99 (several per test) -> one line per test, in first-seen order
  awk -F, '{ if (!($1 in n)) order[++tests] = $1; i = ++n[$1]; rps[$1, i] = $2; p50[$1, i] = $3; p99[$1, i] = $4 }
    function med(a, t, k,   v, j, m, x) { m = n[t]; for (j = 1; j <= m; j++) v[j] = a[t, j] + 0
      for (j = 2; j <= m; j++) { x = v[j]; k = j - 1; while (k > 0 && v[k] > x) { v[k + 1] = v[k]; k-- } v[k + 1] = x }
      return (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
    END { for (o = 1; o <= tests; o++) { t = order[o]; printf "%s,%.2f,%.3f,%.3f\n", t, med(rps, t), med(p50, t), med(p99, t) } }'
}
[ "$rounds" -gt 1 ] && echo "medians over $rounds interleaved rounds" >&2
printf '%-18s %-4s %14s %9s %9s %14s %9s %9s %7s\n' test P concord_rps p50_ms p99_ms redis_rps p50_ms p99_ms ratio
for pipeline in 1 16; do
  concord_runs=""
  redis_runs=""
  for _ in $(seq "$rounds"); do
    concord_runs+="$(run "$concord_port" "$pipeline" "$cluster_flag")"$'\n'
    redis_runs+="$(run "$redis_port" "$pipeline")"$'\n'
  done
  concord=$(printf '%s' "$concord_runs" | median)
  redis=$(printf '%s' "$redis_runs" | median)
  paste -d, <(echo "$concord") <(echo "$redis") | while IFS=, read -r test crps cp50 cp99 _ rrps rp50 rp99; do
    ratio=$(awk -v a="$crps" -v b="$rrps" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    printf '%-18s %-4s %14s %9s %9s %14s %9s %9s %7s\n' "$test" "$pipeline" "$crps" "$cp50" "$cp99" "$rrps" "$rp50" "$rp99" "${ratio}x"
  done
done
