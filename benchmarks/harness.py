"""The benchmark suite runner: discovery, isolated runs, the results file and the Markdown table.

Responsibility: find every ``bench_<name>`` module of a package (``benchmarks`` by default),
run each with its own :class:`~benchmarks.core.BenchContext`, and turn what they return into
one JSON document (figures + the machine, Python, library versions, git commit, date) and a
Markdown table for ``docs/benchmarks.md``.

Invariants:

* Error isolation: an exception while importing or running one module becomes an ``error``
  figure for that module plus its traceback in :attr:`ModuleResult.error`; the other modules
  still run. :attr:`SuiteResult.failed` is then true and ``python -m benchmarks`` exits
  non-zero, so a broken benchmark cannot rot silently in CI.
* Every module gets a fresh, empty working directory of its own under the suite's workdir.
* Timings are never judged here: a slow figure is a figure, not a failure.
* The JSON is strict (no NaN / Infinity): non-finite numbers are written as ``null``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import importlib
import importlib.metadata
import json
import math
import os
import pkgutil
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.core import BenchContext, Figure

#: Distributions whose versions go into every results file (the libraries the figures depend on).
LIBRARIES: tuple[str, ...] = (
    "scameter",
    "phonenumbers",
    "lmdb",
    "pyroaring",
    "grpcio",
    "protobuf",
    "xxhash",
    "rapidfuzz",
    "tldextract",
    "redis",
)

#: Version of the JSON document's layout; bump the major on incompatible changes.
RESULTS_FORMAT = "1.0"

MODULE_PREFIX = "bench_"

#: Seconds one module may take under ``--quick`` before the harness warns (never fails): the
#: whole quick suite must stay well under a minute on 2 cores because CI runs it on every push.
QUICK_MODULE_BUDGET_S = 15.0


@dataclass(frozen=True, slots=True)
class ModuleResult:
    """What one benchmark module produced: its figures, wall time, and error if it raised."""

    name: str  # short name: "baselines" for benchmarks/bench_baselines.py
    figures: tuple[Figure, ...]
    seconds: float
    error: str | None = None  # formatted traceback when the module raised

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class SuiteResult:
    """A whole run: per-module results plus where and how it ran."""

    modules: tuple[ModuleResult, ...]
    environment: dict[str, Any]
    command: str
    sizes: tuple[int, ...]
    quick: bool
    seconds: float

    @property
    def failed(self) -> bool:
        return any(not m.ok for m in self.modules)

    @property
    def figures(self) -> list[Figure]:
        return [f for m in self.modules for f in m.figures]


# -- discovery ---------------------------------------------------------------------------------


def short_name(module_name: str) -> str:
    """``bench_baselines`` or ``benchmarks.bench_baselines`` -> ``baselines``."""
    leaf = module_name.rsplit(".", 1)[-1]
    return leaf.removeprefix(MODULE_PREFIX)


def discover(package: str = "benchmarks") -> list[str]:
    """Short names of every ``bench_*`` module in ``package``, sorted."""
    pkg = importlib.import_module(package)
    paths = getattr(pkg, "__path__", None)
    if paths is None:
        raise ValueError(f"{package!r} is a module, not a package")
    return sorted(
        short_name(info.name)
        for info in pkgutil.iter_modules(paths)
        if info.name.startswith(MODULE_PREFIX) and not info.ispkg
    )


def select(available: Sequence[str], only: Iterable[str]) -> list[str]:
    """The modules to run: all of ``available``, or those named in ``only`` (in its order).

    Raises :class:`ValueError` naming the unknown ones and listing the known ones.
    """
    wanted = [short_name(n) for n in only]
    if not wanted:
        return list(available)
    unknown = [n for n in wanted if n not in available]
    if unknown:
        raise ValueError(
            f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}"
        )
    return list(dict.fromkeys(wanted))


# -- running -----------------------------------------------------------------------------------


def error_figure(name: str, exc: BaseException) -> Figure:
    """The figure that stands in the table for a module that raised."""
    message = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    return Figure(benchmark=name, metric="error", value=0.0, unit="", note=message)


def run_module(name: str, ctx: BenchContext, *, package: str = "benchmarks") -> ModuleResult:
    """Import ``package.bench_<name>`` and call its ``run(ctx)``; never raises an Exception."""
    t0 = time.perf_counter()
    try:
        module = importlib.import_module(f"{package}.{MODULE_PREFIX}{name}")
        run = getattr(module, "run", None)
        if not callable(run):
            raise TypeError(f"{module.__name__} has no run(ctx) function")
        figures = run(ctx)
        if not isinstance(figures, list | tuple) or not all(isinstance(f, Figure) for f in figures):
            raise TypeError(f"{module.__name__}.run must return list[Figure], got {figures!r}")
    except (Exception, SystemExit) as exc:  # isolation is the point: report it and go on
        return ModuleResult(
            name=name,
            figures=(error_figure(name, exc),),
            seconds=time.perf_counter() - t0,
            error=traceback.format_exc(),
        )
    return ModuleResult(name=name, figures=tuple(figures), seconds=time.perf_counter() - t0)


def run_suite(
    ctx: BenchContext,
    *,
    package: str = "benchmarks",
    only: Iterable[str] = (),
    command: str = "",
    progress: Callable[[str], None] | None = None,
) -> SuiteResult:
    """Run the selected modules one after another, each in ``ctx.workdir / <name>``."""
    names = select(discover(package), only)
    say = progress or (lambda _msg: None)
    results: list[ModuleResult] = []
    load_start = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    t0 = time.perf_counter()
    for name in names:
        workdir = ctx.workdir / name
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        mctx = dataclasses.replace(ctx, workdir=workdir, extras=dict(ctx.extras))
        say(f"[{name}] running (sizes {', '.join(map(str, ctx.sizes))})")
        result = run_module(name, mctx, package=package)
        results.append(result)
        status = "ok" if result.ok else "ERROR"
        say(f"[{name}] {status} in {result.seconds:.1f} s, {len(result.figures)} figure(s)")
        if result.error:
            say(result.error.rstrip())
        if ctx.quick and result.seconds > QUICK_MODULE_BUDGET_S:
            say(
                f"[{name}] warning: {result.seconds:.0f} s in quick mode; a module should shrink "
                f"itself under ctx.quick (budget ~{QUICK_MODULE_BUDGET_S:.0f} s, see core.py)"
            )
        shutil.rmtree(workdir, ignore_errors=True)
        gc.collect()  # memory figures of the next module should not carry this one's garbage
    env = environment()
    env["machine"]["load_average_start"] = load_start
    return SuiteResult(
        modules=tuple(results),
        environment=env,
        command=command,
        sizes=tuple(ctx.sizes),
        quick=ctx.quick,
        seconds=time.perf_counter() - t0,
    )


# -- environment -------------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _field(text: str, key: str) -> str | None:
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip() == key:
            return value.strip()
    return None


def _run(argv: Sequence[str], cwd: Path | None = None) -> str | None:
    try:
        out = subprocess.run(
            list(argv), cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def machine() -> dict[str, Any]:
    """CPU count and model, memory, OS and load: what a reader needs to weigh the figures."""
    meminfo = _read("/proc/meminfo")
    mem_kib = _field(meminfo, "MemTotal")
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": affinity,
        "cpu_model": _field(_read("/proc/cpuinfo"), "model name") or platform.processor() or None,
        "memory_bytes": int(mem_kib.split()[0]) * 1024 if mem_kib else None,
        "platform": platform.platform(),
        "load_average": list(load) if load else None,
    }


def library_versions(names: Iterable[str] = LIBRARIES) -> dict[str, str | None]:
    """Installed version of each distribution, ``None`` where it is not installed."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(repo: Path | None = None) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the checkout the suite runs from."""
    where = repo or Path(__file__).resolve().parents[1]
    sha = _run(["git", "rev-parse", "HEAD"], cwd=where)
    status = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where)
    return {"commit": sha or None, "dirty": None if status is None else bool(status)}


