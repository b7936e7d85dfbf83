"""Build-then-read agrees with a plain-dict model of the lookup rules, per kind (hypothesis).

The model is deliberately naive: dicts, brute-force suffix and edit-distance scans. The index
answers the same questions with LMDB probes, Safe Browsing expressions and deletion
neighbourhoods; any disagreement is a bug in one of them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

from scameter.identifiers import Identifier, Kind
from scameter.index import IndexPolicy, Record, Snapshot
from scameter.verdict import SEVERITY, Level
from tests.unit.index.helpers import build

LISTED = [Level.HIGH_RISK, Level.SUSPICIOUS, Level.POSSIBLE]
POLICY = IndexPolicy(near_max_candidates=10_000, phone_range_min_listed=2)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Small spaces so that ranges, collisions of prefixes and near matches actually happen.
phones = st.text("0159", min_size=4, max_size=4).map(lambda s: f"+8526123{s}")
emails = st.text("abc", min_size=1, max_size=3).map(lambda s: f"{s}@example.com")
labels = st.text("abcdefg", min_size=5, max_size=14)
domains = st.tuples(labels, st.sampled_from(["com", "net", "com.hk"])).map(".".join)
levels = st.sampled_from(LISTED)


def snapshot_of(records: list[Record]) -> tuple[Snapshot, tempfile.TemporaryDirectory[str]]:
    tmp = tempfile.TemporaryDirectory()
    root = Path(tmp.name)
    sid = build(root, records, policy=POLICY, chunk=7)
    return Snapshot.open(root / sid), tmp


def worst(levels_: list[Level]) -> Level:
    return max(levels_, key=SEVERITY.__getitem__)


@SETTINGS
@given(
    reported=st.dictionaries(phones, levels, max_size=30),
    allowed=st.sets(phones, max_size=5),
    queries=st.lists(phones, max_size=30),
)
def test_phones_agree_with_model(
    reported: dict[str, Level], allowed: set[str], queries: list[str]
) -> None:
    records = [Record(Identifier(Kind.PHONE, p), lv, report_count=1) for p, lv in reported.items()]
    records += [Record(Identifier(Kind.PHONE, p), Level.VERIFIED, owner="x") for p in allowed]
    snap, tmp = snapshot_of(records)
    with tmp, snap:
        for q in [*queries, *reported, *allowed]:
            v = snap.check_identifier(Identifier(Kind.PHONE, q))
            codes = {r.code.value for r in v.reasons}
            if q in allowed:
                assert v.level is Level.VERIFIED
                assert ("spoof_advice" in codes) == (q in reported)
            elif q in reported:
                assert v.level is reported[q]
            else:
                expected = Level.NO_RECORD
                for d in POLICY.phone_range_digits:
                    n = sum(1 for p in reported if p[:-d] == q[:-d])
                    if n >= POLICY.phone_range_min_listed:
                        expected = Level.POSSIBLE
                        break
                assert v.level is expected, (q, codes)
                assert ("phone_range" in codes) == (expected is Level.POSSIBLE)
        many = snap.check_many(queries, Kind.PHONE)
        assert many == [snap.check(q, Kind.PHONE) for q in queries]


@SETTINGS
@given(
    reported=st.dictionaries(emails, levels, max_size=20),
    queries=st.lists(emails, max_size=20),
)
def test_emails_agree_with_model(reported: dict[str, Level], queries: list[str]) -> None:
    snap, tmp = snapshot_of([Record(Identifier(Kind.EMAIL, e), lv) for e, lv in reported.items()])
    with tmp, snap:
        for q in [*queries, *reported]:
            v = snap.check_identifier(Identifier(Kind.EMAIL, q))
            assert v.level is reported.get(q, Level.NO_RECORD)
            assert v.canonical == q


def _split(domain: str) -> tuple[str, str]:
    label, _, suffix = domain.partition(".")
    return label, suffix


def model_domain(reported: dict[str, Level], query: str) -> tuple[Level, str | None]:
    """(level, similar_to) for a host ``query`` under listed registrable domains."""
    exact = [lv for d, lv in reported.items() if query == d or query.endswith("." + d)]
    if exact:
        return worst(exact), None
    reg = query.removeprefix("www.")
    q_label, q_suffix = _split(reg)
    best: tuple[int, int, str] | None = None
    for d, lv in reported.items():
        label, suffix = _split(d)
        d2 = POLICY.near_distance2_min_length <= len(label) <= POLICY.near_distance2_max_length
        allowed = 2 if d2 else 1
        dist = Levenshtein.distance(q_label, label) + (q_suffix != suffix)
        if 1 <= dist <= allowed:
            rank = (SEVERITY[lv], -dist, d)
            if best is None or rank[:2] > best[:2]:
                best = rank
    if best is None:
        return Level.NO_RECORD, None
    level = Level.SUSPICIOUS if best[0] == SEVERITY[Level.HIGH_RISK] else Level.POSSIBLE
    return level, best[2]


@SETTINGS
@given(
    reported=st.dictionaries(domains, levels, max_size=15),
    queries=st.lists(st.tuples(st.booleans(), domains), max_size=15),
)
def test_domains_agree_with_model(
    reported: dict[str, Level], queries: list[tuple[bool, str]]
) -> None:
    snap, tmp = snapshot_of([Record(Identifier(Kind.DOMAIN, d), lv) for d, lv in reported.items()])
    with tmp, snap:
        hosts = [("www." + d if www else d) for www, d in queries] + list(reported)
        for host in hosts:
            level, similar = model_domain(reported, host)
            v = snap.check_identifier(Identifier(Kind.DOMAIN, host))
            assert v.level is level, (host, v.reasons, v.similar_to)
            if similar is None:
                assert v.similar_to is None
            else:
                # Ties between equally bad, equally close listings may pick either.
                assert v.similar_to is not None
                assert model_domain({v.similar_to.canonical: v.similar_to.level}, host)[0] is level
            url = snap.check_identifier(Identifier(Kind.URL, f"http://{host}/some/page"))
            assert url.level is level
