"""Report abuse policy on a real gRPC server on loopback: the per-reporter daily cap
(RESOURCE_EXHAUSTED) and the burst hold of reports from new reporters (held.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scameter.intake import HELD_FILE
from scameter.rpc import RemoteError, issue_reporter_token
from tests.unit.rpc.fakes import FakeSnapshot, FakeSource
from tests.unit.rpc.harness import SECRET, serve_fake


def _source() -> FakeSource:
    return FakeSource(FakeSnapshot("snap-1", {}))


def test_reporter_over_its_daily_cap_is_resource_exhausted(tmp_path: Path) -> None:
    token = issue_reporter_token(SECRET, "+85291110000", 600)
    with serve_fake(tmp_path, _source(), report_daily_cap=3, report_burst=0) as h:
        with h.client("k-report") as c:
            for i in range(3):
                c.report([f"+852 5555 000{i}"], "investment", "x", token)
            with pytest.raises(RemoteError) as exc:
                c.report(["+852 5555 0009"], "investment", "x", token)
            # another reporter is not affected
            other = issue_reporter_token(SECRET, "+85291110001", 600)
            c.report(["+852 5555 0009"], "investment", "x", other)
        assert exc.value.code == "RESOURCE_EXHAUSTED"
        assert "3 reports and appeals a day" in str(exc.value)
        assert h.intake.count() == 4  # the refused report stored nothing


def test_burst_from_new_reporters_is_held_until_released(tmp_path: Path) -> None:
    target = "+852 6000 1234"
    with serve_fake(tmp_path, _source(), report_burst=4) as h:
        with h.client("k-report") as c:
            ids = []
            for i in range(6):
                token = issue_reporter_token(SECRET, f"+8529222{i:04d}", 600)
                ids.append(c.report([target], "investment", "x", token)[0])
            # three honest reports of another number still count at once
            for i in range(3):
                token = issue_reporter_token(SECRET, f"+8529333{i:04d}", 600)
                c.report(["+852 6000 9999"], "investment", "x", token)
        assert [i.startswith("held-") for i in ids] == [False] * 3 + [True] * 3
        assert h.intake.count() == 3 + 3
        held = (tmp_path / "intake" / HELD_FILE).read_text(encoding="utf-8").splitlines()
        assert [json.loads(line)["id"] for line in held] == ids[3:]
        assert all("+8529222" not in line for line in held)  # reporters hashed only
        assert h.intake.release_held() == 3
        assert h.intake.count() == 9
        assert not (tmp_path / "intake" / HELD_FILE).exists()
        values = [r["identifiers"][0]["value"] for r in h.intake.iter_reports()]
        assert values.count("+85260001234") == 6


def test_ingest_release_held_counts_them(tmp_path: Path) -> None:
    """``scameter ingest DIR --release-held`` (a real subprocess) moves held reports in."""
    import subprocess
    import sys

    with serve_fake(tmp_path, _source(), report_burst=2) as h:
        with h.client("k-report") as c:
            for i in range(3):
                token = issue_reporter_token(SECRET, f"+8529444{i:04d}", 600)
                c.report(["+852 6000 4321"], "investment", "x", token)
        assert h.intake.count() == 1
    snaps = tmp_path / "out"
    cmd = [sys.executable, "-m", "scameter", "ingest", str(tmp_path / "intake"),
           "--snapshots", str(snaps), "--release-held"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "released 2 held report(s)" in done.stderr
    assert not (tmp_path / "intake" / HELD_FILE).exists()


def test_a_failed_intake_commit_is_unavailable_and_stores_nothing(tmp_path: Path) -> None:
    """The commit of the Report's group fails (an fsync error, injected): the call is
    UNAVAILABLE (retry), nothing is stored; the next Report goes through."""
    import lmdb

    token = issue_reporter_token(SECRET, "+85291110000", 600)
    with serve_fake(tmp_path, _source(), report_burst=0) as h:
        real = h.intake._commit_txn

        def fail(_txn: lmdb.Transaction) -> None:
            raise lmdb.DiskError("injected")

        h.intake._commit_txn = fail  # type: ignore[method-assign,assignment]
        with h.client("k-report") as c:
            with pytest.raises(RemoteError) as exc:
                c.report(["+852 5555 0001"], "investment", "x", token)
            assert exc.value.code == "UNAVAILABLE"
            assert "retry" in str(exc.value)
            assert h.intake.count() == 0
            h.intake._commit_txn = real  # type: ignore[method-assign]
            c.report(["+852 5555 0001"], "investment", "x", token)
        assert h.intake.count() == 1
