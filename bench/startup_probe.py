#!/usr/bin/env python3
"""Start `jiaxiao serve`, time it to the first 200 from /healthz, then read its idle RSS.

Usage: python3 bench/startup_probe.py BIN DATABASE_URL [--idle 5] [--poll-ms 5]

The clock starts immediately before the process is spawned. /healthz on a free
loopback port is polled every --poll-ms ms (a new connection per poll; refused
connections count as not ready) until it answers 200; the time is that answer's
arrival. After --idle seconds without requests, VmRSS and VmHWM are read from
/proc/PID/status. The server is stopped with SIGTERM (SIGKILL after 10 s).
Prints one line: "ready_ms=… polls=… rss_mb=… hwm_mb=…". Standard library only.
"""

import argparse
import http.client
import os
import signal
import socket
import subprocess
import sys
import time


def status_mb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin")
    ap.add_argument("database_url")
    ap.add_argument("--idle", type=float, default=5.0)
    ap.add_argument("--poll-ms", type=float, default=5.0)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--log", default=os.devnull)
    a = ap.parse_args()

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = dict(os.environ, JIAXIAO_DATABASE_URL=a.database_url, JIAXIAO_LISTEN=f"127.0.0.1:{port}")
    log = open(a.log, "wb")
    t0 = time.perf_counter()
    proc = subprocess.Popen([a.bin, "serve"], env=env, stdout=log, stderr=log)
    try:
        polls, ready = 0, None
        while time.perf_counter() - t0 < a.timeout:
            polls += 1
            tick = time.perf_counter()
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    ready = time.perf_counter() - t0
                    break
            except OSError:
                pass
            if proc.poll() is not None:
                sys.exit(f"serve exited with {proc.returncode}")
            time.sleep(max(0.0, a.poll_ms / 1000 - (time.perf_counter() - tick)))
        if ready is None:
            sys.exit("no 200 from /healthz before the timeout")
        time.sleep(a.idle)
        rss, hwm = status_mb(proc.pid, "VmRSS"), status_mb(proc.pid, "VmHWM")
        print(f"ready_ms={ready * 1000:.1f} polls={polls} rss_mb={rss:.1f} hwm_mb={hwm:.1f}", flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
