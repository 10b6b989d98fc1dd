#!/usr/bin/env python3
"""Failover yardstick: starts a 3-node cluster on loopback, keeps writing through every node,
kills the leader with SIGKILL N times, and reports the time from each kill to the next
acknowledged write (median and max). Not a test: numbers depend on the machine.

    scripts/failover-times.py [kills] [path/to/concord]
"""
import os, signal, socket, subprocess, sys, tempfile, threading, time

KILLS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
BINARY = sys.argv[2] if len(sys.argv) > 2 else "target/release/concord"
BASE = 17500


def call(port, *args, timeout=2.0):
    """One RESP command; returns the reply line (simple types only) or raises."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.settimeout(timeout)
        request = f"*{len(args)}\r\n" + "".join(f"${len(str(a))}\r\n{a}\r\n" for a in args)
        s.sendall(request.encode())
        data = b""
        while not data.endswith(b"\r\n") or (data.startswith(b"$") and data.count(b"\r\n") < 2):
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data.decode(errors="replace")


def start(i, work, join):
    args = [BINARY, "server", "--port", str(BASE + i), "--node-port", str(BASE + 10000 + i),
            "--data-dir", f"{work}/node-{i}", "--log-level", os.environ.get("NODE_LOG", "warn")]
    args += ["--bootstrap"] if join is None else ["--join", f"127.0.0.1:{join}"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=open(f"{work}/node-{i}.log", "a"))
    line = proc.stdout.readline().decode()
    if "ready" not in line:
        raise SystemExit(f"node {i} did not start: {line}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc


def leader_port():
    for _ in range(300):
        for i in range(3):
            try:
                info = call(BASE + i, "INFO", "replication")
            except OSError:
                continue
            if "role:master" in info:
                return BASE + i
        time.sleep(0.05)
    raise SystemExit("no leader")


def main():
    work = tempfile.mkdtemp(prefix="concord-failover-")
    procs = [start(0, work, None)]
    procs += [start(i, work, BASE) for i in (1, 2)]
    time.sleep(3)
    # When the latest acknowledged write was sent: a write counts for a failover only if it
    # was sent after the kill.
    last_ack = [0.0]
    stop = [False]

    def writer(n):
        port, seq = BASE + n % 3, 0
        while not stop[0]:
            seq += 1
            try:
                sent = time.monotonic()
                if call(port, "SET", f"k{n}", seq).startswith("+OK"):
                    last_ack[0] = max(last_ack[0], sent)
                    continue
            except OSError:
                pass
            port = BASE + (port - BASE + 1) % 3
            time.sleep(0.005)

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(6)]
    for t in threads:
        t.start()
    times = []
    for _ in range(KILLS):
        time.sleep(1.0)
        port = leader_port()
        i = port - BASE
        killed = time.monotonic()
        procs[i].send_signal(signal.SIGKILL)
        procs[i].wait()
        while last_ack[0] <= killed:
            time.sleep(0.001)
        times.append((time.monotonic() - killed) * 1000)
        print(f"kill -9 of the leader on port {port}: writes resumed after {times[-1]:.0f} ms", flush=True)
        procs[i] = start(i, work, None)
    stop[0] = True
    for p in procs:
        p.send_signal(signal.SIGTERM)
        p.wait()
    times.sort()
    print(f"failover over {len(times)} kills: median {times[len(times) // 2]:.0f} ms, max {times[-1]:.0f} ms")


if __name__ == "__main__":
    main()
