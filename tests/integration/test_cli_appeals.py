"""``scameter appeals`` end to end in a subprocess, over an intake log with real appeals."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from scameter.intake import IntakeLog, IntakePolicy
from tests.unit.rpc.procs import REPO

WHEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def scameter(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scameter", *args],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def make_log(path: Path) -> None:
    phone, url = ("phone", "+85261234567"), ("url", "https://bakery.example/")
    with IntakeLog(path) as log:
        for i in range(3):
            log.append_appeal(identifier=phone, reason="my shop's number", reporter_hash=f"r{i}",
                              appealed_at=WHEN, policy=IntakePolicy())  # fmt: skip
        log.append_appeal(identifier=phone, reason="\x1b[2Jcleared", reporter_hash="r0",
                          appealed_at=WHEN.replace(day=21))  # fmt: skip
        log.append_appeal(identifier=url, reason="real bakery", reporter_hash="r9",
                          appealed_at=WHEN)  # fmt: skip
        # A duplicate (same reporter, identifier and day) is absorbed, not listed twice.
        _, dup = log.append_appeal(identifier=url, reason="again", reporter_hash="r9",
                                   appealed_at=WHEN)  # fmt: skip
        assert dup


def test_appeals_json_groups_per_identifier(tmp_path: Path) -> None:
    make_log(tmp_path / "intake")
    done = scameter("appeals", "--intake-log", str(tmp_path / "intake"), "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert rows == [
        {"kind": "phone", "value": "+85261234567", "appeals": 4, "reporters": 3,
         "latest": "2026-11-21T09:30:00Z", "reasons": ["my shop's number", "\x1b[2Jcleared"]},
        {"kind": "url", "value": "https://bakery.example/", "appeals": 1, "reporters": 1,
         "latest": "2026-11-20T09:30:00Z", "reasons": ["real bakery"]},
    ]  # fmt: skip


def test_appeals_table_shows_identifiers_and_neutralised_reasons(tmp_path: Path) -> None:
    make_log(tmp_path / "intake")
    done = scameter("appeals", "--intake-log", str(tmp_path / "intake"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["APPEALS", "REPORTERS", "LATEST", "IDENTIFIER", "/", "REASONS"]
    assert lines[1].split() == ["4", "3", "2026-11-21", "phone:+85261234567"]
    assert "\x1b" not in done.stdout  # a reason from the public never drives the terminal
    assert "- \\x1b[2Jcleared" in done.stdout
    assert lines[-2].split() == ["1", "1", "2026-11-20", "url:https://bakery.example/"]


def test_appeals_of_an_empty_log_and_of_a_missing_one(tmp_path: Path) -> None:
    IntakeLog(tmp_path / "intake").close()
    done = scameter("appeals", "--intake-log", str(tmp_path / "intake"))
    assert (done.returncode, done.stdout) == (0, f"no appeals in {tmp_path / 'intake'}\n")
    done = scameter("appeals", "--intake-log", str(tmp_path / "missing"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"scameter: error: {tmp_path / 'missing'}: not an intake log "
        "(the directory serve --intake-log writes)"
    ]
