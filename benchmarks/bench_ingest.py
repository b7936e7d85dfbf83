"""Ingest throughput: phone-heavy JSONL reports -> published snapshot, end to end.

Target (issue 4): >= 100k reports/s on this 2-core machine; 10^7 reports in under 3 minutes.
The input is generated here (seeded, :func:`write_phone_reports`): a pool of N/4 HK mobile
numbers in the raw forms people type, N/2 reporters, 90 % public reports with dates over the
last year (so ageing matters), police / bank / feed reports, and one report in ten also naming
a URL (so clusters are built). Each timed run ingests into a fresh snapshots directory.

Run: ``.venv/bin/python -m benchmarks --only ingest --sizes 1000000`` (or call :func:`main`).
"""

from __future__ import annotations

import json
import random
import resource
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.core import BenchContext, Figure
from scameter.ingest import run_ingest

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
_FORMS = (
    lambda d: f"{d[:4]} {d[4:]}",
    lambda d: f"+852 {d[:4]} {d[4:]}",
    lambda d: d,
    lambda d: f"+852{d}",
    lambda d: f"852-{d[:4]}-{d[4:]}",
)
_SOURCES = (("public", "unverified"),) * 18 + (
    ("police", "confirmed"),
    ("bank", "confirmed"),
)
_CATEGORIES = ("investment", "impersonation", "shopping", "romance", "job", "phishing")


def write_phone_reports(path: Path, n: int, seed: int) -> Path:
    """``n`` phone-heavy report rows of the JSONL schema, deterministic for ``seed``."""
    rng = random.Random(seed)
    pool = [f"{rng.choice('569')}{rng.randrange(10**7):07d}" for _ in range(max(1, n // 4))]
    reporters = max(1, n // 2)
    end = int(AS_OF.timestamp())
    dumps = json.dumps
    with open(path, "w", encoding="utf-8") as fh:
        batch: list[str] = []
        for i in range(n):
            digits = pool[
                int(rng.paretovariate(1.2)) % len(pool) if i % 3 else rng.randrange(len(pool))
            ]
            idents: list[dict[str, str]] = [{"kind": "phone", "value": _FORMS[i % 5](digits)}]
            if i % 10 == 0:
                idents.append(
                    {"kind": "url", "value": f"http://scam{rng.randrange(n // 20 + 1)}.example/pay"}
                )
            source, status = _SOURCES[rng.randrange(len(_SOURCES))]
            ts = end - rng.randrange(365 * 86400)
            row = {
                "type": "report",
                "id": f"r{i}",
                "source": source,
                "status": status,
                "reported_at": datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "reporter": f"u{rng.randrange(reporters)}",
                "category": _CATEGORIES[i % len(_CATEGORIES)],
                "identifiers": idents,
            }
            batch.append(dumps(row))
            if len(batch) >= 10_000:
                fh.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            fh.write("\n".join(batch) + "\n")
    return path


def run(ctx: BenchContext) -> list[Figure]:
    figures: list[Figure] = []
    for n in ctx.sizes:
        data = write_phone_reports(ctx.workdir / f"reports-{n}.jsonl", n, ctx.seed)
        repeats = 1 if n >= 1_000_000 or ctx.quick else max(1, min(ctx.repeats, 3))
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
