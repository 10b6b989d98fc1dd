#!/usr/bin/env python3
"""Slot-move yardstick: moves a quarter of the slots (0-4095) of a dataset of KEYS keys from
one shard to another, on a 3-node, 3-shard Concord cluster (`concord local`), and the same
with `redis-cli --cluster reshard` on a 3-master Redis Cluster (`appendfsync always`), in the
same run on this machine. Reports the move's duration, the client-visible write pause (the
longest time without a successful write to a key of a moving slot, by a client writing them
in a loop) and the write throughput of a background load (`redis-benchmark --cluster`, 50 clients) during
the move beside before it; then checks every loaded key is still there.
Not a test: the numbers depend on the machine (clients and servers share its cores).

    target/test-python/bin/python scripts/move-slots-bench.py [keys]     (AGAINST_REDIS=0: Concord only)
"""
import os, shutil, subprocess, sys, tempfile, threading, time

import redis
from redis.cluster import RedisCluster, ClusterNode

KEYS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
MOVED_SLOTS = (0, 4095)
CONCORD_BASE, REDIS_BASE = 17800, 17820
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONCORD = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "concord")


def wait_ready(port):
    for _ in range(600):
        try:
            if redis.Redis(port=port, socket_timeout=1).ping():
                return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"nothing answers on port {port}")


def keys_in_moved_slots(client, count):
    found, n = [], 0
    while len(found) < count:
        key = f"probe:{n}"
        if MOVED_SLOTS[0] <= client.execute_command("CLUSTER", "KEYSLOT", key) <= MOVED_SLOTS[1]:
            found.append(key)
        n += 1
    return found


def load(make_client, total):
    """Writes key:0 .. key:total-1 through pipelines, in 4 threads."""
    def part(first, last):
        client = make_client()
        for start in range(first, last, 1000):
            pipe = client.pipeline(transaction=False)
            for n in range(start, min(start + 1000, last)):
                pipe.set(f"key:{n}", n)
            pipe.execute()
    step = total // 4 + 1
    threads = [threading.Thread(target=part, args=(i * step, min(total, (i + 1) * step))) for i in range(4)]
    started = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return total / (time.time() - started)


def missing_keys(make_client, total):
    client, missing = make_client(), 0
    for start in range(0, total, 1000):
        pipe = client.pipeline(transaction=False)
        for n in range(start, min(start + 1000, total)):
            pipe.exists(f"key:{n}")
        missing += sum(1 for found in pipe.execute() if not found)
    return missing


class Probe(threading.Thread):
    """Writes keys of the moving slots in a loop; remembers when each write succeeded."""

    def __init__(self, make_client, keys):
        super().__init__(daemon=True)
        self.client, self.keys, self.stop, self.ok, self.errors = make_client(), keys, False, [], 0

    def run(self):
        n = 0
        while not self.stop:
            n += 1
            try:
                self.client.set(self.keys[n % len(self.keys)], n)
                self.ok.append(time.time())
            except Exception:
                self.errors += 1
                time.sleep(0.001)

    def pause_ms(self, since):
        times = [t for t in self.ok if t >= since]
        return max((b - a for a, b in zip(times, times[1:])), default=float("nan")) * 1000


def background_load(port, cluster):
    """redis-benchmark SETs over random keys of the dataset, until terminated."""
    args = ["redis-benchmark", "-p", str(port), "-t", "set", "-c", "50", "-r", str(KEYS), "-n", "100000000", "-q"]
    if cluster:
        args.insert(1, "--cluster")
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def commands_processed(ports):
    return sum(int(redis.Redis(port=p).info("stats")["total_commands_processed"]) for p in ports)


def rate(ports, since):
    """Commands per second processed on `ports` since `since` = (time, count)."""
    return (commands_processed(ports) - since[1]) / (time.time() - since[0])


