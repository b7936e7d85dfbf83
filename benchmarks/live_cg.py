"""Instructions per ``Snapshot.check`` with and without a live delta, and fold CPU per URL report.

Not a registered benchmark (``python -m benchmarks`` does not run it): three commands, run
with the tree to measure on ``PYTHONPATH`` (docs/benchmarks.md, "Round 8: live full verdicts"):

* ``python -m benchmarks.live_cg setup ROOT [clusters]``: a base of 10^4 phone numbers and 500
  URLs (one public report each, a day old) and an intake log of 2,000 new numbers and 200 new
  URLs folded over it by that tree's ``LiveFolder``; the probe lists in ``ROOT/probes.json``.
  With ``clusters``, the base also holds 1,000 pairs of numbers named in one report (1,000
  clusters of two) and the log 200 more reports, each naming one number of two pairs (a
  cluster of four made live; the other two numbers untouched: probe ``phone_cluster``).
* ``python -m benchmarks.live_cg run ROOT PROBE DELTA N``: open the snapshot, follow the delta
  (``DELTA`` 1) or not (0), warm 500 checks, then ``N`` checks of ``PROBE`` (``phone_hit``,
  ``phone_miss``, ``url_hit``, ``url_miss``, ``phone_cluster``), cycled. Under
  ``PYTHONHASHSEED=0 valgrind --tool=callgrind``, the figure per check is (instructions of
  N=6000 - of N=2000) / 4000.
* ``python -m benchmarks.live_cg fold ROOT RUN [clusters]``: CPU microseconds per report of
  folding 1,000 reports of new pages on the hosts of the base's URLs (each re-decides the
  base listing on its registrable domain) in polls of 250 into a fresh delta over ``ROOT``'s
  base; with ``clusters`` (a ``setup ROOT clusters`` root), 1,000 reports each naming a new
  number and one number of each of two base pairs (500 clusters of six, each joining two).
* ``python -m benchmarks.live_cg split ROOT SIZE RUNS [REPORTS]``: wall and CPU milliseconds
  of one fold of one report that makes a hub of the member joining the two halves of a base
  cluster of ``SIZE`` numbers (two chains, each link named by ``REPORTS`` reports, 1 by
  default; ``hub_reports`` 2 x ``REPORTS``, which the hub-to-be reaches in the base), median
  of ``RUNS`` fresh deltas, with the split (``serve --live-split-max-reports`` unbounded)
  and without (0: the cluster waits for compaction), and of one report of a number in no cluster
  (the fold's fixed cost). The base (also 2,000 numbers in no cluster) is built once under
  ``ROOT/split-SIZE-REPORTS``.
"""

from __future__ import annotations

import itertools
import json
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks import datagen
from scameter.index import SnapshotManager
from scameter.ingest.live import LiveFolder
from scameter.ingest.pipeline import run_ingest
from scameter.ingest.policy import Policy
from scameter.intake import IntakeLog

SEED = 7


def _report(i: int, kind: str, value: str | Sequence[str], when: datetime) -> str:
    values = [value] if isinstance(value, str) else list(value)
    return json.dumps({
        "type": "report", "source": "public", "status": "unverified",
        "reported_at": when.isoformat().replace("+00:00", "Z"), "reporter_hash": f"{i:032x}",
        "category": "phishing", "identifiers": [{"kind": kind, "value": v} for v in values],
    })  # fmt: skip


