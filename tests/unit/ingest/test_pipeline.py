"""run_ingest wiring: the intake log as an input, progress, pool vs in-process, hubs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scameter.errors import IngestError
from scameter.index import Snapshot
from scameter.ingest import Policy, detect_format, run_ingest
from scameter.intake import IntakeLog, hash_reporter
from scameter.verdict import Level

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)
KEY = b"k"


def test_intake_log_is_an_input(tmp_path: Path) -> None:
    path = tmp_path / "intake"
    with IntakeLog(path) as log:
        for i in range(3):
            log.append(identifiers=[("phone", "+85291234567")], category="shopping", text="",
                       reporter_hash=hash_reporter(f"+8526000000{i}", KEY),
                       reported_at=AS_OF - timedelta(days=i + 1))  # fmt: skip
        log.append(identifiers=[("phone", "+85261234567")], category="", text="",
                   reporter_hash=hash_reporter("x", KEY), reported_at=AS_OF)  # fmt: skip
    assert detect_format(path) == "intake"
    res = run_ingest([path], tmp_path / "snaps", as_of=AS_OF, workers=1)
    assert res.records_read == 4
    assert res.manifest is not None
    assert list(res.manifest.inputs) == ["intake", "official_entities.jsonl"]
    with Snapshot.open_current(tmp_path / "snaps") as s:
        assert s.check("9123 4567", "phone").level is Level.SUSPICIOUS
        assert s.check("6123 4567", "phone").level is Level.POSSIBLE


def _reports(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            row = {"source": "public", "reported_at": "2026-11-01", "reporter": f"user-{i % 7}",
                   "identifiers": [f"9{i % 50:03d} {i % 9:04d}"]}  # fmt: skip
            fh.write(json.dumps(row) + "\n")
    return path


def test_pool_and_in_process_agree_and_progress_reaches_total(tmp_path: Path) -> None:
    data = _reports(tmp_path / "r.jsonl", 3000)
    seen: list[tuple[int, int | None]] = []
    stages: list[str] = []
    own = Policy(official_entities=False)  # progress counts the caller's bytes only
    a = run_ingest([data], tmp_path / "a", as_of=AS_OF, workers=1, policy=own,
                   progress=lambda d, t: seen.append((d, t)), stage=stages.append)  # fmt: skip
    b = run_ingest([data], tmp_path / "b", as_of=AS_OF, workers=2, policy=own)
    assert a.manifest is not None
    assert b.manifest is not None
    assert a.manifest.checksum == b.manifest.checksum
    assert seen
    assert seen[-1] == (data.stat().st_size, data.stat().st_size)
    assert len(stages) == 1
    assert re.fullmatch(r"building the snapshot: [\d,]+ identifiers seen", stages[0])


def test_reporter_ids_never_stored_in_clear(tmp_path: Path) -> None:
    data = _reports(tmp_path / "r.jsonl", 20)
    res = run_ingest([data], tmp_path / "s", as_of=AS_OF, workers=1)
    blob = b"".join(p.read_bytes() for p in (tmp_path / "s" / str(res.snapshot_id)).iterdir())
    assert b"user-3" not in blob


def test_hub_by_report_count_does_not_link(tmp_path: Path) -> None:
    rows = [{"source": "police", "status": "confirmed", "reported_at": "2026-11-01",
             "identifiers": ["2345 6789", f"9{i}00 0000"]} for i in range(1, 4)]  # fmt: skip
    data = tmp_path / "r.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run_ingest([data], tmp_path / "s", as_of=AS_OF, workers=1, policy=Policy(hub_reports=2))
    with Snapshot.open_current(tmp_path / "s") as s:
        assert s.check("9100 0000", "phone").cluster_size == 0
    run_ingest([data], tmp_path / "t", as_of=AS_OF, workers=1)
    with Snapshot.open_current(tmp_path / "t") as s:
        assert s.check("9100 0000", "phone").cluster_size == 4


def test_empty_input_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(IngestError, match="no rows"):
        run_ingest([empty], tmp_path / "s", as_of=AS_OF, workers=1)
    with pytest.raises(IngestError, match="unknown source"):
        run_ingest([empty], tmp_path / "s", source="friends")


def test_pipe_input_with_explicit_format(tmp_path: Path) -> None:
    import os
    import threading

    fifo = tmp_path / "feed.pipe"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "w", encoding="utf-8") as fh:
            fh.write("http://pipe-scam.example/a\nhttp://pipe-scam2.example/b\n")

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        res = run_ingest([fifo], tmp_path / "s", as_of=AS_OF, input_format="openphish",
                         policy=Policy(official_entities=False))  # fmt: skip
    finally:
        writer.join(timeout=30)
    assert res.records_read == 2
    assert res.counts == {"url": {"suspicious": 2}}
