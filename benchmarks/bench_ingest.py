"""Ingest throughput: phone-heavy JSONL reports -> published snapshot, end to end.

Target (issue 4): >= 100k reports/s on this 2-core machine; 10^7 reports in under 3 minutes
(``--with-1e7`` adds that size: a 2.3 GB input, ~2 minutes a run).
The input comes from the shared generator (:func:`benchmarks.datagen.write_phone_reports`):
a pool of N/4 HK mobile numbers in the raw forms people type, N/2 reporters, 90 % public
reports dated over the last year (so ageing matters), police / bank / feed reports, and one
report in ten also naming a URL (so clusters are built). Each timed run ingests into a fresh
snapshots directory.

Run: ``.venv/bin/python -m benchmarks --only ingest --size 1000000`` (or call :func:`main`).
"""

from __future__ import annotations

import resource
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import datagen
from benchmarks.core import BenchContext, Figure
from scameter.ingest import run_ingest

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)


def run(ctx: BenchContext) -> list[Figure]:
    figures: list[Figure] = []
    for n in ctx.sizes:
        data = datagen.write_phone_reports(
            ctx.workdir / f"reports-{n}.jsonl", n, ctx.seed, as_of=AS_OF
        )
        # At most 3 runs (10^7 takes ~2 minutes each); this VM's run-to-run spread is +-10%,
        # so even the big sizes get a median rather than one sample unless --quick.
        repeats = 1 if ctx.quick else max(1, min(ctx.repeats, 3))
        secs: list[float] = []
        ids = 0
        cpu_main = cpu_workers = 0.0
        for r in range(repeats):
            snaps = ctx.workdir / f"snapshots-{n}-{r}"
            self0 = resource.getrusage(resource.RUSAGE_SELF)
            kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            result = run_ingest([data], snaps, as_of=AS_OF)
            secs.append(time.perf_counter() - t0)
            self1 = resource.getrusage(resource.RUSAGE_SELF)
            kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu_main = self1.ru_utime + self1.ru_stime - self0.ru_utime - self0.ru_stime
            cpu_workers = kids1.ru_utime + kids1.ru_stime - kids0.ru_utime - kids0.ru_stime
            ids = result.identifiers
            shutil.rmtree(snaps, ignore_errors=True)
        rates = tuple(n / s for s in secs)
        figures.append(
            Figure(
                benchmark="ingest.phone_reports_jsonl",
                metric="rate",
                value=statistics.median(rates),
                unit="reports/s",
                size=n,
                samples=rates,
                target=">= 100000",
                note=f"end to end incl. snapshot build + publish; {ids} identifiers; "
                f"median of {repeats} run(s), {statistics.median(secs):.1f} s wall; last run "
                f"CPU {cpu_main:.1f} s main + {cpu_workers:.1f} s workers",
            )
        )
        data.unlink()
    return figures


def main(argv: list[str]) -> None:
    n = int(argv[1]) if len(argv) > 1 else 100_000
    work = Path(argv[2]) if len(argv) > 2 else Path("/tmp/bench-ingest")
    work.mkdir(parents=True, exist_ok=True)
    for fig in run(BenchContext(sizes=[n], workdir=work, repeats=1, warmup=0)):
        print(f"{fig.benchmark} n={fig.size}: {fig.value:,.0f} {fig.unit} ({fig.note})")


if __name__ == "__main__":
    main(sys.argv)
