"""A ``kill -9`` of ``scameter ingest --engine duckdb`` while DuckDB spills to disk: CURRENT
and the previous snapshot stay as they were, and the next run removes the killed run's work
directory (database, spill files, event files). Real subprocesses, a real spill."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _reports(path: Path, n: int) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            row = {"type": "report", "id": f"c{i}", "source": "public",
                   "reported_at": f"2026-11-0{1 + i % 9}T08:00:00Z",
                   "reporter": f"+8526{rng.randrange(10**7):07d}",
                   "identifiers": [f"9{rng.randrange(10**7):07d}"]}  # fmt: skip
            fh.write(json.dumps(row) + "\n")


def _ingest(root: Path, src: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "scameter", "ingest", "--snapshots", str(root), "--as-of",
            "2026-11-20", "--workers", "1", *extra, str(src)]  # fmt: skip


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


def _tree(path: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(path)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def test_kill_inside_duckdb_spill_leaves_current_and_no_leftovers(tmp_path: Path) -> None:
    root, small, big = tmp_path / "snaps", tmp_path / "small.txt", tmp_path / "big.jsonl"
    small.write_text("9011 2345\n")
    first = _run(_ingest(root, small, "--source", "police", "--kind", "phone"))
    assert first.returncode == 0, first.stderr
    current = (root / "CURRENT").read_text()
    before = _tree(root / current.strip())
    _reports(big, 120_000)
    proc = subprocess.Popen(
        _ingest(root, big, "--engine", "duckdb", "--memory-limit", "80MB"),
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    spilled = False
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if any(p.is_file() for p in root.glob(".tmp-ooc-*/spill/*")):
                spilled = True
                break
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()
    assert spilled, "DuckDB never spilled: the kill did not happen inside its spill"
    assert list(root.glob(".tmp-ooc-*")), "the killed run's work directory is there"
    assert (root / "CURRENT").read_text() == current
    assert _tree(root / current.strip()) == before
    # The next run (any engine) removes what the killed one left.
    again = _run(_ingest(root, small, "--source", "police", "--kind", "phone"))
    assert again.returncode == 0, again.stderr
    assert not list(root.glob(".tmp-*"))
    assert not list(root.glob("**/duckdb_temp*"))