def setup(root: Path, clusters: bool = False) -> None:
    phones, urls = datagen.phones(22_000 if clusters else 16_000, SEED), datagen.urls(1_400, SEED)
    root.mkdir(parents=True, exist_ok=True)
    when = datetime.now(UTC) - timedelta(days=1)
    base: list[tuple[str, str | Sequence[str]]] = [("phone", p) for p in phones[:10_000]]
    base += [("url", u) for u in urls[:500]]
    pairs = [phones[16_000 + 2 * i : 16_002 + 2 * i] for i in range(1_000)] if clusters else []
    base += [("phone", pair) for pair in pairs]
    lines = [_report(i, kind, value, when) + "\n" for i, (kind, value) in enumerate(base)]
    (root / "base.jsonl").write_text("".join(lines), encoding="utf-8")
    run_ingest([root / "base.jsonl"], root / "snaps", as_of=datetime.now(UTC))
    new: list[list[tuple[str, str]]] = [[("phone", p)] for p in phones[10_000:12_000]]
    new += [[("url", u)] for u in urls[500:700]]
    # one number of each of two pairs: the other two are the untouched members probed
    if clusters:
        new += [[("phone", pairs[2 * i][0]), ("phone", pairs[2 * i + 1][0])] for i in range(200)]
    with IntakeLog(root / "intake") as log:
        for i, idents in enumerate(new):
            log.append(identifiers=idents, category="investment", text="",
                       reporter_hash=f"{i + 7:032x}", reported_at=when)  # fmt: skip
    folder = LiveFolder(root / "snaps", root / "intake", root / "live")
    while folder.fold_once():
        pass
    folder.close()
    probes = {
        "phone_hit": phones[:2_000],
        "phone_miss": phones[14_000:16_000],
        "url_hit": urls[:500],
        "url_miss": urls[900:1_400],
    }
    if clusters:
        probes["phone_cluster"] = tuple(pair[1] for pair in pairs[:400])
    (root / "probes.json").write_text(json.dumps(probes), encoding="utf-8")


def run(root: Path, probe: str, delta: bool, n: int) -> None:
    probes: list[str] = json.loads((root / "probes.json").read_text(encoding="utf-8"))[probe]
    kind = probe.partition("_")[0]
    m = SnapshotManager(root / "snaps", delta=(root / "live" / "delta") if delta else None)
    m.refresh()
    if delta and not m.follow_delta():
        raise SystemExit("no delta to follow: run setup first")
    check = m.snapshot.check
    k = len(probes)
    for i in range(500):
        check(probes[i % k], kind)
    for i in range(n):
        check(probes[i % k], kind)
    m.stop()


def _fold_reports(root: Path, clusters: bool) -> list[list[tuple[str, str]]]:
    """The 1,000 reports a fold run folds: new pages on the base's URLs' hosts, or (with
    ``clusters``, over a ``setup ROOT clusters`` base) a new number named with one number of
    each of two base pairs, joining the two pairs' clusters (1,000 joins of two)."""
    if not clusters:
        urls = datagen.urls(1_400, SEED)[:500]
        return [[("url", urls[i % 500].rstrip("/") + f"/new{i}")] for i in range(1_000)]
    phones = datagen.phones(22_000, SEED)  # as setup draws them
    pairs = [phones[16_000 + 2 * i : 16_002 + 2 * i] for i in range(1_000)]
    return [
        [("phone", phones[12_000 + i]), ("phone", pairs[i][0]), ("phone", pairs[i - 500][0])]
        for i in range(1_000)
    ]  # 500 clusters: two pairs and two new numbers each


def fold(root: Path, run_name: str, clusters: bool = False) -> float:
    work = root / f"fold-{run_name}"
    shutil.rmtree(work, ignore_errors=True)
    when = datetime.now(UTC) - timedelta(hours=1)
    with IntakeLog(work / "intake") as log:
        for i, idents in enumerate(_fold_reports(root, clusters)):
            log.append(identifiers=idents, category="investment", text="",
                       reporter_hash=f"{i + 11:032x}", reported_at=when)  # fmt: skip
    folder = LiveFolder(root / "snaps", work / "intake", work / "live", batch=250)
    folder.fold_once()  # the first poll opens the base (policy, lists): not the per-report cost
    t = time.process_time()
    while folder.fold_once():
        pass
    spent = time.process_time() - t
    folded = folder.folded - 250
    folder.close()
    shutil.rmtree(work, ignore_errors=True)
    return spent / max(1, folded) * 1e6


