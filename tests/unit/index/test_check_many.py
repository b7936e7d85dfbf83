"""``check_many`` (the batched path) answers exactly what ``check`` answers, item by item.

The batch path normalises and keys everything first, probes ``records`` and ``ranges`` with
one sorted ``getmulti`` each and shares the verdict of repeated inputs; these vectors pin
each branch it shares with ``check``: plain hits, allowlisted, allowlisted and reported,
unallocated numbers (hit and miss), range hits, plain misses, invalid and non-text input.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scameter.errors import InvalidIdentifier
from scameter.identifiers import Identifier, Kind
from scameter.index import Record, Snapshot
from scameter.verdict import Level, ReasonCode, Verdict
from tests.unit.index.helpers import open_built, rec

P, E = Kind.PHONE, Kind.EMAIL
RECORDS: list[Record] = [
    rec(P, "+85291234567", Level.HIGH_RISK, report_count=5, first_reported=1_700_000_000),
    rec(P, "+85261234500", Level.POSSIBLE, cluster=1),
    rec(P, "+85261234501", Level.POSSIBLE, cluster=1),
    rec(P, "+85261234502", Level.POSSIBLE, cluster=1),
    rec(P, "+85223456789", Level.VERIFIED, owner="Example Bank hotline"),
    rec(P, "+85223456789", Level.SUSPICIOUS, report_count=4),
    rec(P, "+85235550000", Level.VERIFIED, owner="Government"),
    # Not in an allocated range, listed anyway (scammers use such numbers).
    Record(Identifier(P, "+85240001234", False), Level.SUSPICIOUS),
    rec(E, "scam@evil.com", Level.SUSPICIOUS, categories=("phishing",)),
]

# (id, raw): every branch of an exact lookup.
PHONES = {
    "hit": "9123 4567",
    "hit-e164": "+85291234567",
    "range-1-digit": "61234509",
    "range-2-digits": "61234599",
    "miss": "98765432",
    "allow-and-reported": "2345 6789",
    "allow-only": "3555 0000",
    "unallocated-listed": "40001234",
    "unallocated-miss": "40005678",
    "cluster-member": "61234500",
}


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    root: Path = tmp_path_factory.mktemp("many")
    with open_built(root, RECORDS) as s:
        yield s


def expected(snap: Snapshot, raw: Any, kind: Kind) -> Verdict:
    try:
        return snap.check(raw, kind)
    except InvalidIdentifier as e:
        return Verdict.invalid(raw, str(e), kind.value)


@pytest.mark.parametrize("raw", PHONES.values(), ids=PHONES.keys())
def test_each_branch_alone_and_in_a_batch(snap: Snapshot, raw: str) -> None:
    want = snap.check(raw, P)
    assert snap.check_many([raw], P) == [want]
    batch = [*PHONES.values(), raw]
    got = snap.check_many(batch, P)
    assert got[-1] == want
    assert got[-1].reasons == want.reasons


def test_batch_equals_check_item_by_item(snap: Snapshot) -> None:
    raws = [*PHONES.values(), "junk!", "", *reversed(PHONES.values()), "9123 4567"]
    got = snap.check_many(raws, P)
    assert got == [expected(snap, r, P) for r in raws]
    assert [v.input for v in got] == raws
    codes = {v.input: {r.code for r in v.reasons} for v in got}
    assert ReasonCode.UNALLOCATED_NUMBER in codes["40005678"]
    assert ReasonCode.PHONE_RANGE in codes["61234509"]
    assert ReasonCode.SPOOF_ADVICE in codes["2345 6789"]


def test_invalid_items_carry_check_s_error(snap: Snapshot) -> None:
    got = snap.check_many(["junk!", "junk!", "9123 4567"], P)
    with pytest.raises(InvalidIdentifier) as info:
        snap.check("junk!", P)
    assert got[0] == got[1] == Verdict.invalid("junk!", str(info.value), "phone")
    assert got[2].level is Level.HIGH_RISK


def test_non_text_items_are_not_merged(snap: Snapshot) -> None:
    raws: list[Any] = [1, True, "9123 4567", None]
    got = snap.check_many(raws, P)
    assert [v.input for v in got] == raws
    assert all(v.error for v in (got[0], got[1], got[3]))
    assert got[2].level is Level.HIGH_RISK


def test_repeats_share_one_verdict(snap: Snapshot) -> None:
    got = snap.check_many(["9123 4567", "98765432", "9123 4567"], P)
    assert got[0] is got[2]
    assert got[1].level is Level.NO_RECORD


def test_other_exact_kinds_batch_too(snap: Snapshot) -> None:
    raws = ["Scam@Evil.com", "nobody@example.org", "not an email", "scam@evil.com"]
    assert snap.check_many(raws, E) == [expected(snap, r, E) for r in raws]
    assert snap.check_many([], E) == []
