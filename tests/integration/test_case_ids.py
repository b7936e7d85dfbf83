"""Case ids end to end: two report files ingested in either order give the same records; the
snapshot keeps the latest 20 ids and the count; ``scameter related`` (a real subprocess, text
and JSON) and the ``Related`` RPC (a real server on loopback) show them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scameter.index import Record, Snapshot, SnapshotManager
from scameter.ingest import run_ingest
from scameter.rpc import Client
from scameter.rpc.servicer import default_normalizer
from tests.unit.rpc.harness import serve_fake

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)
PHONE = "+85263912745"
LINKED = "scam-broker@example.com"


def _report(case: str, day: int, *values: tuple[str, str]) -> str:
    return json.dumps(
        {
            "id": case,
            "source": "police",
            "status": "confirmed",
            "category": "investment",
            "reported_at": f"2026-10-{day:02d}T10:00:00Z",
            "identifiers": [{"kind": k, "value": v} for k, v in values],
        }
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("cases")
    a, b = base / "a.jsonl", base / "b.jsonl"
    # 25 cases name the number; the first also names an e-mail address (one cluster).
    a.write_text(
        "\n".join(
            [_report("app-01", 1, ("phone", PHONE), ("email", LINKED))]
            + [_report(f"app-{n:02d}", n, ("phone", PHONE)) for n in range(2, 14)]
        )
        + "\n"
        + "\x1b[31mnot json\n",  # a reject, so rejects do not disturb the comparison
        encoding="utf-8",
    )
    b.write_text(
        "\n".join(_report(f"app-{n:02d}", n, ("phone", PHONE)) for n in range(14, 26)) + "\n",
        encoding="utf-8",
    )
    return a, b


@pytest.fixture(scope="module")
def root(files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("snaps")
    res = run_ingest(list(files), root, as_of=AS_OF, workers=1, max_reject_ratio=0.5)
    assert res.published
    return root


def _records(root: Path) -> list[Record]:
    with Snapshot.open_current(root) as snap:
        return sorted(snap.export(), key=lambda r: r.identifier.value)


def test_either_order_gives_the_same_records(
    files: tuple[Path, Path], root: Path, tmp_path: Path
) -> None:
    other = run_ingest(
        list(files[::-1]), tmp_path / "snaps", as_of=AS_OF, workers=2, max_reject_ratio=0.5
    )
    assert other.published
    assert _records(tmp_path / "snaps") == _records(root)


def test_latest_twenty_and_the_count_are_stored(root: Path) -> None:
    with Snapshot.open_current(root) as snap:
        assert snap.manifest.format_version == "3.0"
        by_value = {r.identifier.value: r for r in snap.export()}
    phone = by_value[PHONE]
    assert phone.case_count == 25
    assert phone.case_ids == tuple(f"app-{n:02d}" for n in range(25, 5, -1))
    assert (by_value[LINKED].case_ids, by_value[LINKED].case_count) == (("app-01",), 1)


def _cli(root: Path, *args: str) -> str:
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "scameter", "related", "--snapshots", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr  # HIGH RISK found
    return done.stdout


def test_related_on_the_command_line_shows_case_ids(root: Path) -> None:
    rows = [json.loads(x) for x in _cli(root, "--json", LINKED).splitlines()]
    by = {r["canonical"]: r for r in rows}
    assert by[PHONE]["case_count"] == 25
    assert by[PHONE]["case_ids"][:2] == ["app-25", "app-24"]
    assert len(by[PHONE]["case_ids"]) == 20
    assert by[LINKED]["case_ids"] == ["app-01"]
    text = _cli(root, PHONE)
    assert "Cases (25, latest 20): app-25, app-24," in text
    assert "Cases (1): app-01." in text


@pytest.fixture
def manager(root: Path) -> Iterator[SnapshotManager]:
    mgr = SnapshotManager(root, poll_interval=0.05)
    mgr.start()
    yield mgr
    mgr.stop()


def test_related_rpc_carries_case_ids(tmp_path: Path, manager: SnapshotManager) -> None:
    with (
        serve_fake(tmp_path, manager, normalizer=default_normalizer) as h,
        Client(h.target, "k-admin") as c,
        manager.acquire() as local,
    ):
        got = c.related(PHONE)
        assert got == local.related(PHONE, limit=100)
        by = {v.canonical: v for v in got}
        assert by[PHONE].case_count == 25
        assert by[PHONE].case_ids[0] == "app-25"
        assert by[LINKED].case_ids == ("app-01",)
        # A lookup does not read them.
        assert c.check(PHONE).case_ids == ()


def test_intake_log_reports_carry_their_app_ids(tmp_path: Path) -> None:
    from scameter.intake import IntakeLog, hash_reporter

    key = b"k" * 32
    with IntakeLog(tmp_path / "intake") as log:
        rids = [
            log.append(
                identifiers=[("phone", PHONE)],
                category="investment",
                text="a broker",
                reporter_hash=hash_reporter(f"+8526000000{n}", key),
                reported_at=datetime(2026, 11, 1 + n, tzinfo=UTC),
            )[0]
            for n in range(3)
        ]
    assert all(r.startswith("app-") for r in rids)
    res = run_ingest([tmp_path / "intake"], tmp_path / "snaps", as_of=AS_OF, workers=1)
    assert res.published
    with Snapshot.open_current(tmp_path / "snaps") as snap:
        (rec,) = [r for r in snap.export() if r.identifier.value == PHONE]
    assert rec.case_ids == tuple(reversed(rids))
    assert rec.case_count == 3
