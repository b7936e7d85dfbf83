"""Live updates: report-to-visible latency under report load, and Check while folding.

Targets (issue 18 item 1): an acknowledged report is counted by ``Check`` within 5 s (p99)
over a base of 10^7 identifiers while ~1,000 reports/s arrive; the live path slows ``Check``
(p50/p99) by no more than 10% against the same server with no intake.

Method:
* The base: ``n`` public reports, one per HK mobile number, ingested by ``run_ingest`` (so it
  carries the evidence the fold needs); ``n`` is each of ``ctx.sizes``.
* The server: a real ``scameter serve --intake-log`` subprocess (the CLI entry point, which
  starts the live fold; ``--no-auth``, ``--report-burst 0`` and no daily cap, so no report is
  held or refused; ``--live-interval 0.5``).
* Each run starts the server twice over the same base, once with ``--no-live`` and once
  live. Against each: ``CHECKS`` sequential ``Check`` calls from one Python client (hits and
  misses of the base) with no report traffic (idle), then the same loop while ``SENDERS``
  processes send ``Report`` calls at ``RATE`` reports/s in total, each naming a number not in
  the base. The live path's cost on lookups is the live figure against the ``--no-live`` one
  under the same report load (the Report RPCs themselves, fsync included, cost both alike).
  In the live run a prober process polls ``Check`` on every ``PROBE_EVERY``-th acknowledged
  report until it is counted (``report_count`` > 0; the level alone can be POSSIBLE before,
  from the phone-range signal): ack-to-visible latency, p50/p99.
* The Python client costs ~0.2 ms a call on this machine; both Check loops pay it alike.

Run: ``.venv/bin/python -m benchmarks --only live --size 1000000`` (``--quick``: 2,000 base
identifiers, 200 reports). Each run also ingests the base's reports with and without the
evidence sub-database: the extra ingest seconds and data-file bytes per identifier.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import datagen
from benchmarks.core import BenchContext, Figure, percentile, serving_events
from scameter.ingest.pipeline import run_ingest

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-live-secret-0123456789abcdef"
SERVE = "import sys; from scameter.cli import main; sys.exit(main(['serve', *sys.argv[1:]]))"
RATE = 1_000
SENDERS = 8
PROBE_EVERY = 10
CHECKS = 4_000


def _base(workdir: Path, n: int, seed: int) -> tuple[Path, tuple[str, ...]]:
    snaps = workdir / f"live-{n}" / "snapshots"
    phones = datagen.phones(n + 50_000, seed)
    if (snaps / "CURRENT").exists():
        return snaps, phones
    src = workdir / f"live-{n}" / "base.jsonl"
    src.parent.mkdir(parents=True, exist_ok=True)
    when = (datetime.now(UTC) - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    with open(src, "w", encoding="utf-8") as fh:
        for i, p in enumerate(phones[:n]):
            row = {"type": "report", "source": "public", "reported_at": when,
                   "reporter_hash": f"{i + 1:032x}", "category": "investment",
                   "identifiers": [{"kind": "phone", "value": p}]}  # fmt: skip
            fh.write(json.dumps(row) + "\n")
    run_ingest([src], snaps, official_entities=None)
    return snaps, phones


@contextmanager
def _server(snaps: Path, intake: Path, live: bool) -> Iterator[str]:
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--no-auth",
            "--intake-log", str(intake), "--report-burst", "0", "--report-daily-cap", "0",
            "--live-interval", "0.5", *(() if live else ("--no-live",))]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "SCAMETER_REPORTER_SECRET": SECRET}
    proc = subprocess.Popen([sys.executable, "-c", SERVE, *args], cwd=REPO, env=env,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        yield f"127.0.0.1:{serving_events(proc)[0]['port']}"
    finally:
        proc.terminate()
        proc.wait(60)


def _check_latencies(
    target: str, probes: list[str], checks: int, until: threading.Event | None = None
) -> list[float]:
    """Sequential Check latencies (s, sorted): ``checks`` calls, or until ``until`` is set."""
    from scameter.rpc import Client

    out: list[float] = []
    with Client(target, timeout=10) as c:
        for _ in range(2):
            for p in probes[:100]:  # warm-up
                c.check(p, "phone")
        i = 0
        while (i < checks) if until is None else not until.is_set():
            p = probes[i % len(probes)]
            t = time.perf_counter()
            c.check(p, "phone")
            out.append(time.perf_counter() - t)
            i += 1
    return sorted(out)


def _send(  # noqa: PLR0917 - a process target
    target: str, fresh: tuple[str, ...], k: int, acked: Any, probed: bool, ready: Any
) -> None:
    """Sender process ``k``: its share of ``fresh`` at ``RATE / SENDERS`` reports/s; puts
    ``(value, monotonic ack time)`` of every ``PROBE_EVERY``-th report on ``acked``, then
    ``(None, reports sent)``."""
    from scameter.rpc import Client, issue_reporter_token

    per = RATE / SENDERS
    sent = 0
    with Client(target, timeout=30) as c:
        c.check("+85290000000", "phone")  # connected
        ready.wait()
        start = time.monotonic()
        for j, value in enumerate(fresh[k::SENDERS]):
            wait = start + j / per - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            token = issue_reporter_token(SECRET.encode(), f"+8529{k:03d}{j:04d}", 600)
            c.report([("phone", value)], "investment", "", token)
            sent += 1
            if probed and (j * SENDERS + k) % PROBE_EVERY == 0:
                acked.put((value, time.monotonic()))
    acked.put((None, sent))


def _probe(target: str, acked: Any, out: Any, ready: Any) -> None:
    """Prober process: poll Check on each acknowledged probe until it is counted; puts the
    ack-to-visible seconds and the number of reports sent on ``out``."""
    from scameter.rpc import Client

    pending: dict[str, float] = {}
    seen: list[float] = []
    finished = sent = 0
    with Client(target, timeout=10) as c:
        c.check("+85290000000", "phone")
        ready.wait()
        while finished < SENDERS or pending:
            while not acked.empty():
                value, t = acked.get()
                if value is None:
                    finished += 1
                    sent += int(t)
                else:
                    pending[value] = t
            for value, t in list(pending.items()):
                # counted: a report behind it (a number near many listed ones may already be
                # POSSIBLE through the phone-range signal before any report names it)
                if c.check(value, "phone").report_count:
                    seen.append(time.monotonic() - t)
                    del pending[value]
            time.sleep(0.02)
    out.put((seen, sent))


def _count(target: str, acked: Any, out: Any, ready: Any) -> None:
    ready.wait()
    sent = 0
    for _ in range(SENDERS):
        _, n = acked.get()
        sent += int(n)
    out.put(([], sent))


def _loaded(
    target: str, fresh: tuple[str, ...], probes: list[str], probed: bool, checks: int
) -> dict[str, Any]:
    """Check latencies while ``SENDERS`` processes send ``fresh`` as reports (``probed``: and
    a prober process measures when they become visible)."""
    ctx = multiprocessing.get_context("spawn")
    acked, out, ready = ctx.Queue(), ctx.Queue(), ctx.Barrier(SENDERS + 2)
    senders = [
        ctx.Process(target=_send, args=(target, fresh, k, acked, probed, ready))
        for k in range(SENDERS)
    ]
    # Without probing, a process that only counts what the senders sent.
    prober = ctx.Process(target=_probe if probed else _count, args=(target, acked, out, ready))
    for p in (*senders, prober):
        p.start()
    ready.wait()  # every process started and connected: the load starts now
    start = time.monotonic()
    done = threading.Event()

    def wait() -> None:
        for p in senders:
            p.join()
        done.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    busy = _check_latencies(target, probes, checks, done)
    waiter.join()
    elapsed = time.monotonic() - start
    seen, sent = out.get(timeout=300)
    prober.join(60)
    return {"busy": busy, "visible": sorted(seen), "rate": sent / elapsed}


def _once(ctx: BenchContext, n: int, run: int) -> dict[str, float]:
    """One run: the same report load against a --no-live server, then a live one."""
    snaps, phones = _base(ctx.workdir, n, ctx.seed)
    probes = [p for pair in zip(phones[: n // 2 : 97], phones[n:], strict=False) for p in pair]
    total, checks = (200, 300) if ctx.quick else (20 * RATE, CHECKS)
    out: dict[str, float] = {}
    for live in (False, True):
        intake = ctx.workdir / f"live-{n}" / f"intake-{run}-{int(live)}"
        fresh = phones[n + 10_000 : n + 10_000 + total]
        with _server(snaps, intake, live) as target:
            idle = _check_latencies(target, probes, checks)
            res = _loaded(target, fresh, probes, live, checks)
        tag = "live" if live else "nolive"
        busy = res["busy"]
        out |= {
            f"idle_p50_{tag}": percentile(idle, 50) * 1e6,
            f"idle_p99_{tag}": percentile(idle, 99) * 1e6,
            f"busy_p50_{tag}": percentile(busy, 50) * 1e6,
            f"busy_p99_{tag}": percentile(busy, 99) * 1e6,
            f"rate_{tag}": res["rate"],
        }
        if live:
            vis = res["visible"]
            out |= {"vis_p50": percentile(vis, 50), "vis_p99": percentile(vis, 99)}
            out["probes"] = len(vis)
    return out


def _evidence_cost(ctx: BenchContext, n: int, run: int) -> dict[str, float]:
    """Ingest the base's reports with and without evidence: seconds and data-file bytes."""
    src = ctx.workdir / f"live-{n}" / "base.jsonl"
    out: dict[str, float] = {}
    for evidence in (False, True):
        root = ctx.workdir / f"live-{n}" / f"cost-{run}-{int(evidence)}"
        t = time.perf_counter()
        result = run_ingest([src], root, evidence=evidence)
        out[f"ingest_s_{int(evidence)}"] = time.perf_counter() - t
        assert result.snapshot_id is not None
        # data.mdb and (format 3.0) the side file evidence.mdb, where the evidence lives
        snap = root / result.snapshot_id
        out[f"bytes_{int(evidence)}"] = sum(f.stat().st_size for f in snap.glob("*.mdb"))
    out["extra_s"] = out["ingest_s_1"] - out["ingest_s_0"]
    out["extra_bytes_per_id"] = (out["bytes_1"] - out["bytes_0"]) / n
    return out


