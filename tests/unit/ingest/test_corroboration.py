"""Warninglists and corroboration (issue 15 item 2), relisting after a delisting, on events.

Uses the tiny warninglist copy in ``tests/fixtures/warninglists`` (google.com, verizon.com
popular; bit.ly a shortener; 52.95.110.0/24 an AWS range).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scameter.errors import IngestError
from scameter.ingest.aggregate import Aggregator
from scameter.ingest.granularity import Granularity
from scameter.ingest.policy import SOURCES, STATUSES, Policy
from scameter.ingest.warninglists import load_warninglists
from scameter.ingest.worker import EV_DELIST, EV_REPORT
from scameter.verdict import Level, ReasonCode

FAKE = Path(__file__).parents[2] / "fixtures" / "warninglists"
LISTS = load_warninglists(FAKE)
G = Granularity.default(lists=LISTS)
AS_OF = 1_800_000_000
DAY = 86400
FORM = "url:https://docs.google.com/forms/d/e/X/viewform"
SCAM = "url:https://hkpost-redelivery.top/hk"


def ev(key: str, src: str = "feed", status: str = "confirmed", provider: str = "a.txt",
       reporter: int = 0, *, ts: int = AS_OF - DAY) -> tuple[Any, ...]:  # fmt: skip
    return (EV_REPORT, 1, ts, SOURCES.index(src), STATUSES.index(status), reporter, "c",
            (key,), provider)  # fmt: skip


def decide(events: list[tuple[Any, ...]], policy: Policy | None = None) -> tuple[Any, Aggregator]:
    agg = Aggregator(policy or Policy(), datetime.fromtimestamp(AS_OF, UTC), LISTS)
    agg.add_events(events)
    recs = {f"{r.identifier.kind}:{r.identifier.value}": r for r in agg.records(G)}
    return recs, agg


W = ReasonCode.WARNINGLIST_TRANCO
PUB3 = [ev(FORM, "public", "unverified", "", r) for r in (1, 2, 3)]
CASES = [
    ("one-feed", [ev(FORM)], Level.POSSIBLE, (ReasonCode.FEED_LISTING, W)),
    ("two-providers", [ev(FORM), ev(FORM, provider="b.json")], Level.SUSPICIOUS,
     (ReasonCode.FEED_LISTING,)),
    ("one-provider-twice", [ev(FORM), ev(FORM)], Level.POSSIBLE, (ReasonCode.FEED_LISTING, W)),
    ("feed-plus-3-public", [ev(FORM), *PUB3],
     Level.SUSPICIOUS, (ReasonCode.FEED_LISTING, ReasonCode.PUBLIC_REPORTS)),
    ("feed-plus-2-public", [ev(FORM), *PUB3[:2]],
     Level.POSSIBLE, (ReasonCode.FEED_LISTING, W, ReasonCode.PUBLIC_REPORTS)),
    ("partner-unverified", [ev(FORM, "bank", "unverified")], Level.POSSIBLE,
     (ReasonCode.PARTNER_UNVERIFIED, W)),
    ("police-confirmed", [ev(FORM, "police")], Level.HIGH_RISK, (ReasonCode.POLICE_CONFIRMED,)),
    ("not-warninglisted", [ev(SCAM)], Level.SUSPICIOUS, (ReasonCode.FEED_LISTING,)),
    ("aws-ip", [ev("ip:52.95.110.7")], Level.POSSIBLE,
     (ReasonCode.FEED_LISTING, ReasonCode.WARNINGLIST_CLOUD)),
    ("shortener-page", [ev("url:https://bit.ly/3abc")], Level.POSSIBLE,
     (ReasonCode.FEED_LISTING, ReasonCode.WARNINGLIST_SHORTENER)),
    ("unverified-feed", [ev(SCAM, status="unverified")], Level.POSSIBLE,
     (ReasonCode.FEED_UNVERIFIED,)),
]  # fmt: skip


@pytest.mark.parametrize(("events", "level", "reasons"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_corroboration(events: list[tuple[Any, ...]], level: Level, reasons: tuple[Any]) -> None:
    key = events[0][7][0]
    recs, _ = decide(events)
    assert (recs[key].level, recs[key].reasons) == (level, reasons)


def test_popular_listing_is_narrow_and_demotions_are_counted() -> None:
    recs, agg = decide([ev(FORM), ev("url:https://docs.google.com/a"), ev(SCAM)])
    assert recs[FORM].listing == "docs.google.com/forms/d/e/X/viewform"
    assert recs[SCAM].listing == "hkpost-redelivery.top/"
    assert agg.stats.demoted == {"tranco": 2}


def test_provider_threshold_is_a_policy_key() -> None:
    recs, _ = decide(
        [ev(FORM), ev(FORM, provider="b")], Policy(warninglisted_providers_suspicious=3)
    )
    assert recs[FORM].level is Level.POSSIBLE


def test_relisting_counts_only_reports_after_the_delisting() -> None:
    phone = "phone:+85291234567"
    at = AS_OF - 10 * DAY
    events = [
        ev(phone, "police", ts=AS_OF - 30 * DAY),
        ev(phone, "police", ts=AS_OF - 20 * DAY),
        ev(phone, "public", "unverified", "", 5, ts=AS_OF - 2 * DAY),
        (EV_DELIST, 1, phone, at),
        ev(phone, "police", ts=AS_OF - 3 * DAY),
    ]
    recs, _ = decide(events)
    r = recs[phone]
    assert r.level is Level.HIGH_RISK
    assert (r.report_count, r.reporters) == (1, 0)
    assert r.first_reported == r.last_reported == AS_OF - 3 * DAY


def test_missing_or_bad_warninglist_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"tranco/list.json"):
        load_warninglists(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(FAKE, copy)
    (copy / "tranco" / "list.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IngestError, match=r"tranco/list.json: warninglist file is not valid JSON"):
        load_warninglists(copy)


def test_real_bundled_warninglists() -> None:
    # The real pymispwarninglists data: the sites the issue saw flagged are popular.
    real = load_warninglists()
    for host in ("verizon.com", "lloydsbank.co.uk", "docusign.net", "www.hsbc.com"):
        assert real.for_host(host) in {"tranco", "crux"}, host
    assert real.for_host("bit.ly") == "url-shortener"
    assert real.for_host("hkpost-redelivery.top") is None
    assert len(real.popular) > 1_500_000
