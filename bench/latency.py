#!/usr/bin/env python3
"""Sequential request latency over one keep-alive connection.

Usage: python3 bench/latency.py HOST:PORT PATH [--token T | --cookie NAME=VALUE]
                                [-n 300] [--warmup 20] [--timeout 30]
                                [--expect-items K] [--label L]

Sends --warmup requests (not timed), then -n timed GET requests one after another on
one HTTP/1.1 connection (http.client), reading each body fully. Prints one line:
    LABEL n=300 p50=… p95=… p99=… mean=… max=… (ms)
Every response must be 200 (and, with --expect-items K, a JSON list of K items),
otherwise it exits non-zero. Standard library only.
"""

import argparse
import http.client
import json
import math
import statistics
import sys
import time


def pct(sorted_ms, p):
    # Nearest-rank percentile.
    k = max(0, min(len(sorted_ms) - 1, math.ceil(p / 100 * len(sorted_ms)) - 1))
    return sorted_ms[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("path")
    ap.add_argument("--token")
    ap.add_argument("--cookie", help="a session cookie NAME=VALUE, for the staff pages")
    ap.add_argument("--timeout", type=float, default=30, help="seconds per request")
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--expect-items", type=int)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    host, port = a.addr.rsplit(":", 1)
    headers = {"Connection": "keep-alive"}
    if a.token:
        headers["Authorization"] = f"Bearer {a.token}"
    if a.cookie:
        headers["Cookie"] = a.cookie
    conn = http.client.HTTPConnection(host, int(port), timeout=a.timeout)

    def one():
        conn.request("GET", a.path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            sys.exit(f"{a.path}: HTTP {r.status}: {body[:200]!r}")
        return body

    for _ in range(a.warmup):
        body = one()
    if a.expect_items is not None:
        items = json.loads(body)
        if not isinstance(items, list) or len(items) != a.expect_items:
            sys.exit(f"{a.path}: expected a list of {a.expect_items}, got {str(items)[:200]}")
    ms = []
    for _ in range(a.n):
        t = time.perf_counter()
        one()
        ms.append((time.perf_counter() - t) * 1000)
    conn.close()
    s = sorted(ms)
    print(
        f"{a.label or a.path} n={a.n} p50={pct(s, 50):.2f} p95={pct(s, 95):.2f} "
        f"p99={pct(s, 99):.2f} mean={statistics.fmean(s):.2f} max={s[-1]:.2f} (ms)",
        flush=True,
    )


if __name__ == "__main__":
    main()