def _split_base(root: Path, size: int, reports: int = 1) -> tuple[Path, str, str]:
    """The ``split`` base under ``root``: two chains of numbers (``reports`` reports name
    each two neighbours) joined by a hub-to-be named once with the head of each and alone
    in as many more reports as make it reach ``hub_reports`` (2 x ``reports``), plus 2,000
    numbers in no cluster; its snapshots, the hub-to-be and a number in no cluster."""
    phones = datagen.phones(size + 2_000, SEED)
    hub, half = phones[0], (size - 1) // 2
    chains = [phones[1 : 1 + half], phones[1 + half : size]]
    snaps = root / "snaps"
    if not (snaps / "CURRENT").exists():
        when = datetime.now(UTC) - timedelta(days=1)
        rows: list[tuple[str, str | Sequence[str]]] = [
            ("phone", (hub, chain[0])) for chain in chains
        ]
        rows += [("phone", hub)] * (2 * reports - 2)
        links = [pair for chain in chains for pair in itertools.pairwise(chain)]
        rows += [("phone", pair) for pair in links for _ in range(reports)]
        rows += [("phone", p) for p in phones[size:]]
        lines = [_report(i, kind, value, when) + "\n" for i, (kind, value) in enumerate(rows)]
        root.mkdir(parents=True, exist_ok=True)
        (root / "base.jsonl").write_text("".join(lines), encoding="utf-8")
        run_ingest([root / "base.jsonl"], snaps, as_of=datetime.now(UTC),
                   policy=Policy(hub_reports=2 * reports))  # fmt: skip
    return snaps, hub, phones[-1]


def _fold_one(snaps: Path, work: Path, number: str, split_max_reports: int) -> tuple[float, float]:
    """Wall and CPU milliseconds of the fold of one report of ``number`` into a fresh delta
    (a first report, of another number, opens the base: not timed)."""
    shutil.rmtree(work, ignore_errors=True)
    when = datetime.now(UTC) - timedelta(hours=1)
    with IntakeLog(work / "intake") as log:
        for i, value in enumerate(("+85299999999", number)):
            log.append(identifiers=[("phone", value)], category="investment", text="",
                       reporter_hash=f"{i + 900:032x}", reported_at=when)  # fmt: skip
    folder = LiveFolder(
        snaps, work / "intake", work / "live", batch=1, split_max_reports=split_max_reports
    )
    folder.fold_once()
    wall, cpu = time.perf_counter(), time.process_time()
    folder.fold_once()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    folder.close()
    shutil.rmtree(work, ignore_errors=True)
    return wall * 1e3, cpu * 1e3


def split(root: Path, size: int, runs: int, reports: int = 1) -> dict[str, tuple[float, float]]:
    """Median (wall ms, CPU ms) per case of :func:`_fold_one` (see the module docstring)."""
    snaps, hub, lone = _split_base(root / f"split-{size}-{reports}", size, reports)
    unbounded = 1 << 40  # the split whatever the cluster's reports (the default refuses some)
    cases = {"lone number": (lone, unbounded), "hub, split": (hub, unbounded),
             "hub, no split": (hub, 0)}  # fmt: skip
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for r in range(runs):
        for name, (number, split_max_reports) in cases.items():
            times[name].append(_fold_one(snaps, root / f"split-run-{r}", number, split_max_reports))
    return {
        name: (statistics.median(t[0] for t in got), statistics.median(t[1] for t in got))
        for name, got in times.items()
    }


def main(argv: list[str]) -> None:
    cmd, root = argv[0], Path(argv[1])
    if cmd == "setup":
        setup(root, clusters=argv[2:] == ["clusters"])
    elif cmd == "run":
        run(root, argv[2], argv[3] == "1", int(argv[4]))
    elif cmd == "fold":
        print(f"{fold(root, argv[2], clusters=argv[3:] == ['clusters']):.1f}")
    elif cmd == "split":
        reports = int(argv[4]) if len(argv) > 4 else 1
        for name, (wall, cpu) in split(root, int(argv[2]), int(argv[3]), reports).items():
            print(f"{name}: wall {wall:.1f} ms, cpu {cpu:.1f} ms")
    else:
        raise SystemExit(f"unknown command {cmd!r} (setup, run, fold, split)")


if __name__ == "__main__":
    main(sys.argv[1:])
