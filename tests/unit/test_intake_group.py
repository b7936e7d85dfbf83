"""Group commit in the intake log: concurrent appends share one write transaction and its
fsync, each acknowledged only once that commit is durable; a failed commit fails its group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import lmdb
import pytest

from scameter.intake import (
    HELD_FILE,
    IntakeCommitError,
    IntakeLog,
    IntakePolicy,
    ReporterCapExceeded,
)
from tests.children import reaped

T0 = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def _report(log: IntakeLog, value: str, reporter: str, policy: IntakePolicy | None = None) -> Any:
    return log.append(
        identifiers=[("phone", value)],
        category="investment",
        text="",
        reporter_hash=reporter,
        reported_at=T0,
        policy=policy,
    )


def _gate(log: IntakeLog, queued: int, second: Callable[[lmdb.Transaction], None] | None) -> None:
    """Hold the first commit until ``queued`` further calls wait behind it (so they form the
    second group); ``second`` then replaces the second commit."""
    real = log._commit_txn
    commits = [0]

    def commit(txn: lmdb.Transaction) -> None:
        commits[0] += 1
        if commits[0] == 1:
            deadline = time.monotonic() + 30
            while len(log._queue) < queued:
                assert time.monotonic() < deadline, "the other calls never queued"
                time.sleep(0.001)
        if commits[0] == 2 and second is not None:
            second(txn)
        real(txn)

    log._commit_txn = commit  # type: ignore[method-assign]


def _run_threads(n: int, target: Callable[[int], Any]) -> list[Any]:
    """``target(i)`` for ``i`` in ``range(n)``, each on its own thread, started in order (the
    first one leads the first commit); results or exceptions, by ``i``."""
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            out[i] = target(i)
        except Exception as e:  # collected for the assertions
            out[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    threads[0].start()
    time.sleep(0.05)  # the first call leads (it is now held in its commit)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(60)
    return out


def test_concurrent_calls_share_one_commit_in_arrival_order(tmp_path: Path) -> None:
    path = tmp_path / "intake"
    n = 12
    with IntakeLog(path) as log:
        _gate(log, n - 1, None)
        out = _run_threads(n, lambda i: _report(log, f"+8529100{i:04d}", f"r{i}"))
        assert all(isinstance(r, tuple) and not r[1] for r in out), out
        assert log.commits == 2  # the first call alone, then the eleven queued behind it
        assert log.committed_calls == n
    with IntakeLog(path) as log:  # reopened: every acknowledged report, each once, in order
        rows = list(log.iter_reports())
        assert sorted(r["id"] for r in rows) == sorted(r[0] for r in out)
        assert [int(r["id"].split("-")[1]) for r in rows] == list(range(n))
        assert log.last_seq() == n - 1


def test_a_failed_commit_fails_every_call_of_its_group(tmp_path: Path) -> None:
    path = tmp_path / "intake"
    n = 8

    def fail(_txn: lmdb.Transaction) -> None:
        raise lmdb.DiskError("injected: fsync failed")

    with IntakeLog(path) as log:
        _gate(log, n - 1, fail)
        out = _run_threads(n, lambda i: _report(log, f"+8529200{i:04d}", f"r{i}"))
        assert isinstance(out[0], tuple)
        assert all(isinstance(e, IntakeCommitError) for e in out[1:]), out
        assert "DiskError" in str(out[1])
        # the log goes on: the next call is stored under the next sequence number
        rid, _ = _report(log, "+85292009999", "r-next")
    with IntakeLog(path) as log:
        ids = [r["id"] for r in log.iter_reports()]
    assert ids == [out[0][0], rid]  # nothing of the failed group was stored
    assert rid.startswith("app-0000000001-")


def test_caps_and_dedup_inside_one_group_are_as_if_one_by_one(tmp_path: Path) -> None:
    """A reporter over its cap is refused and a repeat is a duplicate even when its earlier
    calls are in the same, uncommitted, group; the other calls of the group are unaffected."""
    policy = IntakePolicy(daily_cap=2, burst=0)
    calls: list[tuple[str, str]] = [("+85293000000", "lead")]
    calls += [(f"+8529300000{i}", "capped") for i in range(1, 5)]  # two stored, two refused
    calls += [("+85293000009", "twice"), ("+85293000009", "twice")]  # the second: a duplicate
    with IntakeLog(tmp_path / "intake") as log:
        _gate(log, len(calls) - 1, None)
        out = _run_threads(len(calls), lambda i: _report(log, *calls[i], policy=policy))
        assert log.commits == 2
        rows = list(log.iter_reports())
    capped = out[1:5]
    assert sum(isinstance(r, ReporterCapExceeded) for r in capped) == 2
    stored = {r["id"] for r in rows}
    assert {r[0] for r in capped if isinstance(r, tuple)} <= stored
    first, again = out[5], out[6]
    assert {first[1], again[1]} == {False, True}
    assert first[0] == again[0]
    assert len(rows) == 1 + 2 + 1


def test_held_reports_of_a_group_are_written_before_its_commit(tmp_path: Path) -> None:
    policy = IntakePolicy(daily_cap=0, burst=3, burst_window=timedelta(hours=1))
    n = 6  # six new reporters on one number: the third and later are held
    path = tmp_path / "intake"
    with IntakeLog(path) as log:
        _gate(log, n - 1, None)
        out = _run_threads(n, lambda i: _report(log, "+85294000000", f"new{i}", policy=policy))
        assert log.commits == 2
        assert log.count() == 2
    held = [r[0] for r in out if r[0].startswith("held-")]
    assert len(held) == n - 2
    lines = (path / HELD_FILE).read_text(encoding="utf-8").splitlines()
    assert len(lines) == n - 2
    assert all(h in "".join(lines) for h in held)


def test_group_max_one_commits_each_call_alone(tmp_path: Path) -> None:
    with IntakeLog(tmp_path / "intake", group_max=1) as log:
        out = _run_threads(6, lambda i: _report(log, f"+8529500{i:04d}", f"r{i}"))
        assert all(isinstance(r, tuple) for r in out)
        assert log.commits == 6
        assert log.count() == 6
    with pytest.raises(ValueError, match="group_max"):
        IntakeLog(tmp_path / "other", group_max=0)


def test_the_lead_passes_to_the_oldest_waiting_call_past_group_max(tmp_path: Path) -> None:
    # 1 alone, then 8 queued behind it in groups of at most 3: the leader of each group
    # hands the lead on; every call is acknowledged once, in arrival order, none left waiting
    path = tmp_path / "intake"
    n = 9
    with IntakeLog(path, group_max=3) as log:
        _gate(log, n - 1, None)
        out = _run_threads(n, lambda i: _report(log, f"+8529300{i:04d}", f"r{i}"))
        assert all(isinstance(r, tuple) and not r[1] for r in out), out
        assert log.commits == 1 + 3
        assert log.committed_calls == n
        assert not log._queue
        assert not log._leading
        # the next call finds no leader and leads at once
        rid, _ = _report(log, "+85293009999", "r-next")
        assert log.commits == 5
    with IntakeLog(path) as log:
        ids = [r["id"] for r in log.iter_reports()]
    assert ids[-1] == rid
    assert sorted(ids[:-1]) == sorted(r[0] for r in out)
    assert [int(i.split("-")[1]) for i in ids] == list(range(n + 1))


def test_every_acknowledged_report_of_concurrent_threads_survives_kill_9(tmp_path: Path) -> None:
    """Eight threads append without pause in a child that prints each id once acknowledged;
    kill -9 mid-stream; every printed id is in the reopened log."""
    path = tmp_path / "intake"
    script = textwrap.dedent(
        f"""
        import sys, threading
        from datetime import UTC, datetime
        from pathlib import Path
        from scameter.intake import IntakeLog
        log = IntakeLog(Path({str(path)!r}))
        out = threading.Lock()
        def send(k):
            for j in range(100_000):
                rid, _ = log.append(identifiers=[("phone", f"+8529{{k}}{{j:06d}}")],
                                    category="c", text="", reporter_hash=f"r{{k}}",
                                    reported_at=datetime(2026, 11, 1, tzinfo=UTC))
                with out:
                    sys.stdout.write(rid + "\\n")
                    sys.stdout.flush()
        for k in range(1, 9):
            threading.Thread(target=send, args=(k,), daemon=True).start()
        threading.Event().wait()
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    acked: list[str] = []
    with reaped(child) as proc:
        assert proc.stdout is not None
        while len(acked) < 300:
            line = proc.stdout.readline()
            assert line, "the child died"
            acked.append(line.strip())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    with IntakeLog(path) as log:
        stored = {r["id"] for r in log.iter_reports()}
    assert set(acked) <= stored
