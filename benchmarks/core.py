"""Shared benchmark plumbing: the figure type, the context, and the timing helpers.

Every benchmark module is ``benchmarks/bench_<name>.py`` and defines::

    def run(ctx: BenchContext) -> list[Figure]: ...

The harness (``python -m benchmarks``) discovers those modules, runs them, and writes the
figures to JSON and Markdown. Benchmarks never assert timings: they measure and report.
Medians are quoted, with min/max as the spread, over ``ctx.repeats`` timed runs after a warm-up.

Contract between the harness and each module:

* ``ctx.sizes`` are the data-set sizes to run (identifiers or reports); ``ctx.workdir`` is a
  fresh, empty directory private to the module (the harness deletes it afterwards).
* Data comes from :mod:`benchmarks.datagen` with ``ctx.seed``, so every module measures the
  same identifiers.
* ``ctx.quick`` (``python -m benchmarks --quick``, run by ``.ci/run`` on every push): sizes are
  tiny (a few thousand) and ``repeats`` is 2 with one warm-up. The whole quick suite must
  finish well under a minute on 2 shared cores, so a module whose work does not scale with
  ``ctx.sizes`` (offered-rate sweeps, worker scaling, server start-ups) must shrink itself
  when ``ctx.quick`` is set: fewer steps, shorter durations, one worker count. Quick figures
  only prove the benchmark still runs; they are never quoted.
* Optional dependencies (a ``redis-server`` binary, a module that has not landed yet) are
  not errors: return a :class:`Figure` whose ``metric`` is ``"skipped"`` and whose ``note``
  says what is missing and how to get it. An exception escaping ``run`` is an error: the
  harness records it, goes on with the next module, and exits non-zero at the end.
* Never assert on timings; start servers on 127.0.0.1 only and always stop them.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure: the median of ``samples`` plus enough context to read it."""

    benchmark: str  # e.g. "identifiers.phone_national"
    metric: str  # e.g. "ops_per_s", "p99_us", "bytes_per_identifier"
    value: float  # the median
    unit: str  # e.g. "ops/s", "us", "B", "s"
    size: int | None = None  # identifiers in the data set, where that matters
    samples: tuple[float, ...] = ()
    target: str | None = None  # the target, e.g. ">= 300000", for the report
    note: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def spread(self) -> tuple[float, float]:
        return (min(self.samples), max(self.samples)) if self.samples else (self.value, self.value)


@dataclass(slots=True)
class BenchContext:
    """What every benchmark gets: sizes to run, where to write, and the repeat policy."""

    sizes: list[int]
    workdir: Path
    quick: bool = False
    seed: int = 20261126
    repeats: int = 5
    warmup: int = 1
    extras: dict[str, Any] = field(default_factory=dict)


def time_runs(fn: Callable[[], object], *, repeats: int, warmup: int) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    out: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def rate_figure(
    benchmark: str,
    fn: Callable[[], object],
    items: int,
    ctx: BenchContext,
    *,
    size: int | None = None,
    target: str | None = None,
    note: str = "",
    unit: str = "ops/s",
) -> Figure:
    """Items per second of ``fn`` (which processes ``items`` items per call): median of runs."""
    secs = time_runs(fn, repeats=ctx.repeats, warmup=ctx.warmup)
    rates = tuple(items / s for s in secs)
    return Figure(
        benchmark=benchmark,
        metric="rate",
        value=statistics.median(rates),
        unit=unit,
        size=size,
        samples=rates,
        target=target,
        note=note,
    )


def serving_events(proc: subprocess.Popen[str], count: int = 1) -> list[dict[str, Any]]:
    """The first ``count`` ``"serving"`` log events (one per worker) a scameter server started
    with ``stderr=PIPE, text=True`` writes; the rest of its stderr is then drained in a daemon
    thread so the server never blocks on a full pipe. RuntimeError if it exits first."""
    assert proc.stderr is not None
    events: list[dict[str, Any]] = []
    for line in proc.stderr:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") == "serving":
            events.append(event)
            if len(events) == count:
                threading.Thread(target=lambda: [None for _ in proc.stderr or ()],
                                 daemon=True).start()  # fmt: skip
                return events
    raise RuntimeError("server exited before serving")


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an already sorted list."""
    if not sorted_values:
        raise ValueError("percentile of an empty list")
    k = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def skipped(benchmark: str, reason: str, *, size: int | None = None) -> Figure:
    """A figure that says a benchmark did not run and why (missing optional dependency...)."""
    return Figure(benchmark=benchmark, metric="skipped", value=0.0, unit="", size=size, note=reason)
