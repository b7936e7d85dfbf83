"""The parse workers' rows and evidence (issue 21): microseconds per event of the two steps a
worker of the out-of-core ingest runs after parsing a chunk, Python against compiled.

The steps: :func:`scameter.ingest.evidence.encode_pairs` (each event that can still count as
JSON under the key of each identifier it names, in the evidence sorter's segments) and
:func:`scameter.ingest.ooc.event_rows` (the admission and the ``ev`` / ``li`` CSV text),
each with ``compiled=False`` (the Python reference) and through ``_rowsfast.c`` (when built;
``evidence.ROWS_PATH``). Input: :data:`EVENTS` reports of issue 21's scale mix
(:func:`benchmarks.datagen.write_scale_reports`), parsed as the workers parse them
(:func:`scameter.ingest.worker.process_chunk`) in chunks of the pipeline's
``CHUNK_ITEMS`` lines, with the aggregator's rules at the benchmarks' ``AS_OF``. A figure
is the median of ``ctx.repeats`` passes over every chunk (after the warm-up), per event;
single-threaded, so per core. The compiled and Python results are checked equal first.

Run: ``.venv/bin/python -m benchmarks --only rows``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from benchmarks import datagen
from benchmarks.core import BenchContext, Figure, skipped
from scameter.ingest import evidence, ooc
from scameter.ingest.adapters import AdapterOptions
from scameter.ingest.aggregate import Aggregator
from scameter.ingest.pipeline import CHUNK_ITEMS
from scameter.ingest.policy import Policy
from scameter.ingest.warninglists import NONE
from scameter.ingest.worker import process_chunk

NAME = "rows"
EVENTS = 200_000
QUICK_EVENTS = 2_000
AS_OF = datetime(2026, 11, 26, tzinfo=UTC)

Chunks = list[list[tuple[Any, ...]]]


def chunks(ctx: BenchContext, n: int) -> Chunks:
    """The events of ``n`` scale-mix reports, chunk by chunk as the parse workers hold them."""
    path = datagen.write_scale_reports(ctx.workdir / "rows.jsonl", n, ctx.seed, as_of=AS_OF)
    lines = path.read_bytes().split(b"\n")
    path.unlink()
    opts = AdapterOptions(reporter_key=b"bench", as_of=int(AS_OF.timestamp()), provider="f")
    out: Chunks = []
    for i in range(0, n, CHUNK_ITEMS):
        block = b"\n".join(lines[i : i + CHUNK_ITEMS])
        out.append(process_chunk("jsonl", opts, "rows.jsonl", i + 1, block).events)
    return out


def _steps(rules: dict[tuple[int, int], tuple[int, int]], as_of: int) -> dict[str, Any]:
    """``name -> fn(events, seq, compiled)`` of the two steps."""
    return {
        "encode_pairs": lambda evs, seq, c: evidence.encode_pairs(evs, rules, compiled=c),
        "event_rows": lambda evs, seq, c: ooc.event_rows(evs, rules, as_of, seq, compiled=c),
    }


def _comparable(res: Any) -> Any:
    if isinstance(res, ooc.EventRows):
        a = res.admission
        tallies = (a.counted, a.status_rejected, a.future, a.aged_out, a.categories)
        return res.ev, res.ev_rows, res.li, res.allow, res.delist, tallies
    return res.segments, res.events, res.size


def _same(step: Callable[..., Any], data: Chunks) -> None:
    """The compiled path's result is the reference's (a benchmark never times a wrong path)."""
    for seq, evs in enumerate(data):
        if _comparable(step(evs, seq, True)) != _comparable(step(evs, seq, False)):
            raise AssertionError(f"chunk {seq}: the compiled result differs from the reference")


def _pass_us(step: Callable[..., Any], data: Chunks, compiled: bool, n: int) -> float:
    t0 = time.perf_counter()
    for seq, evs in enumerate(data):
        step(evs, seq, compiled)
    return (time.perf_counter() - t0) / n * 1e6


def run(ctx: BenchContext) -> list[Figure]:
    n = QUICK_EVENTS if ctx.quick else EVENTS
    agg = Aggregator(Policy(), AS_OF, NONE)
    data = chunks(ctx, n)
    events = sum(len(c) for c in data)
    figures: list[Figure] = []
    for name, step in _steps(agg.count_rules(), agg.as_of_ts).items():
        paths = [("python", False)]
        if evidence.ROWS_PATH == "compiled":
            _same(step, data)
            paths.append(("compiled", True))
        else:
            figures.append(skipped(f"rows.{name}_compiled", "built without a C compiler"))
        for label, compiled in paths:
            for _ in range(ctx.warmup):
                _pass_us(step, data, compiled, events)
            samples = tuple(_pass_us(step, data, compiled, events) for _ in range(ctx.repeats))
            figures.append(
                Figure(
                    benchmark=f"rows.{name}_{label}",
                    metric="us_per_event",
                    value=statistics.median(samples),
                    unit="us",
                    size=events,
                    samples=samples,
                    note=f"{len(data)} chunks of scale-mix events; median of {ctx.repeats} "
                    "passes; per core",
                )
            )
    return figures
