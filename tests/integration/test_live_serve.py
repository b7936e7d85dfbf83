"""Live updates end to end: a real ``scameter serve --intake-log`` process folds Report RPCs
into what Check, CheckBatch, CheckPayee and CheckMessage answer, within seconds, by itself."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scameter.ingest.pipeline import run_ingest
from scameter.intake import IntakeLog, live_dir_for
from scameter.rpc import Client, issue_reporter_token
from scameter.verdict import Level, ReasonCode
from tests.unit.rpc.procs import server_process

SECRET = "live-serve-test-secret-0123456789"
#: ``scameter serve`` itself (the CLI entry point: it starts the live fold).
SERVE = "import sys; from scameter.cli import main; sys.exit(main(['serve', *sys.argv[1:]]))"
TARGET = "+85261234101"


def _until(probe: Callable[[], bool], seconds: float = 30.0) -> float:
    """Poll ``probe`` until true; the seconds it took (AssertionError past ``seconds``)."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if probe():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


def one_report_base(tmp_path: Path, phone: str) -> Path:
    """A published snapshot (under ``tmp_path/snapshots``) of one public report of ``phone``
    made a day ago: POSSIBLE, the base the live tests fold over."""
    snaps, base = tmp_path / "snapshots", tmp_path / "base.jsonl"
    when = (datetime.now(UTC) - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    base.write_text(
        json.dumps({"type": "report", "source": "public", "reported_at": when,
                    "reporter_hash": "ab" * 16, "category": "investment",
                    "identifiers": [{"kind": "phone", "value": phone}]}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    run_ingest([base], snaps, workers=1)
    return snaps


def test_reports_reach_lookups_within_seconds(tmp_path: Path) -> None:
    snaps, intake = one_report_base(tmp_path, "+85261234100"), tmp_path / "intake"
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--no-auth"]
    args += ["--intake-log", str(intake), "--live-interval", "0.2"]
    env = {"SCAMETER_REPORTER_SECRET": SECRET}
    with server_process(args, code=SERVE, env=env) as srv, Client(srv.target, timeout=10) as c:
        assert c.check(TARGET).level is Level.NO_RECORD

        def report(i: int, value: str = TARGET, kind: str = "phone") -> None:
            token = issue_reporter_token(SECRET.encode(), f"+8529876{i:04d}", 600)
            c.report([(kind, value)], "investment", "", token)

        report(0)
        _until(lambda: c.check(TARGET).level is Level.POSSIBLE)  # one report: POSSIBLE
        time.sleep(1.0)
        assert c.check(TARGET).level is Level.POSSIBLE  # ... and never more
        report(1)
        report(2)
        _until(lambda: c.check(TARGET).level is Level.SUSPICIOUS)
        v = c.check(TARGET)
        assert (v.reporters, v.report_count) == (3, 3)
        # every entry point answers from the same layered view
        batch = c.check_batch([TARGET, "+85261234199", "+85261234100"], "phone")
        assert [b.level for b in batch] == [Level.SUSPICIOUS, Level.NO_RECORD, Level.POSSIBLE]
        assert c.check_payee(proxy_id=TARGET).level is Level.SUSPICIOUS
        assert c.check_message("Call 6123 4101 now").level is Level.SUSPICIOUS
        # a report the fold cannot use (written by another, older writer) is rejected alone
        with IntakeLog(intake) as log:
            log.append(identifiers=[("phone", "12")], category="other", text="",
                       reporter_hash="cd" * 16, reported_at=datetime.now(UTC))  # fmt: skip
        for i in range(3):
            report(10 + i, "+85261234102")
        _until(lambda: c.check("+85261234102").level is Level.SUSPICIOUS)
        # a look-alike of a domain listed live is near-matched by the server at once
        assert c.check("freshphisk.example").level is Level.NO_RECORD
        report(20, "freshphish.example", "domain")
        _until(lambda: c.check("freshphisk.example").level is Level.POSSIBLE)
        near = c.check("freshphisk.example")
        assert [r.code for r in near.reasons] == [ReasonCode.NEAR_MATCH]
        assert near.similar_to is not None
        assert near.similar_to.canonical == "freshphish.example"
    rejects = (live_dir_for(intake) / "rejects.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["raw"] for line in rejects] == ["12"]


def test_no_live_leaves_reports_to_the_next_ingest(tmp_path: Path) -> None:
    snaps, intake = tmp_path / "snapshots", tmp_path / "intake"
    base = tmp_path / "base.jsonl"
    base.write_text(
        json.dumps({"type": "allow", "kind": "phone", "value": "+85261234100", "owner": "x"})
        + "\n",
        encoding="utf-8",
    )
    run_ingest([base], snaps, workers=1)
    args = ["--snapshots", str(snaps), "--listen", "127.0.0.1:0", "--no-auth"]
    args += ["--intake-log", str(intake), "--no-live"]
    env = {"SCAMETER_REPORTER_SECRET": SECRET}
    with server_process(args, code=SERVE, env=env) as srv, Client(srv.target, timeout=10) as c:
        token = issue_reporter_token(SECRET.encode(), "+85298760001", 600)
        c.report([("phone", TARGET)], "investment", "", token)
        time.sleep(1.5)
        assert c.check(TARGET).level is Level.NO_RECORD
    assert not live_dir_for(intake).exists()
