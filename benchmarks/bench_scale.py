"""Scale (issue 21): ingest of the measured mix, peak memory of the whole process tree,
snapshot bytes per identifier, lookups with a warm and a cold page cache, first answer of
the CLI.

The input is :func:`benchmarks.datagen.write_scale_reports`: ``n`` reports over ``0.7 n``
distinct phone numbers (85 % public, 10 % telecom, 5 % police, up to 200k reporters, two
months of dates). ``scameter ingest`` runs as a subprocess, as an operator runs it, while a
sampler thread reads ``RssAnon`` from ``/proc/PID/status`` of that process and every
descendant every 50 ms and keeps the largest sum: anonymous memory only, so the snapshot's
file pages (the page cache) do not count.

Lookups: ``Snapshot.check`` of listed numbers in E.164 form, p50 and p99 of single calls with
a warm cache, then the p99 again after ``posix_fadvise(DONTNEED)`` drops ``data.mdb``'s clean
pages from the page cache (no root needed). First answer: wall time of a ``scameter check``
subprocess against the cold snapshot (interpreter start, opening the snapshot, one lookup).

Run: ``.venv/bin/python -m benchmarks --only scale --size 1000000`` (10^7: ``--size 1e7``;
10^8 outside CI: ``--size 1e8``, about 30 minutes to write the input alone).
Targets (issue 21): peak RSS <= 2 GiB at 10^7 and <= 4 GiB at 10^8; 10^7 reports in <= 90 s;
<= 120 snapshot bytes per identifier; first answer < 1 s at any size.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import datagen
from benchmarks.core import BenchContext, Figure

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
_SAMPLE_EVERY = 0.05
_LOOKUPS = 20_000


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as f:
                out += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return out


def _rss_anon(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss_anon(root: int) -> int:
    """RssAnon summed over ``root`` and all its descendants, in bytes."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_anon(pid)
        todo += _children(pid)
    return total


