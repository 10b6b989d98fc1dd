#!/usr/bin/env python3
"""Pub/Sub fan-out yardstick: one publisher and S subscribers of one channel, the subscribers
spread over the nodes of a 3-node Concord cluster (`concord local`), beside the same against one
Redis, on this machine, in the same run. Reports messages delivered per second (all
subscribers together) and the end-to-end latency from PUBLISH to arrival, p50 and p99.
Not a test: numbers depend on the machine (the clients share its cores).

    python3 scripts/pubsub-fanout.py [messages] [subscribers]
"""
import multiprocessing, os, selectors, socket, subprocess, sys, tempfile, time

MESSAGES = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
SUBSCRIBERS = int(sys.argv[2]) if len(sys.argv) > 2 else 50
PROCESSES = 5  # subscriber processes, each holding SUBSCRIBERS / PROCESSES connections
BATCH = 50  # PUBLISH commands per pipelined write
CONCORD_BASE, REDIS_PORT = 17700, 17720
HEADER = b"*3\r\n$7\r\nmessage\r\n$6\r\nfanout\r\n"


def resp(*args):
    return (f"*{len(args)}\r\n" + "".join(f"${len(str(a))}\r\n{a}\r\n" for a in args)).encode()


def wait_ready(port):
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(resp("PING"))
                if s.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"nothing answers on port {port}")


def subscriber_process(ports, ready, results):
    """Subscribes one connection per port to `fanout`, then counts messages and their latency
    (the payload is the publish time in ns) until each connection has seen them all."""
    connections = []
    for port in ports:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(resp("SUBSCRIBE", "fanout"))
        reply = b""
        while reply.count(b"\r\n") < 6:
            reply += s.recv(4096)
        connections.append(s)
    ready.put(len(connections))
    latencies = []
    for s in connections:
        s.setblocking(False)
    buffers = {s: b"" for s in connections}
    seen = {s: 0 for s in connections}
    selector = selectors.DefaultSelector()
    for s in connections:
        selector.register(s, selectors.EVENT_READ)
    pending = len(connections)
    while pending:
        events = selector.select(timeout=30)
        if not events:
            break  # nothing for 30 s: a message was lost; report what arrived
        for key, _ in events:
            s = key.fileobj
            data = s.recv(1 << 20)
            now = time.time_ns()
            buffers[s] += data
            buffer, at = buffers[s], 0
            while True:
                # Each message: *3 $7 message $6 fanout $N <payload>, the payload the publish
                # time in ns (or "end").
                if not buffer.startswith(HEADER, at):
                    break
                length_at = at + len(HEADER) + 1
                line_end = buffer.find(b"\r\n", length_at)
                if line_end < 0:
                    break
                length = int(buffer[length_at:line_end])
                if len(buffer) < line_end + 2 + length + 2:
                    break
                payload = buffer[line_end + 2:line_end + 2 + length]
                at = line_end + 2 + length + 2
                if payload == b"end":
                    pending -= 1
                    selector.unregister(s)
                    break
                latencies.append(now - int(payload))
                seen[s] += 1
            buffers[s] = buffer[at:]
        if not selector.get_map():
            break
    results.put((sum(seen.values()), latencies))


def measure(ports):
    per_process = [[] for _ in range(PROCESSES)]
    for i in range(SUBSCRIBERS):
        per_process[i % PROCESSES].append(ports[i % len(ports)])
    ready, results = multiprocessing.Queue(), multiprocessing.Queue()
    workers = [multiprocessing.Process(target=subscriber_process, args=(p, ready, results)) for p in per_process if p]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get()
    publisher = socket.create_connection(("127.0.0.1", ports[0]))
    # Wait until the subscriptions are seen cluster-wide (PUBLISH counts every node's).
    while True:
        publisher.sendall(resp("PUBLISH", "fanout", str(time.time_ns())))
        if int(publisher.recv(64)[1:].split(b"\r\n")[0]) >= SUBSCRIBERS:
            break
        time.sleep(0.05)
    started = time.monotonic()
    replies = 0
    for start in range(0, MESSAGES, BATCH):
        count = min(BATCH, MESSAGES - start)
        publisher.sendall(b"".join(resp("PUBLISH", "fanout", str(time.time_ns())) for _ in range(count)))
        got = b""
        while got.count(b"\r\n") < count:
            got += publisher.recv(1 << 16)
        replies += count
    publisher.sendall(resp("PUBLISH", "fanout", "end"))
    publisher.recv(64)
    delivered, latencies = 0, []
    for _ in workers:
        seen, lat = results.get()
        delivered += seen
        latencies += lat
    elapsed = time.monotonic() - started
    for worker in workers:
        worker.join()
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] / 1e6
    return delivered / elapsed, p(0.50), p(0.99), delivered


def main():
    work = tempfile.mkdtemp()
    concord = subprocess.Popen(
        ["target/release/concord", "local", "--nodes", "3", "--base-port", str(CONCORD_BASE), "--dir",
         f"{work}/concord", "--log-level", "warn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ports = [CONCORD_BASE + i for i in range(3)]
        for port in ports + [REDIS_PORT]:
            wait_ready(port)
        time.sleep(3)  # the cluster settles (members known everywhere)
        print(f"1 publisher, {SUBSCRIBERS} subscribers, {MESSAGES} messages (pipelines of {BATCH})")
        print(f"{'':24} {'delivered/s':>12} {'p50_ms':>8} {'p99_ms':>8} {'delivered':>10}")
        for name, targets in ((f"concord (3 nodes)", ports), ("redis", [REDIS_PORT])):
            rate, p50, p99, delivered = measure(targets)
            print(f"{name:24} {rate:12.0f} {p50:8.2f} {p99:8.2f} {delivered:10}")
    finally:
        for process in (concord, server):
            process.terminate()
            process.wait()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    main()
