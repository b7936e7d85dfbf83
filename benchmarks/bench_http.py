"""HTTP/JSON ``Check`` next to gRPC ``Check`` on one server (``serve --http``), one client.

    .venv/bin/python -m benchmarks.bench_http [--calls N] [--repeats R]

One ``scameter serve`` process (1 worker, no auth) over a 10,000-phone snapshot answers both
transports. A single sequential client per transport (a persistent HTTP/1.1 connection with
``http.client``; the ``scameter.rpc.Client`` channel for gRPC) sends ``--calls`` Check calls
each repeat, alternating transports, and the medians over repeats of p50, p99 and calls/s are
printed. The client's own CPU shares the 2 cores, so figures bound the server from below;
the *ratio* HTTP/gRPC is the figure of interest (docs/benchmarks.md, "HTTP/JSON").
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.bench_rpc import REPO, build
from benchmarks.core import BenchContext, Figure, serving_events

PHONES = [f"+8526{n:07d}" for n in range(0, 10_000_000, 1000)]


def _serve(snapshots: Path) -> tuple[subprocess.Popen[str], int, int]:
    cmd = [sys.executable, "-m", "scameter.rpc", "--snapshots", str(snapshots), "--no-auth"]
    cmd += ["--listen", "127.0.0.1:0", "--http", "127.0.0.1:0"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    event = serving_events(proc)[0]
    return proc, int(event["port"]), int(event["http_port"])


def _time(call: Callable[[str], object], n: int) -> tuple[float, float, float]:
    lat = []
    t0 = time.perf_counter()
    for i in range(n):
        s = time.perf_counter()
        call(PHONES[(i * 7919) % len(PHONES)])
        lat.append(time.perf_counter() - s)
    wall = time.perf_counter() - t0
    lat.sort()
    return lat[len(lat) // 2] * 1e6, lat[int(len(lat) * 0.99)] * 1e6, n / wall


def measure(calls: int, repeats: int, workdir: Path) -> dict[str, list[tuple[float, float, float]]]:
    """Per transport, ``(p50 us, p99 us, calls/s)`` of each repeat, alternating transports."""
    from scameter.rpc import Client

    build(workdir, PHONES)
    proc, port, http_port = _serve(workdir)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        conn.connect()
        # Headers and body leave in one segment anyway; no Nagle wait on the client side.
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def http_check(v: str) -> object:
            body = json.dumps({"identifier": v, "kind": "phone"}).encode()
            conn.request("POST", "/v1/check", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            assert r.status == 200, data
            return json.loads(data)

        with Client(f"127.0.0.1:{port}", timeout=10) as c:
            c.wait_ready(10)
            grpc_check: Callable[[str], object] = lambda v: c.check(v, "phone")  # noqa: E731
            for f in (grpc_check, http_check):
                _time(f, min(200, calls))  # warm up
            res: dict[str, list[tuple[float, float, float]]] = {"grpc": [], "http": []}
            for _ in range(repeats):
                res["grpc"].append(_time(grpc_check, calls))
                res["http"].append(_time(http_check, calls))
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    return res


def run(ctx: BenchContext) -> list[Figure]:
    """For ``python -m benchmarks``: p50/p99 and calls/s per transport, and the ratio."""
    calls, repeats = (300, 1) if ctx.quick else (5000, 3)
    res = measure(calls, repeats, ctx.workdir)
    figures: list[Figure] = []
    note = f"one sequential client per transport, {calls} calls x {repeats}, 10,000 phones"
    for transport, runs in res.items():
        for i, (metric, unit) in enumerate(
            (("p50_us", "us"), ("p99_us", "us"), ("rate", "calls/s"))
        ):
            samples = tuple(r[i] for r in runs)
            figures.append(
                Figure(
                    f"http.{transport}_check",
                    metric,
                    statistics.median(samples),
                    unit,
                    size=len(PHONES),
                    samples=samples,
                    note=note,
                )
            )
    ratio = statistics.median(h[0] for h in res["http"]) / statistics.median(
        g[0] for g in res["grpc"]
    )
    figures.append(Figure("http.vs_grpc", "p50_ratio", ratio, "x", target="<= 2", note=note))
    return figures


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        res = measure(args.calls, args.repeats, Path(tmp))
    med = {k: [statistics.median(x[i] for x in v) for i in range(3)] for k, v in res.items()}
    for k, (p50, p99, rate) in med.items():
        print(f"{k:5s} Check p50 {p50:7.0f} us  p99 {p99:7.0f} us  {rate:7.0f} calls/s")
    print(f"HTTP/gRPC p50 ratio {med['http'][0] / med['grpc'][0]:.2f}, "
          f"throughput ratio {med['grpc'][2] / med['http'][2]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
