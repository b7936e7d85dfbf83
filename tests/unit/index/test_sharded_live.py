"""The live fold over a sharded base: its base reads (records, evidence) go through the router,
and its answers equal a full ingest of the same reports into one file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from scameter.index import Snapshot
from scameter.intake import IntakeLog
from tests.unit.ingest.test_live import (
    NOW,
    _append,
    _base,
    _fold,
    _layered,
    _roots,
    _row,
    _view,
)


def test_live_fold_over_a_sharded_base_equals_a_full_single_file_ingest(tmp_path: Path) -> None:
    base_rows = [
        _row("+85291234001", "phone", 0),
        _row("+85291234001", "phone", 1, category="investment"),
        _row("https://evil-eq.example/login", "url", 2),
        _row("+85291234009", "phone", 3, source="police"),
        _row("scam@evil-eq.example", "email", 4, days=3),
        *(_row(f"+8526{i:07d}", "phone", 10 + i, source="police") for i in range(0, 400, 7)),
    ]
    live_dir, full_dir = _roots(tmp_path)
    snaps = _base(live_dir, base_rows, shards=4)
    touched = [
        *("+85291234001", "+85262220002", "https://evil-eq.example/login", "evil-eq.example"),
        *("+85291234009", "scam@evil-eq.example", "+85262220003", "+85260000007"),
    ]
    for root in (live_dir, full_dir):
        with IntakeLog(root / "intake") as log:
            _append(log, ("phone", "+85291234001"), 1)
            _append(log, ("phone", "+85291234001"), 2, category="phishing")
            for i in range(3):
                _append(log, ("phone", "+85262220002"), 20 + i, at=NOW - timedelta(days=i))
            _append(log, ("url", "https://evil-eq.example/login"), 30, category="phishing")
            _append(log, ("phone", "+85291234009"), 32)
            _append(log, ("phone", "+85260000007"), 34)
            _append(log, [("email", "scam@evil-eq.example"), ("phone", "+85262220003")], 33)
    _fold(live_dir, snaps).close()
    full = _base(full_dir, base_rows)
    m = _layered(snaps, live_dir)
    try:
        assert m.snapshot.reader.table.sharded
        with Snapshot.open_current(full) as expected:
            assert not expected.reader.table.sharded
            for q in touched:
                assert _view(m.snapshot.check(q)) == _view(expected.check(q)), q
    finally:
        m.stop()
