"""Case ids per identifier: the latest 20 by (report time, id) plus the count, whatever the
order of the events; only reports that count add theirs."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from scameter.ingest.adapters import AdapterOptions
from scameter.ingest.aggregate import MAX_CASE_IDS, Aggregator
from scameter.ingest.granularity import Granularity
from scameter.ingest.policy import SOURCES, STATUSES, Policy
from scameter.ingest.worker import EV_DELIST, EV_REPORT, process_chunk

AS_OF = 1_800_000_000
AS_OF_TIME = datetime.fromtimestamp(AS_OF, UTC)
DAY = 86400
G = Granularity.default()
PHONE = "phone:+85291234567"
OTHER = "phone:+85261234567"


def rep(
    case: str, *, ts: int = AS_OF - DAY, keys: tuple[str, ...] = (PHONE,), src: str = "police",
    status: str = "confirmed",
) -> tuple[Any, ...]:  # fmt: skip
    """A report event as the worker sends it, case id last."""
    src_i, st_i = SOURCES.index(src), STATUSES.index(status)
    return (EV_REPORT, 1, ts, src_i, st_i, 0, "c", keys, "", case)


def records(events: list[tuple[Any, ...]]) -> dict[str, Any]:
    agg = Aggregator(Policy(), AS_OF_TIME)
    agg.add_events(events)
    return {f"{r.identifier.kind}:{r.identifier.value}": r for r in agg.records(G)}


def test_latest_twenty_and_the_count_whatever_the_order() -> None:
    events = [rep(f"case-{n:02d}", ts=AS_OF - DAY * (30 - n)) for n in range(30)]
    # Two cases at one time: the tie is broken by id.
    events.append(rep("case-tie", ts=AS_OF - DAY * (30 - 10)))
    want = None
    for seed in range(5):
        random.Random(seed).shuffle(events)
        r = records(events)[PHONE]
        assert len(r.case_ids) == MAX_CASE_IDS
        assert r.case_count == 31
        if want is None:
            want = r.case_ids
        assert r.case_ids == want
    assert want is not None
    assert want[0] == "case-29"  # latest first
    assert want[-1] == "case-tie"  # ts of case-10, id greater than "case-10"
    assert "case-10" not in want


def test_an_id_read_twice_is_kept_once_at_its_latest_time() -> None:
    events = [rep("a", ts=AS_OF - 5 * DAY), rep("b", ts=AS_OF - 4 * DAY), rep("a", ts=AS_OF - DAY)]
    for order in (events, events[::-1]):
        r = records(order)[PHONE]
        assert r.case_ids == ("a", "b")
        assert r.case_count == 3  # reports carrying an id, as report_count counts them


def test_reports_that_count_for_nothing_add_no_case_id() -> None:
    got = records(
        [
            rep("counted"),
            rep("future", ts=AS_OF + DAY),
            rep("rejected", status="rejected"),
            rep("aged", ts=AS_OF - 400 * DAY, src="public", status="unverified"),
            rep("", ts=AS_OF - 2 * DAY),  # no id
        ]
    )[PHONE]
    assert got.case_ids == ("counted",)
    assert got.case_count == 1


def test_every_identifier_of_a_report_gets_its_id() -> None:
    got = records([rep("c-1", keys=(PHONE, OTHER))])
    assert got[PHONE].case_ids == got[OTHER].case_ids == ("c-1",)


def test_a_relisted_identifier_keeps_the_cases_after_its_delisting() -> None:
    at = AS_OF - 10 * DAY
    got = records(
        [
            rep("before", ts=at - DAY),
            (EV_DELIST, 1, PHONE, at),
            rep("after", ts=at + DAY),
        ]
    )[PHONE]
    assert (got.case_ids, got.case_count) == (("after",), 1)


def test_events_without_the_trailing_element_count_without_case_ids() -> None:
    got = records([rep("x")[:9]])[PHONE]
    assert (got.case_ids, got.case_count, got.report_count) == ((), 0, 1)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "general"])
def test_worker_carries_the_report_id_last(fast: bool) -> None:
    block = (
        b'{"id": "app-1", "source": "public", "reporter": "r", '
        b'"reported_at": "2026-11-01T00:00:00Z", '
        b'"identifiers": [{"kind": "phone", "value": "91234567"}]}\n'
        b'{"id": 7, "source": "public", "reporter": "r", "reported_at": "2026-11-01T00:00:00Z", '
        b'"identifiers": [{"kind": "phone", "value": "91234567"}]}\n'
        b'{"source": "public", "reporter": "r", "reported_at": "2026-11-01T00:00:00Z", '
        b'"identifiers": [{"kind": "phone", "value": "91234567"}]}\n'
    )
    opts = AdapterOptions(as_of=AS_OF, reporter_key=b"k" * 32)
    res = process_chunk("jsonl", opts, "f", 1, block, fast=fast)
    assert [ev[9] for ev in res.events] == ["app-1", "7", ""]
    assert all(len(ev) == 10 for ev in res.events)
