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
* Idle Check: ``CHECKS`` sequential ``Check`` calls from one Python client (hits and misses of
  the base) before any report is sent: per-call latency p50/p99. Then the same loop while
  ``SENDERS`` threads send ``Report`` calls at ``RATE`` reports/s in total, each naming a number
  not in the base; every ``PROBE_EVERY``-th report is watched by a probe thread that polls
  ``Check`` until the number is counted (POSSIBLE): ack-to-visible latency, p50/p99.
* The Python client costs ~0.2 ms a call on this machine; both Check loops pay it alike.

Run: ``.venv/bin/python -m benchmarks --only live --size 1000000`` (``--quick``: 2,000 base
identifiers, 200 reports).
"""

from __future__ import annotations

import json
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

from benchmarks import datagen
from benchmarks.core import BenchContext, Figure, percentile
from scameter.ingest.pipeline import run_ingest
from scameter.verdict import Level

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
def _server(snaps: Path, intake: Path) -> Iterator[str]:
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--no-auth",
            "--intake-log", str(intake), "--report-burst", "0", "--report-daily-cap", "0",
            "--live-interval", "0.5"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "SCAMETER_REPORTER_SECRET": SECRET}
    proc = subprocess.Popen([sys.executable, "-c", SERVE, *args], cwd=REPO, env=env,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == "serving":
                break
        else:
            raise RuntimeError("server exited before serving")
        threading.Thread(target=lambda: [None for _ in proc.stderr or ()], daemon=True).start()
        yield f"127.0.0.1:{event['port']}"
    finally:
        proc.terminate()
        proc.wait(60)


def _check_latencies(
    target: str, probes: list[str], until: threading.Event | None = None
) -> list[float]:
    """Sequential Check latencies (s, sorted): ``CHECKS`` calls, or until ``until`` is set."""
    from scameter.rpc import Client

    out: list[float] = []
    with Client(target, timeout=10) as c:
        for _ in range(2):
            for p in probes[:200]:  # warm-up
                c.check(p, "phone")
        i = 0
        while (i < CHECKS) if until is None else not until.is_set():
            p = probes[i % len(probes)]
            t = time.perf_counter()
            c.check(p, "phone")
            out.append(time.perf_counter() - t)
            i += 1
    return sorted(out)


class _Load:
    """``SENDERS`` threads sending ``total`` reports at ``RATE``/s; probes watch some."""

    def __init__(self, target: str, fresh: tuple[str, ...], total: int) -> None:
        self.target = target
        self.fresh = fresh[:total]
        self.acked: dict[str, float] = {}
        self.visible: list[float] = []
        self.sent = 0
        self.rate = 0.0
        self.lock = threading.Lock()
        self.done = threading.Event()

    def send(self, k: int) -> None:
        from scameter.rpc import Client, issue_reporter_token

        per = RATE / SENDERS
        start = time.perf_counter()
        with Client(self.target, timeout=30) as c:
            for j, value in enumerate(self.fresh[k::SENDERS]):
                wait = start + j / per - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                token = issue_reporter_token(SECRET.encode(), f"+8529{k:03d}{j:04d}", 600)
                c.report([("phone", value)], "investment", "", token)
                acked = time.perf_counter()
                with self.lock:
                    self.sent += 1
                    if (j * SENDERS + k) % PROBE_EVERY == 0:
                        self.acked[value] = acked

    def probe(self) -> None:
        from scameter.rpc import Client

        with Client(self.target, timeout=10) as c:
            while not (self.done.is_set() and not self.acked):
                with self.lock:
                    pending = list(self.acked.items())
                for value, acked in pending:
                    if c.check(value, "phone").level is not Level.NO_RECORD:
                        seen = time.perf_counter()
                        with self.lock:
                            del self.acked[value]
                            self.visible.append(seen - acked)
                time.sleep(0.02)

    def run(self) -> None:
        senders = [threading.Thread(target=self.send, args=(k,)) for k in range(SENDERS)]
        prober = threading.Thread(target=self.probe)
        start = time.perf_counter()
        for t in (*senders, prober):
            t.start()
        for t in senders:
            t.join()
        self.rate = self.sent / (time.perf_counter() - start)
        self.done.set()
        prober.join(120)


def _once(ctx: BenchContext, n: int, run: int) -> dict[str, float]:
    snaps, phones = _base(ctx.workdir, n, ctx.seed)
    intake = ctx.workdir / f"live-{n}" / f"intake-{run}"
    probes = [p for pair in zip(phones[: n // 2 : 97], phones[n:], strict=False) for p in pair]
    total = 200 if ctx.quick else 20 * RATE
    with _server(snaps, intake) as target:
        idle = _check_latencies(target, probes)
        load = _Load(target, phones[n + 10_000 :], total)
        t = threading.Thread(target=load.run)
        t.start()
        busy = _check_latencies(target, probes, load.done)
        t.join()
    vis = sorted(load.visible)
    return {
        "idle_p50": percentile(idle, 50) * 1e6,
        "idle_p99": percentile(idle, 99) * 1e6,
        "busy_p50": percentile(busy, 50) * 1e6,
        "busy_p99": percentile(busy, 99) * 1e6,
        "vis_p50": percentile(vis, 50),
        "vis_p99": percentile(vis, 99),
        "rate": load.rate,
        "probes": len(vis),
    }


def run(ctx: BenchContext) -> list[Figure]:
    figures: list[Figure] = []
    for n in ctx.sizes:
        repeats = 1 if ctx.quick else 3
        runs = [_once(ctx, n, r) for r in range(repeats)]

        def med(key: str, rs: list[dict[str, float]] = runs) -> tuple[float, tuple[float, ...]]:
            samples = tuple(r[key] for r in rs)
            return statistics.median(samples), samples

        note = f"{repeats} run(s); {runs[0]['probes']:.0f} probed reports in the first"
        for key, metric, unit, target in (
            ("rate", "reports_per_s", "reports/s", ">= 1000"),
            ("vis_p50", "visible_p50_s", "s", None),
            ("vis_p99", "visible_p99_s", "s", "<= 5"),
            ("idle_p50", "check_idle_p50_us", "us", None),
            ("idle_p99", "check_idle_p99_us", "us", None),
            ("busy_p50", "check_folding_p50_us", "us", "<= 1.1 x idle"),
            ("busy_p99", "check_folding_p99_us", "us", "<= 1.1 x idle"),
        ):
            value, samples = med(key)
            figures.append(Figure("live." + metric.rsplit("_", 2)[0], metric, value, unit,
                                  size=n, samples=samples, target=target, note=note))  # fmt: skip
    return figures
