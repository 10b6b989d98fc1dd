#!/usr/bin/env bash
# The core must stay pure: no async runtime, no OS randomness, no clocks, files, sockets or
# threads, and no HashMap (its iteration order is not reproducible). This checks both the
# dependency tree and the sources.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
deps=$(cargo tree --locked -p concord-core -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u)
# libc is allowed for one reason: mlua (the Lua interpreter scripts run in, inside apply)
# links Lua's C library through it. Lua's io and os libraries are never loaded, so no script
# reaches a file, a clock or the environment through it; and the sources below are still
# checked for any direct use.
deps=$(grep -vx libc <<<"$deps")
for forbidden in tokio mio rand getrandom libc openraft socket2 tracing; do
  if grep -qx "$forbidden" <<<"$deps"; then
    echo "concord-core depends on $forbidden" >&2
    status=1
  fi
done
# One HashMap is allowed: the lookup index of ordered_map.rs, which is never iterated.
if grep -rnE 'std::(fs|net|thread|env|process)\b|SystemTime|Instant::now|HashMap|HashSet|thread_rng|tokio' crates/core/src |
  grep -vE '^crates/core/src/ordered_map.rs:.*(HashMap|never iterated)'; then
  echo "concord-core uses I/O, clocks, threads or unordered maps (above)" >&2
  status=1
fi
[ "$status" = 0 ] && echo "concord-core is pure: $(wc -l <<<"$deps") crates, none doing I/O"
exit "$status"
