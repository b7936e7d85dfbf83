"""A/B of ``scameter ingest`` between source trees: CPU seconds and snapshot bytes.

Not a registered benchmark (``python -m benchmarks`` does not run it). Two commands:

* ``python -m benchmarks.ingest_ab gen MIX N OUT``: write ``N`` reports of ``MIX`` to ``OUT``:
  ``scale`` (issue 21's mix, :func:`datagen.write_scale_reports`: phone numbers only) or
  ``demo`` (:func:`datagen.write_reports`: every kind, URLs, domains and e-mail addresses on
  shared domains included).
* ``python -m benchmarks.ingest_ab run DATA WORK ROUNDS ENGINE TREE [TREE...]``: per round,
  for each tree in turn (the order rotated per round), one ``python -m scameter ingest
  --engine ENGINE`` of ``DATA`` into a fresh snapshots root under ``WORK`` with ``PYTHONPATH``
  = the tree (the same interpreter and venv for all), at ``bench_scale.AS_OF``; prints a JSON
  line per run (CPU seconds of the ingest and every process it waited for, from
  ``RUSAGE_CHILDREN``; wall seconds; the files' bytes; each side-file sub-database's bytes)
  and, at the end, per tree the median and range of each figure. Each root is deleted
  after its run. Run it under ``nice -n 19`` on a shared machine: CPU seconds are what the
  load moves least.
* ``python -m benchmarks.ingest_ab parts DATA WORK ENGINE``: one in-process ingest (one
  worker) with the CPU seconds of its linking steps, the domain-link index's included
  (:func:`parts`); copy this file into a baseline tree to time the same steps there.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import datagen
from benchmarks.bench_scale import AS_OF, breakdown


def gen(mix: str, n: int, out: Path) -> None:
    if mix == "scale":
        datagen.write_scale_reports(out, n, 1, as_of=AS_OF)
    elif mix == "demo":
        datagen.write_reports(out, n, 1)
    else:
        raise SystemExit(f"unknown mix {mix!r} (scale or demo)")


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def one(data: Path, root: Path, engine: str, tree: Path) -> dict[str, Any]:
    argv = [sys.executable, "-m", "scameter", "ingest", "--snapshots", str(root),
            "--as-of", AS_OF.strftime("%Y-%m-%dT%H:%M:%SZ"), "--progress", "never",
            "--no-official-entities", "--engine", engine, str(data)]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(tree))
    cpu0, t0 = _children_cpu(), time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=tree, capture_output=True, check=False)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if done.returncode:
        raise SystemExit(f"ingest failed in {tree}: {done.stderr.decode()[-800:]}")
    snap = root / (root / "CURRENT").read_text(encoding="ascii").strip()
    files = {f.name: f.stat().st_size for f in snap.iterdir() if f.name.endswith(".mdb")}
    sub = {k: v for k, v in breakdown(snap).items() if k.startswith("evidence.mdb")}
    manifest = json.loads((snap / "manifest.json").read_text(encoding="utf-8"))
    shutil.rmtree(root)
    return {"tree": str(tree), "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
            "identifiers": manifest["total"], "files": files, "side": sub,
            "load": os.getloadavg()[0]}  # fmt: skip


def run(data: Path, work: Path, rounds: int, engine: str, trees: list[Path]) -> None:
    results: dict[str, list[dict[str, Any]]] = {str(t): [] for t in trees}
    for r in range(rounds):
        for tree in trees[r % len(trees) :] + trees[: r % len(trees)]:
            res = one(data, work / f"ab-{r}", engine, tree)
            results[str(tree)].append(res)
            print(json.dumps(res), flush=True)
    for name, runs in results.items():
        cpu = [x["cpu_s"] for x in runs]
        side = [x["files"].get("evidence.mdb", 0) for x in runs]
        dl = [x["side"].get("evidence.mdb:domlinks", 0) for x in runs]
        print(json.dumps({"tree": name, "cpu_median": statistics.median(cpu),
                          "cpu_range": [min(cpu), max(cpu)],
                          "data_mdb": runs[-1]["files"].get("data.mdb"),
                          "evidence_mdb": statistics.median(side),
                          "domlinks_bytes": statistics.median(dl)}))  # fmt: skip


#: The steps :func:`parts` times: (module, class or None, function).
_PARTS = (
    ("scameter.ingest.ooc", "OutOfCore", "links"),
    ("scameter.ingest.ooc", "OutOfCore", "_derived_tables"),
    ("scameter.ingest.ooc", "OutOfCore", "_domain_index"),
    ("scameter.ingest.aggregate", "Aggregator", "link_groups"),
    ("scameter.index.domlinks", None, "write"),
    ("scameter.ingest.pipeline", None, "run_ingest"),
)


def parts(data: Path, root: Path, engine: str) -> dict[str, float]:
    """CPU seconds (``time.process_time``: every thread of this process, DuckDB's too) of
    one in-process ingest and of the steps of :data:`_PARTS` this tree has (the domain-link
    index's, and the linking they sit in). Single worker, no forked feeders: every step runs
    here."""
    import functools
    import importlib

    spent: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> Any:
            t0 = time.process_time()
            try:
                return fn(*args, **kw)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - t0

        return wrapper

    for mod_name, cls_name, fn_name in _PARTS:
        try:
            mod = importlib.import_module(mod_name)
        except ModuleNotFoundError:
            continue  # a step this tree does not have
        owner = getattr(mod, cls_name) if cls_name else mod
        if hasattr(owner, fn_name):
            setattr(owner, fn_name, timed(f"{cls_name or mod_name}.{fn_name}",
                                          getattr(owner, fn_name)))  # fmt: skip
    ingest = importlib.import_module("scameter.ingest.pipeline").run_ingest
    ingest([data], root, as_of=AS_OF, workers=1, engine=engine)
    shutil.rmtree(root)
    return {k: round(v, 3) for k, v in spent.items()}


def main(argv: list[str]) -> None:
    if argv[:1] == ["gen"]:
        gen(argv[1], int(float(argv[2])), Path(argv[3]))
    elif argv[:1] == ["parts"]:
        print(json.dumps(parts(Path(argv[1]), Path(argv[2]), argv[3])))
    elif argv[:1] == ["run"]:
        run(Path(argv[1]), Path(argv[2]), int(argv[3]), argv[4], [Path(t) for t in argv[5:]])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
