#!/usr/bin/env python3
"""Memory yardstick: the same data loaded into a single Concord node and into Redis (no
persistence: resident size is what is compared), side by side on this machine.

    scripts/memory-vs-redis.py [strings|hashes|lists|sets|zsets|all] [--keys N] [--members M]

Datasets (as the issue words them): `strings` is N keys `SET key:%08d <16 bytes>`
(N = 1,000,000 by default); the collections are N keys (100,000 by default) of M small members
each (10 by default). Prints the resident size (RSS) of both after loading, their ratio, and
how long Concord takes to restart and serve the dataset again. Not a test: figures vary by
machine. Needs redis-server and redis-cli (installed if missing, as root).
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        arg = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


def dataset(kind, keys, members):
    """Yields RESP commands for the dataset, in chunks."""
    value = b"x" * 16
    chunk = []
    for i in range(keys):
        if kind == "strings":
            chunk.append(resp("SET", b"key:%08d" % i, value))
        elif kind == "hashes":
            args = []
            for m in range(members):
                args += [b"field:%d" % m, b"value:%d" % m]
            chunk.append(resp("HSET", b"hash:%08d" % i, *args))
        elif kind == "lists":
            chunk.append(resp("RPUSH", b"list:%08d" % i, *[b"item:%d" % m for m in range(members)]))
        elif kind == "sets":
            chunk.append(resp("SADD", b"set:%08d" % i, *[b"member:%d" % m for m in range(members)]))
        elif kind == "zsets":
            args = []
            for m in range(members):
                args += [str(m), b"member:%d" % m]
            chunk.append(resp("ZADD", b"zset:%08d" % i, *args))
        if len(chunk) >= 5000:
            yield b"".join(chunk)
            chunk = []
    if chunk:
        yield b"".join(chunk)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            out = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, timeout=2).stdout
            if b"PONG" in out:
                return
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.05)
    raise SystemExit(f"nothing answers on port {port}")


def load(port, kind, keys, members):
    pipe = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    for chunk in dataset(kind, keys, members):
        pipe.stdin.write(chunk)
    pipe.stdin.close()
    out = pipe.stdout.read().decode()
    pipe.wait()
    if "errors: 0" not in out:
        raise SystemExit(f"loading failed: {out}")


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def dbsize(port):
    return int(subprocess.run(["redis-cli", "-p", str(port), "dbsize"], capture_output=True).stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", nargs="?", default="all", choices=["strings", "hashes", "lists", "sets", "zsets", "all"])
    parser.add_argument("--keys", type=int)
    parser.add_argument("--members", type=int, default=10)
    args = parser.parse_args()
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        subprocess.run("apt-get update -qq && apt-get install -y -qq redis-server redis-tools", shell=True, check=True)
    subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "concord"], cwd=ROOT, check=True)
    binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "concord")
    kinds = ["strings", "hashes", "lists", "sets", "zsets"] if args.kind == "all" else [args.kind]
    print(f"{'dataset':<28} {'concord_rss':>12} {'redis_rss':>12} {'ratio':>6} {'restart_s':>10}")
    for kind in kinds:
        keys = args.keys or (1_000_000 if kind == "strings" else 100_000)
        work = tempfile.mkdtemp()
        concord_port, redis_port = free_port(), free_port()
        node_port = free_port()
        concord_cmd = [binary, "server", "--port", str(concord_port), "--node-port", str(node_port),
                       "--data-dir", os.path.join(work, "concord"), "--log-level", "warn"]
        concord = subprocess.Popen(concord_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no",
                                  "--dir", work], stdout=subprocess.DEVNULL)
        try:
            wait_for(concord_port)
            wait_for(redis_port)
            load(concord_port, kind, keys, args.members)
            load(redis_port, kind, keys, args.members)
            time.sleep(2)
            concord_rss, redis_rss = rss_bytes(concord.pid), rss_bytes(redis.pid)
            assert dbsize(concord_port) == keys == dbsize(redis_port)
            concord.send_signal(signal.SIGTERM)
            concord.wait(timeout=60)
            started = time.time()
            concord = subprocess.Popen(concord_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for(concord_port)
            while dbsize(concord_port) != keys:
                time.sleep(0.05)
            restart = time.time() - started
            label = f"{kind} {keys} x {1 if kind == 'strings' else args.members}"
            print(f"{label:<28} {concord_rss / 2**20:>10.1f}MB {redis_rss / 2**20:>10.1f}MB "
                  f"{concord_rss / redis_rss:>6.2f} {restart:>10.2f}", flush=True)
        finally:
            for process in (concord, redis):
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