def environment() -> dict[str, Any]:
    """Everything about where the figures were measured."""
    redis_server = shutil.which("redis-server")
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "libraries": library_versions(),
        "tools": {
            "redis-server": _run([redis_server, "--version"]) if redis_server else None,
            "sqlite": _sqlite_version(),
        },
        "git": git_commit(),
    }


def _sqlite_version() -> str:
    return sqlite3.sqlite_version


# -- output ------------------------------------------------------------------------------------


def _finite(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x


def figure_dict(f: Figure) -> dict[str, Any]:
    d = dataclasses.asdict(f)
    lo, hi = f.spread
    d["spread"] = [lo, hi]
    d["samples"] = list(f.samples)
    return dict(_finite(d))


def to_json(result: SuiteResult) -> dict[str, Any]:
    """The results document (see ``docs/benchmarks.md`` for its fields)."""
    return {
        "format": RESULTS_FORMAT,
        "command": result.command,
        "sizes": list(result.sizes),
        "quick": result.quick,
        "seconds": result.seconds,
        "failed": result.failed,
        "environment": _finite(result.environment),
        "modules": [
            {"name": m.name, "ok": m.ok, "seconds": m.seconds, "error": m.error}
            for m in result.modules
        ],
        "figures": [figure_dict(f) for f in result.figures],
    }


def write_json(result: SuiteResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(to_json(result), indent=2, allow_nan=False, sort_keys=False)
    path.write_text(text + "\n", encoding="utf-8")


def fmt_number(x: float) -> str:
    """Three significant figures, thousands separated: 1234567 -> 1,230,000; 0.01234 -> 0.0123."""
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    digits = 3 - 1 - math.floor(math.log10(abs(x)))
    rounded = round(x, digits)
    if digits <= 0:
        return f"{int(rounded):,}"
    return f"{rounded:,.{digits}f}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(figures: Sequence[Figure]) -> str:
    """One row per figure: benchmark, size, metric, median, unit, spread, target, note."""
    lines = [
        "| benchmark | size | metric | median | unit | spread (min-max) | target | note |",
        "|---|---:|---|---:|---|---|---|---|",
    ]
    for f in figures:
        if f.metric in ("error", "skipped"):
            median, spread = "-", ""
        else:
            median = fmt_number(f.value)
            lo, hi = f.spread
            spread = f"{fmt_number(lo)} - {fmt_number(hi)}" if f.samples else ""
        size = f"{f.size:,}" if f.size is not None else ""
        cells = [f.benchmark, size, f.metric, median, f.unit, spread, f.target or "", f.note]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


#: ``>= 300000``, ``< 1 (issue 7)``; not a ratio to another figure (``<= 1.1 x no-live``),
#: which the figure alone cannot judge (the number is followed by ``x``).
_TARGET = re.compile(r"^\s*(<=|>=|<|>)\s*([0-9][0-9_,]*(?:\.[0-9]+)?)(?![0-9.]|\s*x\b)")


def target_status(f: Figure) -> str:
    """``met`` / ``missed by N.Nx`` for a figure whose target reads like ``>= 300000`` or
    ``< 1 (issue 7)``; ``not measured`` for a skipped or failed figure; ``""`` when there is no
    target or it cannot be parsed."""
    if f.target and f.metric in ("error", "skipped"):
        return "not measured"
    m = _TARGET.match(f.target or "")
    if m is None or not math.isfinite(f.value):
        return ""
    op, bound = m.group(1), float(m.group(2).replace(",", "").replace("_", ""))
    met = {
        ">=": f.value >= bound,
        ">": f.value > bound,
        "<=": f.value <= bound,
        "<": f.value < bound,
    }[op]
    if met:
        return "met"
    if bound == 0 or f.value == 0:
        return "missed"
    factor = bound / f.value if op in (">=", ">") else f.value / bound
    return f"missed by {fmt_number(factor)}x"


def targets_table(figures: Sequence[Figure]) -> str:
    """The figures that carry a target, with met / missed: the summary a reader wants first."""
    rows = [f for f in figures if f.target]
    if not rows:
        return ""
    lines = [
        "| benchmark | size | metric | median | unit | target | status |",
        "|---|---:|---|---:|---|---|---|",
    ]
    for f in rows:
        size = f"{f.size:,}" if f.size is not None else ""
        median = "-" if f.metric in ("error", "skipped") else fmt_number(f.value)
        cells = [f.benchmark, size, f.metric, median, f.unit, f.target or "", target_status(f)]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _loads(values: Sequence[float] | None) -> str:
    return "unknown" if not values else " / ".join(f"{v:.2f}" for v in values)


def markdown(result: SuiteResult) -> str:
    """The full Markdown report: how it was run, on what, the table, and any errors."""
    env = result.environment
    m = env.get("machine", {})
    mem = m.get("memory_bytes")
    git = env.get("git", {})
    libs = ", ".join(f"{k} {v}" for k, v in env.get("libraries", {}).items() if v)
    commit = git.get("commit") or "unknown"
    if git.get("dirty"):
        commit += " (with uncommitted changes)"
    out = [
        f"Command: `{result.command}`" if result.command else "",
        "",
        f"* Date: {env.get('date')}; git commit {commit}",
        f"* Machine: {m.get('nproc')} CPUs ({m.get('cpu_model')}), "
        + (f"{mem / 2**30:.1f} GiB memory" if mem else "memory unknown")
        + f", {m.get('platform')}; load average (1, 5, 15 min) at the start "
        + f"{_loads(m.get('load_average_start'))}, at the end {_loads(m.get('load_average'))}",
        f"* Python {env.get('python', {}).get('version')}; {libs}",
        f"* Tools: {env.get('tools')}",
        f"* Sizes: {', '.join(f'{s:,}' for s in result.sizes)}"
        + ("; quick mode (figures only prove the benchmarks run)" if result.quick else "")
        + f"; total {result.seconds:.1f} s",
        "",
    ]
    targets = targets_table(result.figures)
    if targets:
        out += ["Targets:", "", targets, "All figures:", ""]
    out.append(markdown_table(result.figures))
    failed = [mod for mod in result.modules if not mod.ok]
    if failed:
        out.append("Errors:\n")
        for mod in failed:
            first = (mod.error or "").strip().splitlines()
            out.append(f"* `{mod.name}`: {first[-1] if first else 'unknown error'}")
        out.append("")
    return "\n".join(out).lstrip("\n")
