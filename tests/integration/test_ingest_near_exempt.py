"""End to end: popular domains are exempt from near matching, lookalikes of them are not.

A listed lookalike (``goog1e.com``) must never make a lookup of the popular site itself
(``google.com``, a top site) answer "similar to a reported domain"; the lookalike itself and
other near misses of it still match.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from scameter.index import Snapshot
from scameter.ingest import run_ingest
from scameter.verdict import Level, ReasonCode

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)
LISTED = ("goog1e.com", "faceb00k-verify.com")


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    root = tmp_path_factory.mktemp("near-exempt")
    rows = [
        {"type": "report", "id": f"p{i}", "source": "police", "status": "confirmed",
         "reported_at": "2026-11-01T00:00:00Z", "category": "phishing",
         "identifiers": [{"kind": "domain", "value": d}]}
        for i, d in enumerate(LISTED)
    ]  # fmt: skip
    path = root / "reports.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = run_ingest([path], root / "snaps", as_of=AS_OF, workers=1)
    assert result.published
    with Snapshot.open_current(root / "snaps") as s:
        yield s


def test_popular_domains_are_exempt_in_the_policy(snap: Snapshot) -> None:
    exempt = snap.manifest.index_policy.near_exempt_domains
    assert {"google.com", "facebook.com"} <= set(exempt)
    assert list(exempt) == sorted(exempt)


# (id, query, expected level, expected near-match reason or None)
CASES = [
    ("popular-site-itself", "google.com", Level.NO_RECORD, None),
    ("popular-site-url", "https://www.google.com/search?q=x", Level.NO_RECORD, None),
    ("popular-site-2", "facebook.com", Level.NO_RECORD, None),
    ("listed-lookalike-exact", "goog1e.com", Level.HIGH_RISK, None),
    ("near-miss-of-lookalike", "goog1le.com", Level.SUSPICIOUS, ReasonCode.NEAR_MATCH),
    ("near-miss-other-suffix", "goog1e.net", Level.SUSPICIOUS, ReasonCode.NEAR_MATCH),
]


@pytest.mark.parametrize(("query", "level", "reason"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_exempt_and_near_verdicts(
    snap: Snapshot, query: str, level: Level, reason: ReasonCode | None
) -> None:
    v = snap.check(query, "url" if "/" in query else "domain")
    assert v.level is level, v
    codes = {r.code for r in v.reasons}
    if reason is not None:
        assert reason in codes
        assert v.similar_to is not None
        assert v.similar_to.canonical == "goog1e.com"
    elif level is Level.NO_RECORD:
        assert v.similar_to is None