def concord():
    work = tempfile.mkdtemp(prefix="concord-move-")
    cluster = subprocess.Popen([CONCORD, "local", "--nodes", "3", "--shards", "3", "--base-port", str(CONCORD_BASE),
                                "--dir", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for i in range(3):
            wait_ready(CONCORD_BASE + i)
        client = redis.Redis(port=CONCORD_BASE)
        for _ in range(600):
            if "cluster_settled:1" in client.execute_command("CLUSTER", "INFO").decode():
                break
            time.sleep(0.1)
        load_rate = load(lambda: redis.Redis(port=CONCORD_BASE), KEYS)
        print(f"concord: loaded {KEYS} keys at {load_rate:,.0f}/s")
        probe = Probe(lambda: redis.Redis(port=CONCORD_BASE + 1), keys_in_moved_slots(client, 64))
        probe.start()
        bench = background_load(CONCORD_BASE + 2, cluster=True)
        time.sleep(2)
        ports = [CONCORD_BASE + i for i in range(3)]
        mark = (time.time(), commands_processed(ports))
        time.sleep(3)
        before = rate(ports, mark)
        started = time.time()
        mark = (started, commands_processed(ports))
        reply = client.execute_command("CLUSTER", "MIGRATESLOTS", "SLOTSRANGE", *MOVED_SLOTS, "SHARD", "g2")
        while client.execute_command("CLUSTER", "GETSLOTMIGRATIONS"):
            time.sleep(0.01)
        duration = time.time() - started
        during = rate(ports, mark)
        time.sleep(1)
        probe.stop = True
        bench.terminate()
        bench.wait()
        missing = missing_keys(lambda: redis.Redis(port=CONCORD_BASE), KEYS)
        print(f"concord: move {reply} of slots {MOVED_SLOTS[0]}-{MOVED_SLOTS[1]} took {duration:.2f} s; "
              f"longest write pause on a moving slot {probe.pause_ms(started):.0f} ms "
              f"({probe.errors} TRYAGAIN replies); background SETs/s {before:,.0f} before, {during:,.0f} during; "
              f"{missing} of the {KEYS} loaded keys missing afterwards")
        return duration
    finally:
        cluster.terminate()
        cluster.wait()
        shutil.rmtree(work, ignore_errors=True)


def redis_cluster():
    work = tempfile.mkdtemp(prefix="redis-cluster-")
    servers = []
    try:
        for i in range(3):
            port = REDIS_BASE + i
            d = os.path.join(work, str(i))
            os.makedirs(d)
            servers.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--dir", d, "--cluster-enabled", "yes", "--appendonly", "yes",
                 "--appendfsync", "always", "--save", ""], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for i in range(3):
            wait_ready(REDIS_BASE + i)
        subprocess.run(["redis-cli", "--cluster", "create"] + [f"127.0.0.1:{REDIS_BASE + i}" for i in range(3)]
                       + ["--cluster-yes"], check=True, stdout=subprocess.DEVNULL)
        make = lambda: RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", REDIS_BASE)])
        for _ in range(100):
            try:
                make().ping()
                break
            except Exception:
                time.sleep(0.2)
        time.sleep(2)
        load_rate = load(make, KEYS)
        print(f"redis cluster: loaded {KEYS} keys at {load_rate:,.0f}/s")
        client = redis.Redis(port=REDIS_BASE)
        # The master owning slot 0 gives, another takes.
        masters = [l.split() for l in client.execute_command("CLUSTER", "NODES").decode().splitlines()]
        source = next(f[0] for f in masters if any(r.startswith("0-") for r in f[8:]))
        target = next(f[0] for f in masters if f[0] != source)
        ports = [REDIS_BASE + i for i in range(3)]
        probe = Probe(make, keys_in_moved_slots(client, 64))
        probe.start()
        bench = background_load(REDIS_BASE, cluster=True)
        time.sleep(2)
        mark = (time.time(), commands_processed(ports))
        time.sleep(3)
        before = rate(ports, mark)
        started = time.time()
        mark = (started, commands_processed(ports))
        subprocess.run(["redis-cli", "--cluster", "reshard", f"127.0.0.1:{REDIS_BASE}", "--cluster-from", source,
                        "--cluster-to", target, "--cluster-slots", str(MOVED_SLOTS[1] - MOVED_SLOTS[0] + 1),
                        "--cluster-yes", "--cluster-pipeline", "1000"], check=True, stdout=subprocess.DEVNULL)
        duration = time.time() - started
        during = rate(ports, mark)
        time.sleep(1)
        probe.stop = True
        bench.terminate()
        bench.wait()
        missing = missing_keys(make, KEYS)
        print(f"redis cluster: reshard of {MOVED_SLOTS[1] - MOVED_SLOTS[0] + 1} slots took {duration:.2f} s; "
              f"longest write pause on a moving slot {probe.pause_ms(started):.0f} ms ({probe.errors} errors); "
              f"background SETs/s {before:,.0f} before, {during:,.0f} during (commands on all 3, MIGRATE included); "
              f"{missing} of the {KEYS} loaded keys missing afterwards")
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    concord()
    if shutil.which("redis-server") and os.environ.get("AGAINST_REDIS", "1") == "1":
        redis_cluster()
