"""Python-client load for the gRPC benchmark: the fallback when ``h2load`` is absent.

Responsibility: closed-loop and paced load from spawned client *processes*, each with several
threads, one ``scameter.rpc.Client`` (TCP connection) per thread, so the kernel spreads the
connections over the server's workers (docs/operations.md, "Workers").

Invariants:
* Paced calls are timed from their *scheduled* start (no coordinated omission).
* The client's own CPU (~200 us per unary call in Python) runs on the same cores as the server,
  so figures from here include it: they bound the server from below, they do not measure it.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from typing import Any

from benchmarks.core import Figure, percentile

BATCH = 10_000


def _client_proc(job: tuple[str, str, list[str], int, float, float]) -> dict[str, Any]:
    """One load process: ``threads`` clients; closed loop (rate 0) or paced at ``rate``/s.
    ``job`` is ``(mode, target, values, threads, seconds, rate)``."""
    mode, target, values, threads, seconds, rate = job
    from scameter.rpc import Client

    lat: list[list[float]] = [[] for _ in range(threads)]
    counts = [0] * threads
    finished = [0.0] * threads
    errors = [0] * threads
    start_at = time.perf_counter() + 0.2
    batch = min(BATCH, len(values))

    def run(t: int) -> None:
        with Client(target, timeout=10) as c:
            c.wait_ready(10)
            call: Any = {
                "check": lambda v: c.check(v, "phone"),
                "payee": c.check_payee,
                "batch": lambda _v: c.check_batch(values[:batch], "phone"),
            }[mode]
            c.check(values[t], "phone")  # warm the connection
            n = len(values)
            i = t * 7919
            interval = threads / rate if rate else 0.0
            now = time.perf_counter()
            while now < start_at:
                time.sleep(start_at - now)
                now = time.perf_counter()
            end = start_at + seconds
            scheduled = start_at + (t / threads) * interval
            out, count, err = lat[t], 0, 0
            while True:
                if interval:
                    now = time.perf_counter()
                    if scheduled > now:
                        time.sleep(scheduled - now)
                    t0 = scheduled
                    scheduled += interval
                else:
                    t0 = time.perf_counter()
                if t0 >= end:
                    break
                try:
                    call(values[i % n])
                except Exception:
                    err += 1
                out.append(time.perf_counter() - t0)
                count += 1
                i += 1
            counts[t], errors[t], finished[t] = count, err, time.perf_counter()

    ts = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    return {
        "lat": [x for sub in lat for x in sub],
        "count": sum(counts),
        "errors": sum(errors),
        # Calls started before the end finish after it: divide by the real span.
        "elapsed": max(finished) - start_at,
    }


def load(
    mode: str,
    target: str,
    values: list[str],
    *,
    procs: int,
    threads: int,
    seconds: float,
    rate: float = 0.0,
) -> tuple[float, list[float], int]:
    """(calls/s, sorted latencies in s, errors) over ``procs`` x ``threads`` clients."""
    ctx = mp.get_context("spawn")
    per_proc_rate = rate / procs if rate else 0.0
    with ctx.Pool(procs) as pool:
        results = pool.map(
            _client_proc,
            [(mode, target, values, threads, seconds, per_proc_rate)] * procs,
        )
    rate = sum(r["count"] / r["elapsed"] for r in results)
    lat = sorted(x for r in results for x in r["lat"])
    return rate, lat, sum(r["errors"] for r in results)


def lat_figures(
    name: str, lat: list[float], size: int, params: dict[str, Any], targets: dict[float, str]
) -> list[Figure]:
    out = []
    for q, label in ((50, "p50"), (90, "p90"), (99, "p99"), (99.9, "p99.9")):
        out.append(
            Figure(
                benchmark=name,
                metric=f"{label}_ms",
                value=percentile(lat, q) * 1e3,
                unit="ms",
                size=size,
                target=targets.get(q),
                params=params,
            )
        )
    return out
