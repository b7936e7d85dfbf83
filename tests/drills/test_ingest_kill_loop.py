"""Drill: ``kill -9`` of ``scameter ingest`` (a real CLI process, 2 workers) at random points,
a few times over: ``CURRENT`` always names a snapshot that opens and verifies, and after the
next complete run no temporary file of the killed runs is left (``.tmp-*`` builds, worker
ledgers, rejects scratch files). Counts are printed (``-s``) and recorded in
docs/reliability.md."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from scameter.index import Snapshot
from scameter.index.publish import current_id
from scameter.verdict import Level

ITERATIONS = 4
SEED = 16


def _ingest(tmp: Path, root: Path, n: int) -> subprocess.Popen[bytes]:
    """Start an ingest of ``n`` police-listed numbers (``n`` differs per run, so each run
    builds a snapshot of its own)."""
    src = tmp / f"list-{n}.txt"
    if not src.exists():
        src.write_text("".join(f"9{i:07d}\n" for i in range(n)), encoding="utf-8")
    cmd = [sys.executable, "-m", "scameter", "ingest", str(src), "--snapshots", str(root),
           "--source", "police", "--kind", "phone", "--no-official-entities", "--workers", "2",
           "--as-of", "2026-11-01"]  # fmt: skip
    env = {**os.environ, "SCAMETER_DATA_DIR": str(tmp / "data")}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _current_is_sound(root: Path) -> str:
    with Snapshot.open_current(root) as snap:
        assert snap.verify() >= 1  # every chunk hash matches
        assert snap.check("90000001", "phone").level is Level.HIGH_RISK
        return snap.id


def test_kill_9_loop_during_ingest(tmp_path: Path) -> None:
    root = tmp_path / "snaps"
    rng = random.Random(SEED)
    base = 100_000
    t = time.monotonic()
    first = _ingest(tmp_path, root, base)
    assert first.wait(300) == 0
    full = time.monotonic() - t
    published = {_current_is_sound(root)}
    killed = finished = 0
    for i in range(1, ITERATIONS + 1):
        delay = rng.uniform(0.05, full)
        proc = _ingest(tmp_path, root, base + i)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        status = proc.wait(300)
        finished += status == 0
        assert status in (0, -signal.SIGKILL)
        published.add(_current_is_sound(root))  # loadable and verified, after every kill
    last = _ingest(tmp_path, root, base + 100)
    assert last.wait(300) == 0
    sid = _current_is_sound(root)
    assert current_id(root) == sid
    leftovers = sorted(
        p.name for p in [*root.glob(".tmp-*"), *root.glob(".ingest-*"), *root.glob(".rejects/*")]
    )
    print(
        f"\ningest kill loop: full run {full:.1f} s, {ITERATIONS} runs killed at random "
        f"(seed {SEED}): {killed} killed, {finished} finished first; {len(published)} "
        f"snapshots published, CURRENT sound after each; leftovers after the next run: "
        f"{leftovers}"
    )
    assert leftovers == []
