"""Leftovers of a killed ingest: its worker ledger names its helpers with their start times;
the next run kills those still running under the same pid and start time (never a process
that merely reuses a recorded pid), deletes the ledger and the dead build's directory, and
says so in one log line. Real processes throughout."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scameter.index.publish import current_id
from scameter.ingest import run_ingest
from scameter.processes import (
    LEDGER_PREFIX,
    LEDGER_SUFFIX,
    WorkerLedger,
    kill_leftovers,
    start_time,
)

AS_OF = datetime(2026, 11, 21, tzinfo=UTC)
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def _sleeper() -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(SLEEPER)
    deadline = time.monotonic() + 10
    while start_time(proc.pid) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    return proc


def _gone(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> bool:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


def test_next_run_kills_recorded_workers_and_spares_reused_pids(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "snaps"
    root.mkdir()
    leftover, reused = _sleeper(), _sleeper()
    try:
        t_left, t_reused = start_time(leftover.pid), start_time(reused.pid)
        assert t_left
        assert t_reused
        # A dead run's ledger (nobody holds its lock) and its build directory.
        ledger = root / f"{LEDGER_PREFIX}999999{LEDGER_SUFFIX}"
        ledger.write_text(
            f"ingest 999999 1\nworker {leftover.pid} {t_left}\n"
            # the same pid, another start time: the kernel gave the pid to someone else
            f"worker {reused.pid} {t_reused + 1}\nworker 2147483 5\ngarbage line\n"
        )
        dead_build = root / ".tmp-dead"
        dead_build.mkdir()
        (dead_build / ".lock").write_text("")
        with caplog.at_level(logging.WARNING, logger="scameter.ingest.pipeline"):
            src = tmp_path / "list.txt"
            src.write_text("9011 2345\n")
            result = run_ingest([src], root, as_of=AS_OF, workers=1, source="police", kind="phone")
        assert _gone(leftover)
        assert leftover.returncode == -signal.SIGKILL
        assert reused.poll() is None  # a pid reused by another process is never killed
        assert not ledger.exists()
        assert not dead_build.exists()
        assert current_id(root) == result.snapshot_id
        lines = [r.getMessage() for r in caplog.records if "did not finish" in r.getMessage()]
        assert lines == [
            "removed what 1 ingest run(s) that did not finish left: 1 worker process(es) "
            "killed, 1 temporary build director(ies) deleted"
        ]
        assert not list(root.glob(f"{LEDGER_PREFIX}*"))  # this run's own ledger is gone too
    finally:
        for proc in (leftover, reused):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_live_runs_ledger_is_never_touched(tmp_path: Path) -> None:
    worker = _sleeper()
    try:
        ledger = WorkerLedger.open(tmp_path)  # held (flock) by this live process
        ledger.path.write_text(
            f"ingest {os.getpid()} 1\nworker {worker.pid} {start_time(worker.pid)}\n"
        )
        assert kill_leftovers(tmp_path) == ([], 0)
        assert worker.poll() is None
        assert ledger.path.exists()
        ledger.close()
        assert not ledger.path.exists()
    finally:
        worker.kill()
        worker.wait()


_RUN = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from pathlib import Path
    from scameter.ingest import run_ingest
    run_ingest([Path(sys.argv[1])], Path(sys.argv[2]), input_format="list", source="police",
               kind="phone", as_of=datetime(2026, 11, 21, tzinfo=UTC), workers=2)
    """
)


def _ledger_workers(ledger: Path) -> list[tuple[int, int]]:
    out = []
    for line in ledger.read_text().splitlines():
        role, pid, started = line.split()
        if role == "worker":
            out.append((int(pid), int(started)))
    return out


def test_kill_9_of_ingest_its_pool_workers_die_and_the_next_run_tidies(tmp_path: Path) -> None:
    """A real ``kill -9`` of an ingest whose pool runs (blocked reading a FIFO): the workers
    it recorded die with it (PR_SET_PDEATHSIG); the next run removes the ledger."""
    root = tmp_path / "snaps"
    src = tmp_path / "slow.list"
    os.mkfifo(src)
    proc = subprocess.Popen([sys.executable, "-c", _RUN, str(src), str(root)])
    workers: list[tuple[int, int]] = []
    try:
        with open(src, "w", encoding="utf-8") as fifo:
            fifo.write("9011 2345\n" * 300_000)  # 3 MB, a few 1 MiB blocks: the pool starts
            fifo.flush()
            ledger = root / f"{LEDGER_PREFIX}{proc.pid}{LEDGER_SUFFIX}"
            deadline = time.monotonic() + 60
            while len(workers) < 2 and time.monotonic() < deadline:
                if ledger.exists():
                    workers = _ledger_workers(ledger)
                time.sleep(0.05)
            assert len(workers) == 2, "the pool's workers recorded themselves"
            assert all(start_time(pid) == t for pid, t in workers)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 30
    while any(start_time(pid) == t for pid, t in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(start_time(pid) == t for pid, t in workers), "PDEATHSIG killed them"
    assert ledger.exists()  # the killed run could not remove it
    with open(ledger, "rb") as f:  # and nobody holds its lock any more
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    good = tmp_path / "good.list"
    good.write_text("9011 2345\n")
    run_ingest(
        [good], root, input_format="list", source="police", kind="phone", as_of=AS_OF, workers=1
    )
    assert not list(root.glob(f"{LEDGER_PREFIX}*"))
    assert not list(root.glob(".tmp-*"))
