"""Aggregation and the policy decision, on hand-made events (no files, no index)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from scameter.ingest.aggregate import Aggregator
from scameter.ingest.granularity import Granularity
from scameter.ingest.policy import SOURCES, STATUSES, Policy
from scameter.ingest.worker import EV_ALLOW, EV_DELIST, EV_REPORT
from scameter.verdict import Level, ReasonCode

AS_OF = 1_800_000_000  # Unix seconds, as the events carry times
AS_OF_TIME = datetime.fromtimestamp(AS_OF, UTC)
DAY = 86400
G = Granularity.default()
PHONE = "phone:+85291234567"


def rep(
    key: str,
    *,
    src: str = "public",
    status: str = "unverified",
    ts: int = AS_OF - DAY,
    reporter: int = 1,
    category: str = "c",
    keys: tuple[str, ...] = (),
) -> tuple[Any, ...]:
    """A report event as the worker sends it."""
    src_i, st_i = SOURCES.index(src), STATUSES.index(status)
    return (EV_REPORT, 1, ts, src_i, st_i, reporter, category, (key, *keys))


def decide(events: list[tuple[Any, ...]], policy: Policy | None = None) -> dict[str, Any]:
    agg = Aggregator(policy or Policy(), AS_OF_TIME)
    agg.add_events(events)
    return {f"{r.identifier.kind}:{r.identifier.value}": r for r in agg.records(G)}


def test_window_edges() -> None:
    start = AS_OF - 180 * DAY
    got = decide([rep(PHONE, ts=start, reporter=1), rep(PHONE, ts=start - 1, reporter=2)])
    assert got[PHONE].reporters == 1
    assert got[PHONE].report_count == 1
    assert got[PHONE].first_reported == start


def test_anonymous_public_reports_share_one_reporter() -> None:
    got = decide([rep(PHONE, reporter=0) for _ in range(5)])
    assert got[PHONE].level is Level.POSSIBLE
    assert (got[PHONE].report_count, got[PHONE].reporters) == (5, 1)


def test_many_distinct_reporters_switch_to_a_set() -> None:
    events = [rep(PHONE, reporter=r) for r in range(1, 200)] + [rep(PHONE, reporter=7)]
    got = decide(events)
    assert got[PHONE].reporters == 199
    assert got[PHONE].level is Level.SUSPICIOUS


def test_relisting_after_delisting_can_be_turned_off() -> None:
    events = [
        (EV_DELIST, 1, PHONE, AS_OF - 10 * DAY),
        rep(PHONE, src="police", status="confirmed", ts=AS_OF - DAY),
    ]
    assert decide(events)[PHONE].level is Level.HIGH_RISK
    assert PHONE not in decide(events, Policy(relist_confirmed_after_delisting=False))


def test_allow_owner_is_order_independent_and_spoof_advice() -> None:
    events = [(EV_ALLOW, 1, PHONE, "Zeta Bank"), (EV_ALLOW, 2, PHONE, "Alpha Bank"), rep(PHONE)]
    for order in (events, events[::-1]):
        r = decide(order)[PHONE]
        assert r.owner == "Alpha Bank"
        assert r.level is Level.VERIFIED
        assert r.reasons == (ReasonCode.ALLOWLISTED, ReasonCode.SPOOF_ADVICE)


@pytest.mark.parametrize(
    ("src", "status", "level", "reason"),
    [
        ("police", "confirmed", Level.HIGH_RISK, ReasonCode.POLICE_CONFIRMED),
        ("police", "unverified", Level.POSSIBLE, ReasonCode.POLICE_UNVERIFIED),
        ("bank", "confirmed", Level.HIGH_RISK, ReasonCode.PARTNER_CONFIRMED),
        ("telecom", "unverified", Level.SUSPICIOUS, ReasonCode.PARTNER_UNVERIFIED),
        ("feed", "confirmed", Level.SUSPICIOUS, ReasonCode.FEED_LISTING),
        # A feed row the feed itself marks unverified (PhishTank "verified: no").
        ("feed", "unverified", Level.POSSIBLE, ReasonCode.FEED_UNVERIFIED),
    ],
    ids=str,
)
def test_source_levels(src: str, status: str, level: Level, reason: ReasonCode) -> None:
    r = decide([rep(PHONE, src=src, status=status)])[PHONE]
    assert (r.level, r.reasons, r.sources) == (level, (reason,), (src,))


def test_worst_level_wins_and_reasons_accumulate() -> None:
    r = decide(
        [rep(PHONE, src="feed", status="confirmed"), rep(PHONE, src="police", status="confirmed")]
    )[PHONE]
    assert r.level is Level.HIGH_RISK
    assert r.reasons == (ReasonCode.POLICE_CONFIRMED, ReasonCode.FEED_LISTING)


def test_records_do_not_depend_on_event_order() -> None:
    rng = random.Random(7)
    keys = [f"phone:+8529{i:07d}" for i in range(30)]
    events = [
        rep(rng.choice(keys), src=rng.choice(SOURCES), status=rng.choice(STATUSES),
            ts=AS_OF - rng.randrange(400) * DAY, reporter=rng.randrange(5),
            category=rng.choice("abc"), keys=(rng.choice(keys),) if rng.random() < 0.3 else ())
        for _ in range(300)
    ]  # fmt: skip
    events += [(EV_DELIST, 1, keys[3], AS_OF - 50 * DAY), (EV_ALLOW, 1, keys[4], "Official")]
    base = list(decide(events).values())
    for _ in range(3):
        rng.shuffle(events)
        assert list(decide(events).values()) == base


def test_identifier_named_twice_in_one_report_counts_once() -> None:
    r = decide([rep(PHONE, keys=(PHONE, "~" + PHONE))])[PHONE]
    assert r.report_count == 1
    assert r.cluster is None


def test_cached_decisions_equal_deciding_each_identifier() -> None:
    """The decision cache (by flags and reporter count up to the thresholds) never changes a
    level: random mixes of sources, statuses and reporter counts, some delisted or allowed."""
    rng = random.Random(11)
    events: list[tuple[Any, ...]] = []
    for n in range(400):
        key = f"phone:+8529{n:07d}"
        for _ in range(rng.randrange(1, 6)):
            src, status = rng.choice(SOURCES), rng.choice(STATUSES)
            ts = AS_OF - rng.randrange(400) * DAY
            events.append(rep(key, src=src, status=status, reporter=rng.randrange(1, 5), ts=ts))
        if n % 37 == 0:
            events.append((EV_DELIST, 1, key, AS_OF - DAY))
        if n % 53 == 0:
            events.append((EV_ALLOW, 1, key, "Bank"))
    agg = Aggregator(Policy(), AS_OF_TIME)
    agg.add_events(events)
    got = {(f[1], f[3], f[4]) for f in agg.fields(G)}
    expected = set()
    for i, key in enumerate(agg.keys):
        d = agg._decide(i)
        if d is not None:
            expected.add((key.partition(":")[2], d[0], d[1]))
    assert got == expected
    assert len({level for _, level, _ in got}) >= 3  # the mix reaches several levels
