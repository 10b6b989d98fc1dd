#!/usr/bin/env python3
"""Self-healing yardstick: a 4-node Concord cluster of 3 shards (3 replicas each) holding
KEYS_PER_SHARD keys per shard; one node (not the metadata leader) is killed with SIGKILL for
good. Reports when every other node's CLUSTER NODES flags it `fail` (gossip), when the
metadata leader replaced it (the map no longer lists it), and when every shard again has 3
replicas, all caught up and voting (the replication factor restored), all timed from the kill;
then checks every key is there. Also each node's gossip traffic (bytes per second) before the
kill. Not a test: the numbers depend on the machine.

    target/test-python/bin/python scripts/heal-time.py [keys_per_shard] [grace_ms]
"""
import os, shutil, signal, subprocess, sys, tempfile, time

import redis

KEYS_PER_SHARD = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
GRACE_MS = int(sys.argv[2]) if len(sys.argv) > 2 else 60_000
BASE = 17900
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONCORD = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "concord")


def start(work, i):
    args = [CONCORD, "server", "--port", str(BASE + i), "--node-port", str(BASE + 50 + i),
            "--data-dir", os.path.join(work, f"n{i}"), "--shards", "3", "--replace-dead-after-ms", str(GRACE_MS)]
    args += ["--bootstrap"] if i == 0 else ["--join", f"127.0.0.1:{BASE}"]
    log = open(os.path.join(work, f"n{i}.log"), "w")
    return subprocess.Popen(args, stdout=log, stderr=log, env={**os.environ, "CONCORD_LOG_LEVEL": "warn"})


def client(i):
    return redis.Redis(port=BASE + i, socket_timeout=30, decode_responses=True)


def wait(what, done, limit_s=300):
    started = time.time()
    while not done():
        if time.time() - started > limit_s:
            raise SystemExit(f"{what}: not within {limit_s} s")
        time.sleep(0.05)


def ok(call):
    try:
        return call()
    except Exception:
        return None


def main():
    work = tempfile.mkdtemp(prefix="concord-heal-")
    nodes = []
    try:
        for i in range(4):
            nodes.append(start(work, i))
            wait(f"node {i} answers", lambda: ok(lambda: client(i).ping()))
            if i > 0:
                my_id = client(i).execute_command("CLUSTER", "MYID")
                wait(f"node {i} joins", lambda: my_id in (ok(lambda: client(0).execute_command("CLUSTER", "NODES")) or ""))
        wait("the cluster settles", lambda: "cluster_settled:1" in (ok(lambda: client(0).execute_command("CLUSTER", "INFO")) or ""))
        loaded = time.time()
        c = client(0)
        total = 3 * KEYS_PER_SHARD
        for first in range(0, total, 2000):
            pipe = c.pipeline(transaction=False)
            for n in range(first, min(first + 2000, total)):
                pipe.set(f"key:{n}", n)
            pipe.execute()
        print(f"loaded {total} keys ({KEYS_PER_SHARD} per shard) in {time.time() - loaded:.1f} s")
        ids = [client(i).execute_command("CLUSTER", "MYID") for i in range(4)]
        sent = lambda: [int(client(i).info("cluster")["gossip_sent_bytes"]) for i in range(4)]
        before, t0 = sent(), time.time()
        time.sleep(10)
        after, t1 = sent(), time.time()
        rates = [(a - b) / (t1 - t0) for a, b in zip(after, before)]
        print("gossip bytes/s per node (4 nodes): " + ", ".join(f"{r:.0f}" for r in rates))
        meta = client(0).execute_command("CLUSTER", "INFO")
        meta_leader = [l.split(":", 1)[1] for l in meta.splitlines() if l.startswith("cluster_metadata_leader:")][0]
        victim = next(i for i in range(1, 4) if ids[i] != meta_leader)
        others = [i for i in range(4) if i != victim]
        nodes[victim].send_signal(signal.SIGKILL)
        nodes[victim].wait()
        killed = time.time()

        def flagged():
            for i in others:
                text = ok(lambda: client(i).execute_command("CLUSTER", "NODES")) or ""
                line = next((l for l in text.splitlines() if l.startswith(ids[victim])), "")
                flags = line.split(" ")[2].split(",") if line else []
                if "fail" not in flags:
                    return False
            return True
        wait("every node flags the dead one fail", flagged)
        print(f"every other node flagged the dead node `fail` {time.time() - killed:.2f} s after kill -9")
        wait("the dead node is replaced",
             lambda: ids[victim] not in (ok(lambda: client(others[0]).execute_command("CLUSTER", "NODES")) or ids[victim]))
        replaced = time.time()
        print(f"replaced (removed from the map) {replaced - killed:.2f} s after kill -9 (grace {GRACE_MS} ms)")

        def restored():
            shards = ok(lambda: client(others[0]).execute_command("DEBUG", "SHARDS"))
            info = ok(lambda: client(others[0]).execute_command("CLUSTER", "INFO")) or ""
            return shards and "cluster_settled:1" in info and all(
                len(hosts) == 3 and ids[victim] not in hosts and leader for _, _, hosts, leader in shards)
        wait("the replication factor is restored", restored)
        done = time.time()
        print(f"replication factor restored {done - killed:.2f} s after kill -9: "
              f"{done - replaced:.2f} s to copy {KEYS_PER_SHARD} keys per shard to the new replicas")
        missing = 0
        c = client(others[0])
        for first in range(0, total, 2000):
            pipe = c.pipeline(transaction=False)
            for n in range(first, min(first + 2000, total)):
                pipe.exists(f"key:{n}")
            missing += sum(1 for found in pipe.execute() if not found)
        print(f"keys missing: {missing}")
    finally:
        for node in nodes:
            if node.poll() is None:
                node.send_signal(signal.SIGKILL)
                node.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
