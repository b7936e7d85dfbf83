"""``python -m benchmarks``: run the benchmark suite and write its figures.

Examples::

    python -m benchmarks --quick --json /tmp/quick.json        # what .ci/run does
    python -m benchmarks --json results.json --markdown results.md   # 10^5 and 10^6
    python -m benchmarks --only baselines --size 100000
    python -m benchmarks --with-1e7                             # adds 10^7 (minutes, GiBs)

The Markdown table always goes to standard output; progress and tracebacks to standard error.
Exit status: 0 when every module ran (whatever the figures say), 1 when any module raised,
2 for bad arguments.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.core import BenchContext
from benchmarks.datagen import DEFAULT_SEED
from benchmarks.harness import discover, markdown, run_suite, select, write_json

DEFAULT_SIZES = (10**5, 10**6)
SIZE_1E7 = 10**7
QUICK_SIZES = (2_000,)
QUICK_REPEATS = 2


def _size(text: str) -> int:
    """Accept ``100000``, ``100_000``, ``1e5`` and ``10**5``."""
    t = text.replace("_", "").replace(",", "").strip()
    try:
        value = int(10 ** int(t[4:])) if t.startswith("10**") else int(float(t))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"size must be >= 1: {text!r}")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run scameter's benchmarks side by side and write the figures.",
    )
    p.add_argument(
        "--size",
        type=_size,
        action="append",
        metavar="N",
        help="data-set size (identifiers); repeatable; default 10^5 and 10^6 (2,000 with --quick)",
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this benchmark module (e.g. baselines); repeatable",
    )
    p.add_argument("--json", type=Path, metavar="OUT", help="write the results JSON here")
    p.add_argument("--markdown", type=Path, metavar="OUT", help="also write the Markdown here")
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes and 2 repeats: proves every benchmark runs (CI); figures not quotable",
    )
    p.add_argument("--with-1e7", action="store_true", help="add the 10^7 size (slow, GiBs)")
    p.add_argument("--repeats", type=int, metavar="R", help="timed runs per figure (default 5)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="data generator seed")
    p.add_argument(
        "--workdir", type=Path, help="scratch directory (default: a temporary one, removed)"
    )
    p.add_argument(
        "--base-snapshot",
        type=Path,
        metavar="DIR",
        help="the live benchmark: serve this prebuilt snapshots root (see "
        "'python -m benchmarks.bench_live build-base') instead of building a base",
    )
    p.add_argument(
        "--serve-workers",
        type=int,
        metavar="N",
        help="the live benchmark: 'scameter serve --workers N' in every arm (default 1)",
    )
    p.add_argument("--list", action="store_true", help="list the benchmark modules and exit")
    p.add_argument(
        "--engine",
        action="append",
        default=[],
        metavar="NAME",
        help="ingest engine(s) for the scale benchmark (memory, duckdb, spark); repeatable; "
        "default memory",
    )
    p.add_argument(
        "--memory-limit", metavar="SIZE", help="--memory-limit of the duckdb engine's ingest"
    )
    p.add_argument(
        "--shards",
        type=int,
        metavar="N",
        help="the shards benchmark: compare ingest --shards N with one file (default 4); the "
        "scale benchmark: ingest with --shards N",
    )
    return p


def sizes_for(args: argparse.Namespace) -> list[int]:
    if args.size:
        sizes = list(args.size)
    elif args.quick:
        sizes = list(QUICK_SIZES)
    else:
        sizes = list(DEFAULT_SIZES)
    if args.with_1e7 and SIZE_1E7 not in sizes:
        sizes.append(SIZE_1E7)
    return sorted(set(sizes))


def main(argv: Sequence[str] | None = None, *, package: str = "benchmarks") -> int:
    """The command; ``package`` lets tests point it at a package of fake benchmarks."""
    args = parser().parse_args(argv)
    available = discover(package)
    if args.list:
        print("\n".join(available))
        return 0
    try:
        select(available, args.only)
    except ValueError as exc:
        print(f"python -m benchmarks: {exc}", file=sys.stderr)
        return 2
    repeats = args.repeats or (QUICK_REPEATS if args.quick else 5)
    if repeats < 1:
        print("python -m benchmarks: --repeats must be >= 1", file=sys.stderr)
        return 2
    command = shlex.join(["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)])

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="scameter-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        ctx = BenchContext(
            sizes=sizes_for(args),
            workdir=workdir,
            quick=args.quick,
            seed=args.seed,
            repeats=repeats,
            warmup=1,
            extras={
                "engines": args.engine or ["memory"],
                "memory_limit": args.memory_limit,
                **({} if args.base_snapshot is None else {"base_snapshot": args.base_snapshot}),
                **({} if args.serve_workers is None else {"serve_workers": args.serve_workers}),
                **({} if args.shards is None else {"shards": args.shards}),
            },
        )
        result = run_suite(ctx, package=package, only=args.only, command=command, progress=progress)
    report = markdown(result)
    print(report)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(report, encoding="utf-8")
    if args.json:
        write_json(result, args.json)
        progress(f"results written to {args.json}")
    if result.failed:
        names = ", ".join(m.name for m in result.modules if not m.ok)
        progress(f"python -m benchmarks: benchmark module(s) raised: {names}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
