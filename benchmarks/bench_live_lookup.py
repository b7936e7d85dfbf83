"""Live updates, in process: what a live delta adds to one ``Snapshot.check``.

Target (issue 18 item 1): the live path slows lookups by no more than 10%, and costs nothing
measurable while the delta is empty.

Method: a base of ``n`` public reports (one per HK mobile number, ingested with evidence);
``DELTA`` further reports folded into a delta by :class:`~scameter.ingest.live.LiveFolder`,
in this process; then ``Snapshot.check(value, "phone")`` timed over ``PROBES`` base hits and
as many misses, in rounds that alternate the same snapshot without an overlay, with the
overlay installed (``Snapshot.set_overlay``), and without it again: ns per check, the median
of ``ctx.repeats`` rounds. No gRPC and no other process: the lookup path alone (the served
figures, with the fold competing for the CPU, are in :mod:`benchmarks.bench_live`).

Also the fold's own cost: ``FOLD`` further reports (every other one naming a number of the
base, so its evidence is read, the others new numbers) folded by a fresh
:class:`LiveFolder` in polls of ``FOLD_POLL`` reports (what a 0.5 s fold interval gathers at
1,000 reports/s): CPU seconds of this process (``time.process_time``) per report, the median
of ``ctx.repeats`` runs.

And what a worker pays to take a delta in: the ``DELTA`` records read back from the delta and
given to a fresh :class:`Overlay` in generations of ``FOLLOW_POLL`` (``Overlay.update``, which
the worker's follower thread runs under the GIL its handler threads need): microseconds per
record, the median of ``ctx.repeats`` runs.

Run: ``.venv/bin/python -m benchmarks --only live_lookup --size 1000000``.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks import datagen
from benchmarks.core import BenchContext, Figure
from scameter.index import Snapshot
from scameter.index.delta import DB_META, DB_RECORDS, DeltaFollower, Overlay, open_delta
from scameter.ingest.live import DELTA_DIR, LiveFolder
from scameter.ingest.pipeline import run_ingest
from scameter.intake import IntakeLog

DELTA = 10_000
PROBES = 20_000
FOLD = 5_000
FOLD_POLL = 500
#: Records a worker's follower takes in per poll (0.25 s at 1,000 reports/s).
FOLLOW_POLL = 250


def _setup(workdir: Path, n: int, delta: int, seed: int) -> tuple[Path, Path, tuple[str, ...]]:
    phones = datagen.phones(n + delta + PROBES, seed)
    root = workdir / f"n{n}"
    src, snaps, intake, live = root / "base.jsonl", root / "snaps", root / "intake", root / "live"
    root.mkdir(parents=True, exist_ok=True)
    when = datetime.now(UTC) - timedelta(days=1)
    datagen.write_one_report_each(src, phones[:n], when)
    run_ingest([src], snaps)
    with IntakeLog(intake) as log:
        for i, p in enumerate(phones[n : n + delta]):
            log.append(identifiers=[("phone", p)], category="investment", text="",
                       reporter_hash=f"{i + 7:032x}", reported_at=when)  # fmt: skip
    folder = LiveFolder(snaps, intake, live)
    while folder.fold_once():
        pass
    folder.close()
    return snaps, live / DELTA_DIR, phones


def _fold_us_per_report(workdir: Path, snaps: Path, numbers: list[str], run: int) -> float:
    """CPU microseconds per report of folding ``numbers`` (one report each) in polls of
    ``FOLD_POLL`` reports into a fresh delta over ``snaps``."""
    root = workdir / f"fold-{run}"
    when = datetime.now(UTC) - timedelta(hours=1)
    with IntakeLog(root / "intake") as log:
        for i, p in enumerate(numbers):
            log.append(identifiers=[("phone", p)], category="investment", text="",
                       reporter_hash=f"{i + 11:032x}", reported_at=when)  # fmt: skip
    folder = LiveFolder(snaps, root / "intake", root / "live", batch=FOLD_POLL)
    folder.fold_once()  # the first poll opens the base (policy, lists): not the per-report cost
    t = time.process_time()
    while folder.fold_once():
        pass
    spent = time.process_time() - t
    folded = folder.folded - FOLD_POLL
    folder.close()
    return spent / max(1, folded) * 1e6


def delta_records(delta_dir: Path) -> tuple[list[tuple[bytes, bytes]], tuple[str, ...]]:
    """The delta's records (key, value) in key order and its string table, read once."""
    env, dbs = open_delta(delta_dir, readonly=True)
    try:
        with env.begin(buffers=False) as txn:
            items = [(bytes(k), bytes(v)) for k, v in txn.cursor(db=dbs[DB_RECORDS])]
            strings = tuple(json.loads(txn.get(b"strings", db=dbs[DB_META])))
    finally:
        env.close()
    return items, strings


