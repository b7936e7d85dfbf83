"""The intake log: append, dedup, order, durability across kill -9, keyed reporter hashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scameter.intake import IntakeLog, hash_reporter, is_intake_dir
from tests.children import reaped

KEY = b"test-key"
T0 = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def _append(log: IntakeLog, value: str, reporter: str, when: datetime) -> tuple[str, bool]:
    return log.append(
        identifiers=[("phone", value)],
        category="impersonation",
        text="said they were the bank",
        reporter_hash=hash_reporter(reporter, KEY),
        reported_at=when,
    )


def test_append_then_iter_gives_schema_rows(tmp_path: Path) -> None:
    with IntakeLog(tmp_path / "intake") as log:
        rid, dup = _append(log, "+85291234567", "+85260000001", T0)
        assert not dup
        rows = list(log.iter_reports())
    assert is_intake_dir(tmp_path / "intake")
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == rid
    assert row["type"] == "report"
    assert row["source"] == "public"
    assert row["status"] == "unverified"
    assert row["reported_at"] == "2026-11-01T09:30:00Z"
    assert row["identifiers"] == [{"kind": "phone", "value": "+85291234567"}]
    assert row["reporter_hash"] == hash_reporter("+85260000001", KEY)
    assert "+85260000001" not in str(row)


@pytest.mark.parametrize(
    ("value", "reporter", "delta", "duplicate"),
    [
        ("+85291234567", "r1", timedelta(hours=3), True),
        ("+85291234567", "r2", timedelta(hours=3), False),
        ("+85291234568", "r1", timedelta(hours=3), False),
        ("+85291234567", "r1", timedelta(days=1), False),
    ],
    ids=["same-reporter-same-day", "other-reporter", "other-identifier", "next-day"],
)
def test_dedup_rule(
    tmp_path: Path, value: str, reporter: str, delta: timedelta, duplicate: bool
) -> None:
    with IntakeLog(tmp_path / "intake") as log:
        first, _ = _append(log, "+85291234567", "r1", T0)
        rid, dup = _append(log, value, reporter, T0 + delta)
        assert dup is duplicate
        assert (rid == first) is duplicate
        assert log.count() == (1 if duplicate else 2)


def test_partial_duplicate_report_is_stored(tmp_path: Path) -> None:
    with IntakeLog(tmp_path / "intake") as log:
        _append(log, "+85291234567", "r1", T0)
        rid, dup = log.append(
            identifiers=[("phone", "+85291234567"), ("url", "http://evil.example/")],
            category="x",
            text="",
            reporter_hash=hash_reporter("r1", KEY),
            reported_at=T0,
        )
        assert not dup
        assert [r["id"] for r in log.iter_reports()][-1] == rid


def test_order_is_append_order_and_reopen_keeps_sequence(tmp_path: Path) -> None:
    path = tmp_path / "intake"
    with IntakeLog(path) as log:
        a, _ = _append(log, "+85291234561", "r1", T0)
    with IntakeLog(path) as log:
        b, _ = _append(log, "+85291234562", "r1", T0)
        assert [r["id"] for r in log.iter_reports()] == [a, b]
    assert a != b


def test_naive_datetime_and_empty_report_refused(tmp_path: Path) -> None:
    with IntakeLog(tmp_path / "intake") as log:
        with pytest.raises(ValueError, match="timezone"):
            _append(log, "+85291234567", "r1", datetime(2026, 1, 1))
        with pytest.raises(ValueError, match="at least one"):
            log.append(identifiers=[], category="", text="", reporter_hash="h", reported_at=T0)


def test_hash_reporter_is_keyed() -> None:
    assert hash_reporter("+85291234567", b"k1") != hash_reporter("+85291234567", b"k2")
    assert hash_reporter("+85291234567", b"k1") == hash_reporter("+85291234567", b"k1")
    assert len(hash_reporter("x", b"k")) == 32
    with pytest.raises(ValueError, match="key"):
        hash_reporter("x", b"")


def test_acknowledged_report_survives_kill_9(tmp_path: Path) -> None:
    """Append in a child, kill -9 it the moment append returned, reopen: the report is there."""
    path = tmp_path / "intake"
    script = textwrap.dedent(
        f"""
        import sys, time
        from datetime import UTC, datetime
        from pathlib import Path
        from scameter.intake import IntakeLog
        log = IntakeLog(Path({str(path)!r}))
        rid, dup = log.append(identifiers=[("phone", "+85291234567")], category="c", text="t",
                              reporter_hash="h", reported_at=datetime(2026, 11, 1, tzinfo=UTC))
        sys.stdout.write(rid + "\\n")
        sys.stdout.flush()
        time.sleep(600)  # never closes the env: the kill below is the only way out
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    with reaped(child) as proc:
        assert proc.stdout is not None
        rid = proc.stdout.readline().strip()  # blocks until append returned (the "ack")
        assert rid.startswith("app-")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with IntakeLog(path) as log:
        assert [r["id"] for r in log.iter_reports()] == [rid]


def test_concurrent_appenders_in_two_processes(tmp_path: Path) -> None:
    """Server workers append from several processes: LMDB serialises them, nothing is lost."""
    path = tmp_path / "intake"
    IntakeLog(path).close()
    script = textwrap.dedent(
        f"""
        import sys
        from datetime import UTC, datetime
        from pathlib import Path
        from scameter.intake import IntakeLog
        log = IntakeLog(Path({str(path)!r}))
        for i in range(40):
            log.append(identifiers=[("phone", f"+8529{{sys.argv[1]}}{{i:06d}}")], category="c",
                       text="", reporter_hash="h", reported_at=datetime(2026, 11, 1, tzinfo=UTC))
        log.close()
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(n)]) for n in (1, 2)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    with IntakeLog(path) as log:
        ids = [r["id"] for r in log.iter_reports()]
        assert log.count() == 80
    assert len(set(ids)) == 80
