#!/usr/bin/env python3
"""Streams yardstick: appends N entries to one stream (pipelined XADD), then drains them through
a consumer group (XREADGROUP COUNT 1000, then XACK of what it got) with C consumers, and reports
both rates, against one Concord node and against Redis with `appendfsync always`, on this
machine, in the same run. Not a test: numbers depend on the machine.

    target/test-python/bin/python scripts/stream-drain.py [entries] [consumers]
"""
import os, subprocess, sys, tempfile, threading, time

import redis

ENTRIES = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
CONSUMERS = int(sys.argv[2]) if len(sys.argv) > 2 else 4
BATCH = 1000
CONCORD_PORT, REDIS_PORT = 17610, 17620


def wait_ready(port):
    for _ in range(300):
        try:
            redis.Redis(port=port).ping()
            return
        except redis.exceptions.RedisError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answers on port {port}")


def measure(port):
    client = redis.Redis(port=port)
    client.delete("drain")
    started = time.monotonic()
    for start in range(0, ENTRIES, BATCH):
        pipe = client.pipeline(transaction=False)
        for n in range(start, min(start + BATCH, ENTRIES)):
            pipe.xadd("drain", {"n": n})
        pipe.execute()
    append_s = time.monotonic() - started
    client.xgroup_create("drain", "g", id="0")
    taken = [0] * CONSUMERS

    def consume(i):
        con = redis.Redis(port=port)
        while True:
            got = con.xreadgroup("g", f"c{i}", {"drain": ">"}, count=BATCH)
            if not got:
                return
            ids = [entry_id for entry_id, _ in got[0][1]]
            con.xack("drain", "g", *ids)
            taken[i] += len(ids)

    started = time.monotonic()
    threads = [threading.Thread(target=consume, args=(i,)) for i in range(CONSUMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain_s = time.monotonic() - started
    pending = client.xpending("drain", "g")["pending"]
    assert sum(taken) == ENTRIES and pending == 0, (sum(taken), pending)
    return append_s, drain_s


def main():
    work = tempfile.mkdtemp()
    concord = subprocess.Popen(
        ["target/release/concord", "server", "--port", str(CONCORD_PORT), "--data-dir", f"{work}/concord",
         "--log-level", "warn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = subprocess.Popen(
        ["redis-server", "--port", str(REDIS_PORT), "--dir", work, "--appendonly", "yes", "--appendfsync", "always",
         "--save", ""], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for port in (CONCORD_PORT, REDIS_PORT):
            wait_ready(port)
        print(f"{ENTRIES} entries, pipelines of {BATCH}, {CONSUMERS} consumers reading {BATCH} at a time")
        print(f"{'':10} {'XADD/s':>10} {'drained/s':>10}")
        for name, port in (("concord", CONCORD_PORT), ("redis", REDIS_PORT)):
            append_s, drain_s = measure(port)
            print(f"{name:10} {ENTRIES / append_s:10.0f} {ENTRIES / drain_s:10.0f}")
    finally:
        for process in (concord, server):
            process.terminate()
            process.wait()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    main()
