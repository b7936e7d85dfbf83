"""Appeals at ingest: distinct appealing reporters lower a listing that rests only on public
reports by one level; other evidence is never lowered; appeals never delist."""

from __future__ import annotations

from typing import Any

import pytest

from scameter.errors import PolicyError
from scameter.ingest.aggregate import Aggregator
from scameter.ingest.policy import Policy, policy_from_mapping
from scameter.verdict import Level, ReasonCode
from tests.unit.ingest.test_aggregate import AS_OF, AS_OF_TIME, DAY, PHONE, G, rep

OTHER = "phone:+85261111111"


def appeals(
    key: str, n: int, *, ts: int = AS_OF - DAY, first: int = 0
) -> list[tuple[str, str, int]]:
    return [(key, f"appealer-{first + r}", ts) for r in range(n)]


def decide(
    events: list[tuple[Any, ...]],
    appealed: list[tuple[str, str, int]],
    policy: Policy | None = None,
) -> dict[str, Any]:
    agg = Aggregator(policy or Policy(), AS_OF_TIME)
    agg.add_events(events)
    agg.add_appeals(appealed)
    return {f"{r.identifier.kind}:{r.identifier.value}": r for r in agg.records(G)}


SUSPICIOUS = [rep(PHONE, reporter=r) for r in range(1, 4)]  # 3 public reporters
POSSIBLE = [rep(PHONE, reporter=1)]


def test_default_threshold_lowers_suspicious_to_possible() -> None:
    assert Policy().appeal_threshold == 5
    got = decide(SUSPICIOUS, appeals(PHONE, 5))[PHONE]
    assert got.level is Level.POSSIBLE
    assert got.reasons == (ReasonCode.PUBLIC_REPORTS, ReasonCode.APPEALED)
    assert got.reporters == 3  # the reports' counts are kept


def test_below_threshold_changes_nothing() -> None:
    got = decide(SUSPICIOUS, appeals(PHONE, 4))[PHONE]
    assert got.level is Level.SUSPICIOUS
    assert got.reasons == (ReasonCode.PUBLIC_REPORTS,)


def test_possible_stays_possible_and_is_never_delisted() -> None:
    got = decide(POSSIBLE, appeals(PHONE, 50))
    assert got[PHONE].level is Level.POSSIBLE
    assert got[PHONE].reasons == (ReasonCode.PUBLIC_REPORTS, ReasonCode.APPEALED)


def test_one_reporter_appealing_many_times_counts_once() -> None:
    repeated = [(PHONE, "same-reporter", AS_OF - d * DAY) for d in range(1, 10)]
    assert decide(SUSPICIOUS, repeated)[PHONE].level is Level.SUSPICIOUS


def test_appeals_outside_the_public_window_or_after_as_of_do_not_count() -> None:
    old = appeals(PHONE, 5, ts=AS_OF - 181 * DAY)
    future = appeals(PHONE, 5, ts=AS_OF + 60, first=10)
    assert decide(SUSPICIOUS, old + future)[PHONE].level is Level.SUSPICIOUS
    mixed = appeals(PHONE, 4, ts=AS_OF - 181 * DAY) + appeals(PHONE, 5, first=20)
    assert decide(SUSPICIOUS, mixed)[PHONE].level is Level.POSSIBLE


@pytest.mark.parametrize(
    ("src", "status", "level"),
    [
        ("police", "confirmed", Level.HIGH_RISK),
        ("police", "unverified", Level.SUSPICIOUS),
        ("bank", "confirmed", Level.HIGH_RISK),
        ("telecom", "unverified", Level.SUSPICIOUS),
        ("feed", "confirmed", Level.SUSPICIOUS),
    ],
    ids=["police", "police-unverified", "bank", "telecom", "feed"],
)
def test_other_evidence_is_never_lowered(src: str, status: str, level: Level) -> None:
    events = [*SUSPICIOUS, rep(PHONE, src=src, status=status, reporter=0)]
    got = decide(events, appeals(PHONE, 100))[PHONE]
    # Each of these sources earns ``level`` (the 3 public reporters SUSPICIOUS): the worst
    # stands, appeals or not.
    assert got.level is level
    assert ReasonCode.APPEALED not in got.reasons


def test_threshold_zero_is_off() -> None:
    got = decide(SUSPICIOUS, appeals(PHONE, 100), Policy(appeal_threshold=0))[PHONE]
    assert got.level is Level.SUSPICIOUS


def test_appeals_of_other_or_unlisted_identifiers_touch_nothing() -> None:
    events = [*SUSPICIOUS, *(rep(OTHER, reporter=r) for r in range(1, 4))]
    got = decide(events, appeals(OTHER, 5) + appeals("phone:+85290000000", 9))
    assert got[PHONE].level is Level.SUSPICIOUS
    assert got[OTHER].level is Level.POSSIBLE
    assert "phone:+85290000000" not in got


def test_policy_key_is_read_and_checked() -> None:
    assert policy_from_mapping({"appeal_threshold": 3}).appeal_threshold == 3
    assert Policy().to_dict()["appeal_threshold"] == 5
    with pytest.raises(PolicyError, match="appeal_threshold"):
        policy_from_mapping({"appeal_threshold": -1})
    with pytest.raises(PolicyError, match="appeal_threshold must be int"):
        policy_from_mapping({"appeal_threshold": "5"})
