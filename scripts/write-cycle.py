#!/usr/bin/env python3
"""Where a replicated write's time goes: starts a local cluster, runs `redis-benchmark -t set
-c 50 -P 1` through its leader, records the system calls of every node and of the benchmark
for a moment with `perf record` (kernel tracepoints: cheap enough not to change the picture
much), and splits each batch's cycle on the leader into phases. Not a test: a tool for
judging a change to the write path (see docs/TESTING.md). Needs root (or perf rights) and
the linux-perf package.

    scripts/write-cycle.py [nodes] [path/to/concord]

Phases of one batch, from the leader's point of view (medians over the batches seen):
  leader fsync     the leader's fdatasync of the batch's log record
  to followers     end of that fsync -> the first AppendEntries carrying the batch
  follower ack     that send -> the first follower's acknowledgement (its own write + fsync)
  to first reply   that acknowledgement -> the first reply to a client (commit, apply)
  replies          first -> last reply to the batch's clients
  next requests    last reply -> the next batch's log write (clients send again; the
                   leader reads and gathers them)
With one node there are no followers: the cycle is gather, fsync, replies.
"""
import os, re, shutil, statistics, subprocess, sys, tempfile, time

NODES = int(sys.argv[1]) if len(sys.argv) > 1 else 3
BINARY = sys.argv[2] if len(sys.argv) > 2 else "target/release/concord"
BASE = 17600
CALLS = ["sendto", "recvfrom", "pwrite64", "fdatasync"]


def leader_port():
    for _ in range(300):
        for i in range(NODES):
            info = subprocess.run(["redis-cli", "-p", str(BASE + i), "info", "replication"],
                                  capture_output=True, text=True).stdout
            if "role:master" in info:
                return BASE + i
        time.sleep(0.1)
    raise SystemExit("no leader")