#: (key of _once's result, metric, unit, target)
_METRICS = (
    ("rate_live", "reports_per_s", "reports/s", ">= 1000"),
    ("vis_p50", "visible_p50_s", "s", None),
    ("vis_p99", "visible_p99_s", "s", "<= 5"),
    ("idle_p50_live", "check_idle_p50_us", "us", None),
    ("idle_p99_live", "check_idle_p99_us", "us", None),
    ("busy_p50_nolive", "check_reports_nolive_p50_us", "us", None),
    ("busy_p99_nolive", "check_reports_nolive_p99_us", "us", None),
    ("busy_p50_live", "check_folding_p50_us", "us", "<= 1.1 x no-live"),
    ("busy_p99_live", "check_folding_p99_us", "us", "<= 1.1 x no-live"),
    ("ingest_s_0", "ingest_no_evidence_s", "s", None),
    ("ingest_s_1", "ingest_evidence_s", "s", None),
    ("extra_bytes_per_id", "evidence_bytes_per_identifier", "B", None),
)


def run(ctx: BenchContext) -> list[Figure]:
    figures: list[Figure] = []
    for n in ctx.sizes:
        repeats = 1 if ctx.quick else 3
        runs = [_once(ctx, n, r) | _evidence_cost(ctx, n, r) for r in range(repeats)]
        note = f"{repeats} run(s); {runs[0]['probes']:.0f} probed reports in the first"
        for key, metric, unit, target in _METRICS:
            samples = tuple(r[key] for r in runs)
            figures.append(Figure(f"live.{metric.rsplit('_', 2)[0]}", metric,
                                  statistics.median(samples), unit, size=n, samples=samples,
                                  target=target, note=note))  # fmt: skip
    return figures