class PeakSampler:
    """Samples :func:`tree_rss_anon` of a process in a thread until it ends; ``peak`` holds the
    largest sum seen."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.peak = 0
        self._proc = proc
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while self._proc.poll() is None:
            self.peak = max(self.peak, tree_rss_anon(self._proc.pid))
            time.sleep(_SAMPLE_EVERY)

    def join(self) -> int:
        self._thread.join()
        return self.peak


def _ingest(
    data: Path,
    snaps: Path,
    engine: str = "memory",
    memory_limit: str | None = None,
    shards: int | None = None,
) -> tuple[float, int, str]:
    """Wall seconds, peak tree RssAnon, and stderr of one ``scameter ingest`` subprocess
    (``engine``: its ``--engine``; ``memory_limit``: its ``--memory-limit``; ``shards``: its
    ``--shards``)."""
    argv = [sys.executable, "-m", "scameter", "ingest", "--snapshots", str(snaps),
            "--as-of", AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ"), "--progress", "never",
            "--no-official-entities", "--engine", engine,
            *(["--memory-limit", memory_limit] if memory_limit else []),
            *(["--shards", str(shards)] if shards else []), str(data)]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = PeakSampler(proc)
    _, err = proc.communicate()
    secs = time.perf_counter() - t0
    peak = sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"scameter ingest failed ({proc.returncode}): {err.decode()[-500:]}")
    return secs, peak, err.decode()


def breakdown(snapdir: Path) -> dict[str, int]:
    """Bytes of each sub-database of a snapshot's LMDB files, ``file:db`` ->
    ``psize * (branch + leaf + overflow pages)`` from LMDB's ``stat()``, plus each file's
    ``file:(meta+free)`` remainder (the two meta pages, free pages, the main database)."""
    import lmdb

    out: dict[str, int] = {}
    for name, subdir in (("data.mdb", True), ("evidence.mdb", False)):
        path = snapdir / name
        if not path.is_file():
            continue
        env = lmdb.open(str(snapdir if subdir else path), subdir=subdir, readonly=True,
                        lock=False, max_dbs=32)  # fmt: skip
        try:
            with env.begin() as txn:
                names = [bytes(k) for k, _ in txn.cursor()]
            used = 0
            for db_name in names:
                db = env.open_db(db_name, create=False)
                with env.begin() as txn:
                    st = txn.stat(db)
                size = st["psize"] * (st["branch_pages"] + st["leaf_pages"] + st["overflow_pages"])
                out[f"{name}:{db_name.decode()}"] = size
                used += size
            out[f"{name}:(meta+free)"] = path.stat().st_size - used
        finally:
            env.close()
    return out


def _drop_cache(data_mdb: Path) -> None:
    """Drop ``data_mdb``'s pages, and those of a sharded snapshot's shard files beside it."""
    for path in (data_mdb, *sorted(data_mdb.parent.glob("shard-*/data.mdb"))):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _lookups(snaps: Path, numbers: list[str], data_mdb: Path) -> tuple[float, float, float]:
    """p50 and p99 (us) of warm single checks, and the p99 after dropping the page cache."""
    from scameter.identifiers import Kind
    from scameter.index import Snapshot

    def timed(snap: Snapshot, values: list[str]) -> list[float]:
        out = []
        clock = time.perf_counter
        for v in values:
            t0 = clock()
            snap.check(v, Kind.PHONE)
            out.append((clock() - t0) * 1e6)
        return out

    with Snapshot.open_current(snaps) as snap:
        timed(snap, numbers)  # warm
        warm = sorted(timed(snap, numbers))
    _drop_cache(data_mdb)
    with Snapshot.open_current(snaps) as snap:
        cold = sorted(timed(snap, numbers))
    return _pct(warm, 0.5), _pct(warm, 0.99), _pct(cold, 0.99)


def _pct(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _first_answer(snaps: Path, number: str, data_mdb: Path) -> float:
    _drop_cache(data_mdb)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "scameter", "check", "--snapshots", str(snaps), number],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
    )  # fmt: skip
    secs = time.perf_counter() - t0
    if proc.returncode & 6 or proc.returncode > 7:  # bitmask: 2 lookup failed, 4 invalid
        raise RuntimeError(f"scameter check failed ({proc.returncode}): {proc.stderr!r}")
    return secs


def _e164(typed: str) -> str:
    digits = "".join(c for c in typed if c.isdigit() or c == "+")
    if digits.startswith("+"):
        return digits
    return "+" + digits if digits.startswith("852") and len(digits) == 11 else "+852" + digits


def run(ctx: BenchContext) -> list[Figure]:
    """Per size, per engine (``--engine``, default memory): the figures below; the ingest
    figures of an engine other than memory are named ``scale.ingest.<engine>``."""
    figures: list[Figure] = []
    engines: list[str] = list(ctx.extras.get("engines") or ["memory"])
    for n in ctx.sizes:
        data = datagen.write_scale_reports(
            ctx.workdir / f"scale-{n}.jsonl", n, ctx.seed, as_of=AS_OF
        )
        for engine in engines:
            figures += _run_engine(ctx, n, data, engine)
        data.unlink()
    return figures


def _run_engine(ctx: BenchContext, n: int, data: Path, engine: str) -> list[Figure]:
    limit = ctx.extras.get("memory_limit") if engine != "memory" else None
    repeats = 1 if ctx.quick else max(1, min(ctx.repeats, 3))
    secs, peaks = [], []
    snaps = ctx.workdir / f"snaps-{n}"
    for r in range(repeats):
        snaps = ctx.workdir / f"snaps-{n}-{engine}-{r}"
        s, peak, _ = _ingest(data, snaps, engine, limit, ctx.extras.get("shards"))
        secs.append(s)
        peaks.append(peak)
    if engine != "memory":
        return _engine_figures(n, engine, limit, secs, peaks, snaps=snaps)
    current = (snaps / "CURRENT").read_text(encoding="ascii").strip()
    data_mdb = snaps / current / "data.mdb"
    manifest = json.loads((snaps / current / "manifest.json").read_text(encoding="utf-8"))
    ids = int(manifest["total"])
    size = data_mdb.stat().st_size
    parts = breakdown(snaps / current)
    on_disk = sum((snaps / current / f).stat().st_size for f in manifest["files"])
    print(f"\nsnapshot bytes at {n:,} reports, {ids:,} identifiers (LMDB stat per sub-db):",
          file=sys.stderr)  # fmt: skip
    for part, b in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"  {part:28s} {b:>14,} B {b / ids:8.1f} B/id", file=sys.stderr)
    rng = random.Random(ctx.seed)
    sample = [datagen._scale_phone(rng.randrange(max(1, n * 7 // 10)), ctx.seed)
              for _ in range(min(_LOOKUPS, n))]  # fmt: skip
    rounds = [_lookups(snaps, [_e164(v) for v in sample], data_mdb) for _ in range(repeats)]
    p50s, p99s, cold99s = (tuple(r[i] for r in rounds) for i in range(3))
    p50, p99, cold99 = (statistics.median(x) for x in (p50s, p99s, cold99s))
    firsts = tuple(_first_answer(snaps, _e164(v), data_mdb) for v in sample[:repeats])
    first = statistics.median(firsts)
    wall = statistics.median(secs)
    note = f"{ids:,} identifiers; median of {repeats} run(s)"
    return [
        Figure("scale.ingest", "wall", wall, "s", n, tuple(secs),
               target="<= 90 at 10^7; <= 1200 at 10^8", note=note),
        Figure("scale.ingest", "rate", n / wall, "reports/s", n,
               tuple(n / s for s in secs), note=note),
        Figure("scale.ingest", "peak_rss_anon", statistics.median(peaks) / 2**20, "MiB", n,
               tuple(p / 2**20 for p in peaks),
               target="<= 2048 at 10^7; <= 4096 at 10^8",
               note="RssAnon summed over the ingest process and its workers, 50 ms samples"),
        Figure("scale.snapshot", "bytes_per_identifier", size / ids, "B", n,
               target="<= 120", note=f"data.mdb (lookups) {size:,} bytes / {ids:,} ids"),
        Figure("scale.snapshot", "bytes_per_identifier_on_disk", on_disk / ids, "B", n,
               note=f"every file of the snapshot: {on_disk:,} bytes"),
        *(Figure("scale.snapshot", f"bytes_per_identifier[{part}]", b / ids, "B", n)
          for part, b in sorted(parts.items())),
        Figure("scale.lookup", "p50_warm", p50, "us", n, p50s,
               note="Snapshot.check of a listed number, E.164, warm cache"),
        Figure("scale.lookup", "p99_warm", p99, "us", n, p99s),
        Figure("scale.lookup", "p99_cold", cold99, "us", n, cold99s,
               note="after posix_fadvise(DONTNEED) on data.mdb"),
        Figure("scale.cli", "first_answer", first, "s", n, firsts, target="< 1",
               note="scameter check subprocess on a cold snapshot, incl. interpreter start"),
    ]  # fmt: skip


def _engine_figures(
    n: int, engine: str, limit: str | None, secs: list[float], peaks: list[int], *, snaps: Path
) -> list[Figure]:
    """The ingest figures of an out-of-core engine (the snapshot is the memory engine's)."""
    current = (snaps / "CURRENT").read_text(encoding="ascii").strip()
    manifest = json.loads((snaps / current / "manifest.json").read_text(encoding="utf-8"))
    name = f"scale.ingest.{engine}"
    wall = statistics.median(secs)
    note = (f"{int(manifest['total']):,} identifiers; --memory-limit {limit or 'default'}; "
            f"median of {len(secs)} run(s)")  # fmt: skip
    return [
        Figure(name, "wall", wall, "s", n, tuple(secs),
               target="<= 90 at 10^7; <= 1200 at 10^8", note=note),
        Figure(name, "rate", n / wall, "reports/s", n, tuple(n / s for s in secs), note=note),
        Figure(name, "peak_rss_anon", statistics.median(peaks) / 2**20, "MiB", n,
               tuple(p / 2**20 for p in peaks), target="<= 2048 at 10^7; <= 4096 at 10^8",
               note="RssAnon summed over the ingest process and its workers, 50 ms samples"),
    ]  # fmt: skip
