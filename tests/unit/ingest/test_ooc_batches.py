"""The out-of-core fold's batch pieces: case ids by position (``CaseIds``) and the tables
DuckDB keeps once ranked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from scameter.ingest.aggregate import Stats
from scameter.ingest.duck import DuckStore
from scameter.ingest.folds import reader_memory
from scameter.ingest.ooc import AggregateBatch, CaseIds, OutOfCore, rows_to_columns
from scameter.ingest.policy import Policy
from scameter.ingest.warninglists import NONE

# cs rows of ranks 10..14 (exclusive), ordered by rank then latest first: rank 10 has two
# ids, 11 none, 12 one, 13 three.
RANKS = [10, 10, 12, 13, 13, 13]
TS = [300, 200, 150, 90, 80, 70]
IDS = ["c10b", "c10a", "c12", "c13c", "c13b", "c13a"]


@pytest.mark.parametrize(
    ("pos", "expected"),
    [(0, ("c10b", "c10a")), (1, ()), (2, ("c12",)), (3, ("c13c", "c13b", "c13a"))],
    ids=["two", "none", "one", "three"],
)
def test_case_ids_by_position(pos: int, expected: tuple[str, ...]) -> None:
    cases = CaseIds.of(np.array(RANKS), np.array(TS), np.array(IDS, dtype=object), 10, 14)
    assert cases.bounds == [0, 2, 2, 3, 6]
    assert tuple(cases.ids[cases.bounds[pos] : cases.bounds[pos + 1]]) == expected


def _batch(cases: CaseIds | None) -> AggregateBatch:
    b = AggregateBatch(Policy(), datetime(2026, 11, 26, tzinfo=UTC), NONE, Stats(), 0)
    rows = [
        (r, f"phone:+8529000000{r}", 0, 1, 1, 2, 0, 100, 300, -1, -1, 1, 0, n, None, None,
         0, None, None, 0)
        for r, n in zip(range(10, 14), (2, 0, 1, 3), strict=True)
    ]  # fmt: skip
    b.load(rows_to_columns(rows), cases)
    return b


def test_batch_case_ids_latest_first_and_after_a_time() -> None:
    b = _batch(CaseIds.of(np.array(RANKS), np.array(TS), np.array(IDS, dtype=object), 10, 14))
    assert b.case_ids(0) == (("c10b", "c10a"), 2)
    assert b.case_ids(1) == ((), 0)
    assert b.case_ids(3) == (("c13c", "c13b", "c13a"), 3)
    assert b.case_ids(3, after=75) == (("c13c", "c13b"), 2)  # after a delisting at 75
    assert b.case_ids(0, after=300) == ((), 0)


def test_batch_without_case_ids_answers_none() -> None:
    b = _batch(None)
    assert [b.case_ids(i) for i in range(4)] == [((), 2), ((), 0), ((), 1), ((), 3)]


def test_rank_leaves_only_the_ranked_tables(tmp_path: Path) -> None:
    store = DuckStore(tmp_path, 256 << 20, 1)
    try:
        store.con.execute(
            "INSERT INTO ev VALUES (1, 1, 'phone:+85290000001', 0, 100, 1, 2, 1, 7, 'c1'), "
            "(2, 2, 'phone:+85290000001', 0, 200, 1, 2, 1, 8, 'c2'), "
            "(3, 3, 'phone:+85290000002', 0, 150, 1, 2, 1, 7, NULL)"
        )
        store.aggregate(as_of=1_000, public_start=0)
        assert store.rank() == 2
        names = {
            r[0] for r in store.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        }
        views = store.con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal")
        assert names == {"agg", "cs", "grp"}
        assert views.fetchone()[0] == 0
        cs = store.con.execute("SELECT rank, ts, cid FROM cs ORDER BY rank, ts DESC").fetchall()
        assert cs == [(0, 200, "c2"), (0, 100, "c1")]
    finally:
        store.close()


def test_feeding_connections_hold_their_buffer_pool_to_a_share(tmp_path: Path) -> None:
    """Each feeding process reads through a connection whose buffer pool is bounded: with
    DuckDB's default (80 % of the machine) it kept every block it had read."""
    assert reader_memory(2500 << 20, 2) == 64 << 20
    assert reader_memory(96 << 20, 2) == 24 << 20
    assert reader_memory(40 << 20, 4) == 16 << 20
    store = DuckStore(tmp_path, 256 << 20, 1)
    path = store.path
    store.close()
    reader = OutOfCore.__new__(OutOfCore)
    reader.reconnect(path, memory_limit=100 << 20)
    try:
        limit = reader.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        threads = reader.con.execute("SELECT current_setting('threads')").fetchone()[0]
    finally:
        reader.con.close()
    assert limit == "100.0 MiB"
    assert int(threads) == 1
