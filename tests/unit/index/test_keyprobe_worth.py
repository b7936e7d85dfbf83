"""The key probe is built only once it pays: a few values never read the whole key table."""

from __future__ import annotations

from pathlib import Path

from scameter.identifiers import Identifier, Kind
from scameter.index import Record, Snapshot
from scameter.index.keyprobe import ROWS_PER_KEY
from scameter.verdict import Level, ReasonCode
from tests.unit.index.helpers import build

LISTED = 800


def _records() -> list[Record]:
    return [
        Record(Identifier(Kind.PHONE, f"+8529{i:07d}"), Level.HIGH_RISK,
               (ReasonCode.POLICE_CONFIRMED,), sources=("police",), report_count=1)
        for i in range(LISTED)
    ]  # fmt: skip


def test_small_batches_answer_per_row_until_the_probe_pays(tmp_path: Path) -> None:
    build(tmp_path, _records())
    queries = ["+85290000001", "9000 0002", "+85298765432", "junk"]
    with Snapshot.open_current(tmp_path) as snap:
        probe = snap.key_probe
        want = [snap.check_many([q], Kind.PHONE)[0] for q in queries]
        assert probe.size == 0  # four one-row batches: nothing read beyond their own keys
        asked = len(queries)
        # Keep asking: once the rows asked reach 1/ROWS_PER_KEY of the stored keys, it builds.
        batch = [f"9{i:07d}" for i in range(LISTED // ROWS_PER_KEY)]
        answer = snap.check_batch(batch, Kind.PHONE)
        asked += len(batch)
        assert asked * ROWS_PER_KEY >= LISTED
        assert probe.size == LISTED
        assert snap.check_many(queries, Kind.PHONE) == want
        assert [answer.verdict(i).level for i in range(len(batch))] == [Level.HIGH_RISK] * len(
            batch
        )
