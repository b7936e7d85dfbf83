"""``scameter bulk``: rows per second for an analyst's phone list against a local snapshot.

Responsibility: time the whole command as an analyst runs it (read the file, split it into
chunks, normalise, look up, format the verdict columns, write every row, in order) through
:func:`scameter.cli.main`, in-process, for ``ctx.sizes`` rows, with one process and with a
worker pool; and beside it the naive script most people would write: ``phonenumbers.parse``
+ E.164 formatting + a ``set`` lookup per row, which only says "listed or not".

Data: a snapshot built by ingest from the seeded demo-data generator (:mod:`scameter.demo`),
and a list of HK numbers spelled as people type them (:func:`scameter.demo.phones`) with
every tenth row a listed number, so hits and misses both cost what they cost.

Target (issue 6): >= 300,000 rows/s on 2 cores. Never asserted: figures only.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from benchmarks.core import BenchContext, Figure, rate_figure

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
_REPORTS = 20_000


def _snapshot(ctx: BenchContext) -> tuple[Path, list[str]]:
    from scameter import demo
    from scameter.ingest import run_ingest

    snaps = ctx.workdir / "bulk-snapshots"
    reports = ctx.workdir / "bulk-reports.jsonl"
    n = 2_000 if ctx.quick else _REPORTS
    demo.write_sample(reports, n, ctx.seed)
    run_ingest([reports], snaps, as_of=AS_OF, max_reject_ratio=1.0)
    listed = [
        str(ident["value"])
        for row in demo.generate(n, ctx.seed)
        for ident in row["identifiers"]
        if ident["kind"] == "phone"
    ]
    return snaps, listed


def _phone_list(path: Path, rows: int, listed: list[str], seed: int) -> Path:
    from scameter import demo

    hits = itertools.cycle(listed)
    with path.open("w", encoding="utf-8") as f:
        for i, raw in enumerate(demo.phones(rows, seed)):
            f.write((next(hits) if i % 10 == 0 else raw) + "\n")
    return path


def _time_bulk(argv: list[str], repeats: int) -> list[float]:
    from scameter.cli import main

    secs = []
    for _ in range(repeats):
        err = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stderr(err):
            status = main(argv)
        secs.append(time.perf_counter() - t0)
        if status not in (0, 1, 4, 5):
            raise RuntimeError(f"scameter bulk failed ({status}): {err.getvalue().strip()}")
    return secs


def _naive(path: Path, listed: set[str]) -> int:
    import phonenumbers

    hits = 0
    fmt = phonenumbers.PhoneNumberFormat.E164
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:
                number = phonenumbers.parse(line.strip(), "HK")
            except phonenumbers.NumberParseException:
                continue
            hits += phonenumbers.format_number(number, fmt) in listed
    return hits


def _lookup_only(snaps: Path, path: Path, chunk: int) -> None:
    """``Snapshot.check_many`` over the list's stripped lines in ``chunk``-row batches, distinct
    values only (as bulk asks): the lookup share of one bulk process, with no I/O or output."""
    from scameter.index import Snapshot

    with path.open(encoding="utf-8") as f:
        values = [line.strip() for line in f]
    snap = Snapshot.open_current(snaps)
    try:
        for i in range(0, len(values), chunk):
            snap.check_many(list(dict.fromkeys(values[i : i + chunk])), None)
    finally:
        snap.close()


def run(ctx: BenchContext) -> list[Figure]:
    from scameter.identifiers import normalize

    snaps, listed = _snapshot(ctx)
    canonical = {normalize("phone", p).value for p in listed}
    figures: list[Figure] = []
    repeats = 2 if ctx.quick else max(1, min(ctx.repeats, 3))
    for rows in ctx.sizes:
        src = _phone_list(ctx.workdir / f"bulk-{rows}.txt", rows, listed, ctx.seed)
        out = ctx.workdir / f"bulk-{rows}.out.csv"
        for workers in (1, 2):
            argv = ["bulk", str(src), "-o", str(out), "--snapshots", str(snaps)]
            argv += ["--workers", str(workers), "--progress", "never"]
            secs = _time_bulk(argv, repeats)
            rates = tuple(rows / s for s in secs)
            figures.append(
                Figure(
                    benchmark=f"bulk.phone_list_workers_{workers}",
                    metric="rate",
                    value=statistics.median(rates),
                    unit="rows/s",
                    size=rows,
                    samples=rates,
                    target=">= 300000 (2 cores)" if workers == 2 else None,
                    note=f"scameter bulk txt -> csv, 10% listed; {workers} process(es); "
                    f"median of {repeats}, {statistics.median(secs):.2f} s",
                )
            )
        timed = replace(ctx, repeats=repeats, warmup=0)
        figures.append(
            rate_figure(
                "bulk.lookup_only_1_process",
                partial(_lookup_only, snaps, src, 10_000),
                rows,
                timed,
                size=rows,
                unit="rows/s",
                note="Snapshot.check_many alone on the same list (10,000-row batches, distinct "
                "values), reading the list included, no output: the ceiling of one bulk process",
            )
        )
        figures.append(
            rate_figure(
                "bulk.naive_phonenumbers_set",
                partial(_naive, src, canonical),
                rows,
                timed,
                size=rows,
                unit="rows/s",
                note="baseline: phonenumbers.parse + format E.164 + set lookup per row, "
                "no output written, listed/not only",
            )
        )
        src.unlink()
        out.unlink(missing_ok=True)
    return figures