def _follow_us_per_record(delta_dir: Path) -> float:
    """Microseconds per record of a worker taking the delta in (``Overlay.update``, what its
    follower thread runs under the GIL), in generations of ``FOLLOW_POLL`` records."""
    items, strings = delta_records(delta_dir)
    overlay = Overlay("bench", delta_dir)
    t = time.perf_counter()
    for gen, i in enumerate(range(0, len(items), FOLLOW_POLL)):
        overlay.update(gen, dict(items[i : i + FOLLOW_POLL]), strings)
    return (time.perf_counter() - t) / max(1, len(items)) * 1e6


def _ns_per_check(snap: Snapshot, probes: list[str]) -> float:
    check = snap.check
    t = time.perf_counter_ns()
    for p in probes:
        check(p, "phone")
    return (time.perf_counter_ns() - t) / len(probes)


def run(ctx: BenchContext) -> list[Figure]:
    figures: list[Figure] = []
    for n in ctx.sizes:
        delta = min(DELTA, max(10, n // 10)) if ctx.quick else DELTA
        snaps, delta_dir, phones = _setup(ctx.workdir, n, delta, ctx.seed)
        probes = min(PROBES, n)
        hits = list(phones[:probes])
        misses = list(phones[n + delta : n + delta + probes])
        delta_hits = list(phones[n : n + delta])
        follower = DeltaFollower(delta_dir)
        samples: dict[str, list[float]] = {}
        with Snapshot.open_current(snaps) as snap:
            overlay = follower.poll(snap.id)
            assert overlay is not None
            assert len(overlay) == delta
            for p in hits[:1000] + misses[:1000]:  # warm the pages and memos
                snap.check(p, "phone")
            for _ in range(ctx.repeats):
                for mode in ("base", "layered"):
                    snap.set_overlay(overlay if mode == "layered" else None)
                    for what, probe in (("hit", hits), ("miss", misses)):
                        samples.setdefault(f"{mode}_{what}", []).append(_ns_per_check(snap, probe))
                    if mode == "layered":
                        samples.setdefault("delta_hit", []).append(_ns_per_check(snap, delta_hits))
            snap.set_overlay(None)
        follower.close()
        samples["follow"] = [_follow_us_per_record(delta_dir) for _ in range(ctx.repeats)]
        fold = min(FOLD, max(2 * FOLD_POLL, n // 10)) if ctx.quick else FOLD
        mixed = [p for pair in zip(phones[: fold // 2], phones[-fold // 2 :], strict=True)
                 for p in pair]  # fmt: skip
        samples["fold"] = [
            _fold_us_per_report(ctx.workdir / f"n{n}", snaps, mixed, r) for r in range(ctx.repeats)
        ]
        note = f"delta of {delta} records; {probes} probes a kind; {ctx.repeats} rounds"
        for key, target in (("base_hit", None), ("layered_hit", "<= 1.1 x base"),
                            ("base_miss", None), ("layered_miss", "<= 1.1 x base"),
                            ("delta_hit", None)):  # fmt: skip
            s = tuple(samples[key])
            med = statistics.median(s)
            figures.append(Figure(f"live_lookup.{key}", "ns_per_check", med, "ns", size=n,
                                  samples=s, target=target, note=note))  # fmt: skip
        s = tuple(samples["follow"])
        figures.append(Figure("live_lookup.follow", "follow_us_per_record",
                              statistics.median(s), "us", size=n, samples=s,
                              note=f"{delta} records, generations of {FOLLOW_POLL}"))  # fmt: skip
        s = tuple(samples["fold"])
        note = f"{fold} reports, half on base numbers, polls of {FOLD_POLL}"
        med = statistics.median(s)
        figures.append(Figure("live_lookup.fold", "fold_cpu_us_per_report", med, "us", size=n,
                              samples=s, note=note))  # fmt: skip
    return figures