def record(work):
    """Runs the cluster and the benchmark; returns (perf script text, leader pid, follower pids)."""
    cluster = subprocess.Popen([BINARY, "local", "--nodes", str(NODES), "--base-port", str(BASE),
                                "--dir", f"{work}/cluster", "--log-level", "warn"],
                               stdout=subprocess.PIPE, text=True)
    try:
        for line in cluster.stdout:
            if "cluster ready" in line:
                break
        else:
            raise SystemExit("the cluster did not start")
        port = leader_port()
        pids = [int(p) for p in subprocess.run(["pgrep", "-P", str(cluster.pid)],
                                               capture_output=True, text=True).stdout.split()]
        leader = next(p for p in pids if f"--port\0{port}\0" in open(f"/proc/{p}/cmdline").read())
        bench = ["redis-benchmark", "-p", str(port), "-t", "set", "-r", "100000", "-d", "64", "-c", "50",
                 "-P", "1", "-q"]
        subprocess.run(bench + ["-n", "30000"], capture_output=True)  # warm up: keys, buffers
        load = subprocess.Popen(bench + ["-n", "200000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        events = [f"syscalls:sys_{side}_{call}" for call in CALLS for side in ("enter", "exit")]
        data = f"{work}/perf.data"
        try:
            subprocess.run(["perf", "record", "-q", "-o", data, "-p", ",".join(map(str, pids + [load.pid]))]
                           + [arg for event in events for arg in ("-e", event)] + ["--", "sleep", "0.2"],
                           check=True, capture_output=True)
        finally:
            load.kill()
            load.wait()
        script = subprocess.run(["perf", "script", "-i", data, "-F", "pid,tid,time,event,trace"],
                                capture_output=True, text=True, check=True).stdout
        return script, leader, [p for p in pids if p != leader]
    finally:
        cluster.terminate()
        cluster.wait()


def calls(script):
    """perf script lines -> [(start_ms, end_ms, pid, call, fd, length, result)], by start."""
    open_calls, done = {}, []
    pattern = re.compile(r"\s*(\d+)/(\d+)\s+([\d.]+):\s+syscalls:sys_(enter|exit)_(\w+):\s*(.*)")
    for line in script.splitlines():
        m = pattern.match(line)
        if not m:
            continue
        pid, tid, t, side, call, rest = m.groups()
        t = float(t) * 1000
        if side == "enter":
            fd = re.search(r"fd: 0x([0-9a-f]+)", rest)
            length = re.search(r"(?:len|count|size): 0x([0-9a-f]+)", rest)
            open_calls[tid] = (t, int(pid), call, int(fd.group(1), 16) if fd else -1,
                               int(length.group(1), 16) if length else -1)
        elif tid in open_calls:
            start, pid, call, fd, length = open_calls.pop(tid)
            result = int(rest.strip(), 16)
            done.append((start, t, pid, call, fd, length, result - 2**64 if result >= 2**63 else result))
    return sorted(done)


def phases(done, leader, followers):
    first = lambda pred, after: next((c for c in done if c[0] >= after and pred(c)), None)
    writes = [c for c in done if c[2] == leader and c[3] == "pwrite64"]
    rows = []
    for write, following in zip(writes, writes[1:]):
        record_bytes = write[5]
        fsync = first(lambda c: c[2] == leader and c[3] == "fdatasync", write[0])
        if fsync is None or fsync[0] > following[0]:
            continue
        row = {"bytes": record_bytes, "leader fsync": fsync[1] - fsync[0]}
        committed = fsync[1]
        if followers:
            send = first(lambda c: c[2] == leader and c[3] == "sendto" and c[5] >= record_bytes, fsync[1])
            if send is None:
                continue
            # A follower acknowledges after its own write and fsync of a record that size.
            acks = []
            for pid in followers:
                own = first(lambda c: c[2] == pid and c[3] == "pwrite64" and c[5] == record_bytes, send[0])
                own_fsync = own and first(lambda c: c[2] == pid and c[3] == "fdatasync", own[0])
                ack = own_fsync and first(lambda c: c[2] == pid and c[3] == "sendto", own_fsync[1])
                if ack:
                    acks.append(ack[0])
            if not acks:
                continue
            committed = min(acks)
            row["to followers"] = send[0] - fsync[1]
            row["follower ack"] = committed - send[0]
        # SET's reply is +OK\r\n: five bytes.
        replies = [c for c in done if c[2] == leader and c[3] == "sendto" and c[5] == 5
                   and committed <= c[0] < following[0]]
        if not replies:
            continue
        row["to first reply"] = replies[0][0] - committed
        row["replies"] = replies[-1][0] - replies[0][0]
        row["next requests"] = following[0] - replies[-1][0]
        row["cycle"] = following[0] - write[0]
        row["writes"] = len(replies)
        rows.append(row)
    return rows


def main():
    if shutil.which("perf") is None or shutil.which("redis-benchmark") is None:
        raise SystemExit("needs perf (Debian: linux-perf) and redis-benchmark (redis-tools)")
    work = tempfile.mkdtemp(prefix="concord-cycle-")
    try:
        script, leader, followers = record(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = phases(calls(script), leader, followers)
    if not rows:
        raise SystemExit("no complete batch seen")
    names = [n for n in ["writes", "leader fsync", "to followers", "follower ack", "to first reply",
                         "replies", "next requests", "cycle"] if n in rows[0]]
    print(f"{len(rows)} batches on the leader of {NODES} node(s); medians (ms, writes: count):")
    for name in names:
        values = [row[name] for row in rows if name in row]
        print(f"  {name:15s} {statistics.median(values):7.3f}   (min {min(values):.3f}, max {max(values):.3f})")
    cycle = statistics.median(row["cycle"] for row in rows)
    writes = statistics.median(row["writes"] for row in rows)
    print(f"=> about {writes / cycle * 1000:.0f} writes/s at this cycle and batch size")


if __name__ == "__main__":
    main()
