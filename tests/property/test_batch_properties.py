"""The batch hot path answers every row exactly as the single-item path does (hypothesis).

``Snapshot.check_many`` / ``check_batch`` skip the full path for rows none of whose keys is
stored (:mod:`scameter.index.batchpath`); these properties feed them random mixed batches
(invalid rows, every kind, detected and given kinds, hits and misses, URLs under listed
expressions, phone numbers in listed ranges, near matches of domains and handles,
allowlisted and unallocated numbers, repeats) and require the verdict of every row to equal
what ``Snapshot.check`` gives that row alone, in input order; on a snapshot opened with the
pure paths and on one opened with the compiled ones (hit decoder and batch loops).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scameter.errors import InvalidIdentifier
from scameter.identifiers import Identifier, Kind, detect, normalize
from scameter.identifiers.phonecolumn import MIN_ROWS
from scameter.index import IndexPolicy, Record, Snapshot
from scameter.index.batchloops import BATCH_PATH
from scameter.index.keyprobe import key_array
from scameter.verdict import SEVERITY, Level, Verdict
from tests.unit.index.helpers import build

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
POLICY = IndexPolicy(phone_range_min_listed=3)
_NOT_RECOGNISED = "invalid identifier: not recognised as any kind"


def _canon(kind: str, raw: str) -> Identifier:
    return normalize(kind, raw)


def _records() -> list[Record]:
    P = Kind.PHONE
    out = [
        Record(Identifier(P, "+85291234567"), Level.HIGH_RISK, report_count=5),
        Record(Identifier(P, "+85223456789"), Level.VERIFIED, owner="Example Bank hotline"),
        Record(Identifier(P, "+85223456789"), Level.SUSPICIOUS, report_count=4),
        Record(Identifier(P, "+85240001234", False), Level.SUSPICIOUS),
        Record(_canon("fps_id", "1234567"), Level.SUSPICIOUS, report_count=2),
        Record(_canon("bank_account", "004-123-456789001"), Level.HIGH_RISK),
        Record(
            _canon("crypto_wallet", "0x52908400098527886E0F7030069857D2E4169EE7"),
            Level.POSSIBLE,
        ),
        Record(_canon("email", "scam@evil.com"), Level.SUSPICIOUS),
        Record(_canon("domain", "evil.com"), Level.HIGH_RISK, listing="evil.com/"),
        Record(_canon("url", "http://shop.example.org/login"), Level.SUSPICIOUS,
               listing="shop.example.org/login"),
        Record(_canon("url", "https://scam-site.top/pay"), Level.HIGH_RISK,
               listing="scam-site.top/"),
        Record(_canon("domain", "hsbc.com.hk"), Level.VERIFIED, owner="HSBC",
               listing="hsbc.com.hk/"),
        Record(_canon("platform_account", "telegram:scamhelper"), Level.HIGH_RISK),
    ]  # fmt: skip
    # A block of listed numbers: its neighbours are POSSIBLE (phone range).
    block = ("0150", "0151", "0159", "0190", "0919")
    out += [Record(Identifier(P, f"+8526123{d}"), Level.POSSIBLE) for d in block]
    return out


@cache
def _snapshot(compiled: bool) -> Snapshot:
    root = Path(tempfile.mkdtemp(prefix="scameter-batch-prop-"))
    return Snapshot.open(root / build(root, _records(), policy=POLICY), compiled=compiled)


#: Both implementations of the hit path and of the batch loops (scameter/index/batchloops.py).
IMPLEMENTATIONS = [
    pytest.param(False, id="python"),
    pytest.param(
        True,
        id="compiled",
        marks=pytest.mark.skipif(
            BATCH_PATH != "compiled" and not os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"),
            reason="scameter.index._speedups is not built here (no C compiler at install time)",
        ),
    ),
]


@pytest.fixture(scope="module", params=IMPLEMENTATIONS)
def snap(request: pytest.FixtureRequest) -> Iterator[Snapshot]:
    s = _snapshot(request.param)
    yield s
    s.close()
    _snapshot.cache_clear()
    shutil.rmtree(s.path.parent)


def one(snap: Snapshot, raw: str, kind: Kind | None) -> Verdict:
    """The per-row path: ``Snapshot.check``, with a bad row as ``Verdict.invalid``."""
    try:
        return snap.check(raw, kind)
    except InvalidIdentifier as e:
        if kind is not None:
            return Verdict.invalid(raw, str(e), kind.value)
    found = detect(raw)
    if not found:
        return Verdict.invalid(raw, _NOT_RECOGNISED)
    out: list[Verdict] = []
    for ident in found:
        try:
            out.append(snap.check_identifier(ident, raw=raw))
        except InvalidIdentifier as e:
            out.append(Verdict.invalid(raw, str(e), ident.kind.value))
    best = out[0]
    for v in out[1:]:
        if SEVERITY[v.level] > SEVERITY[best.level]:
            best = v
    return best


LISTED_SPELLINGS = [
    "9123 4567", "+852 9123 4567", "0085291234567", "2345 6789", "40001234", "40005678",
    "6123 0150", "61230155", "61230199", "6123 0911", "61239999", "98765432",
    "1234567", "123456789", "004-123-456789001", "004123456789001", "999",
    "0x52908400098527886E0F7030069857D2E4169EE7", "0x52908400098527886e0f7030069857d2e4169ee8",
    "scam@evil.com", "SCAM@evil.com", "x@sub.evil.com", "nobody@example.org",
    "evil.com", "www.evil.com", "evi1.com", "hsbc.com.hk", "hsbc-secure-login.com",
    "https://evil.com/anything", "http://shop.example.org/login?x=1", "shop.example.org/other",
    "https://scam-site.top/", "https://hsbc.com.hk/", "wa.me/85291234567", "tel:+85291234567",
    "@scamhelper", "@scamhelpr", "telegram:scamhelpe", "t.me/scamhelper",
    "", " ", "junk!", "++852", "1.2.3.4", "http://1.2.3.4/x", "18222",
]  # fmt: skip

HOSTS = ["evil.com", "a.evil.com", "shop.example.org", "scam-site.top", "hsbc.com.hk",
         "hsbc-login.com", "example.net", "evil.co"]  # fmt: skip
digits = st.text("0123456789", min_size=3, max_size=18)
phoneish = st.tuples(st.sampled_from(["", "+852 ", "+", "00852", "(852) "]), digits).map("".join)
urls = st.tuples(
    st.sampled_from(["http://", "https://", ""]),
    st.sampled_from(HOSTS),
    st.text("abclogin/?=", max_size=10),
).map(lambda t: f"{t[0]}{t[1]}/{t[2]}")
rows = st.one_of(
    st.sampled_from(LISTED_SPELLINGS),
    phoneish,
    urls,
    st.text(max_size=12),
    st.text("@abcdehlmprs", min_size=1, max_size=12),
)
kinds = st.sampled_from([None, *Kind])
#: HK numbers as typed, the shapes the batch recognises a column at a time
#: (:mod:`scameter.identifiers.phonecolumn`): listed, allowlisted, in a listed range or not.
typed = st.tuples(
    st.sampled_from(["", "+852", "+852 ", "+852-", "852", "(852) ", "852-"]),
    st.sampled_from(["9123", "2345", "6123", "4000", "9876", "5123", "0123", "8521"]),
    st.sampled_from(["", " ", "-"]),
    st.text("0123456789", min_size=4, max_size=4) | st.sampled_from(["4567", "6789", "0150"]),
).map("".join)


@SETTINGS
@given(raws=st.lists(rows, max_size=40), kind=kinds)
def test_batch_equals_per_row(snap: Snapshot, raws: list[str], kind: Kind | None) -> None:
    want = [one(snap, raw, kind) for raw in raws]
    got = snap.check_many(raws, kind)
    assert got == want
    assert [v.input for v in got] == raws
    assert [v.reasons for v in got] == [v.reasons for v in want]
    answer = snap.check_batch(raws, kind)
    assert len(answer) == len(raws)
    assert [answer.verdict(i) for i in range(len(raws))] == want


@SETTINGS
@given(
    raws=st.lists(st.one_of(typed, typed, rows), min_size=MIN_ROWS, max_size=90),
    kind=kinds,
)
def test_long_batches_with_typed_numbers(
    snap: Snapshot, raws: list[str], kind: Kind | None
) -> None:
    """Batches long enough for the column recogniser, mostly typed numbers, every kind
    (given or detected), invalid rows among them: every row as alone, in order."""
    want = [one(snap, raw, kind) for raw in raws]
    assert snap.check_many(raws, kind) == want
    answer = snap.check_batch(raws, kind)
    assert [answer.verdict(i) for i in range(len(raws))] == want
    assert [v.reasons for v in snap.check_many(raws, kind)] == [v.reasons for v in want]


@SETTINGS
@given(raws=st.lists(st.sampled_from(LISTED_SPELLINGS), min_size=1, max_size=60))
def test_repeats_and_every_listed_spelling(snap: Snapshot, raws: list[str]) -> None:
    for kind in (None, Kind.PHONE):
        assert snap.check_many(raws, kind) == [one(snap, raw, kind) for raw in raws]


def test_typed_numbers_skip_verdicts_unless_they_may_match(snap: Snapshot) -> None:
    raws = ["9876 5432", "+852 9123 4567", "6123 0155", "junk!", "+85298765431", "4000 5678"]
    raws = raws * (MIN_ROWS // len(raws) + 1)
    raws[-1] = "9876-5430"  # a distinct row, so the batch is not all repeats
    for kind in (None, Kind.PHONE):
        answer = snap.check_batch(raws, kind)
        assert [v is None for v in answer.verdicts[:6]] == [True, False, False, False, True, False]
        assert answer.canonicals[0] == "+85298765432"
        assert answer.kinds[0] == "phone"
        hit, near, bad = answer.verdicts[1:4]
        assert hit is not None
        assert hit.level is Level.HIGH_RISK
        assert near is not None
        assert near.level is Level.POSSIBLE
        assert bad is not None
        assert bad.error
        assert answer.to_list() == [one(snap, raw, kind) for raw in raws]


def test_batches_skip_verdicts_for_plain_misses_only(snap: Snapshot) -> None:
    raws = ["98765432", "9123 4567", "61230155", "40005678", "junk!", "98765431"]
    answer = snap.check_batch(raws, Kind.PHONE)
    # Two plain misses; the hit, the range neighbour, the unallocated number and the bad row
    # have full verdicts.
    assert [v is None for v in answer.verdicts] == [True, False, False, False, False, True]
    assert answer.misses() == 2
    assert answer.canonicals[0] == "+85298765432"
    assert answer.kinds[0] == "phone"


def test_key_probe_holds_every_stored_key(snap: Snapshot) -> None:
    probe = snap.key_probe
    assert probe.ready()
    stored = [r.identifier.key for r in _records()]
    keys = key_array(int.from_bytes(k, "big") for k in stored)
    assert probe.present(keys).all()
    missing = Identifier(Kind.PHONE, "+85298765432").key
    absent = key_array([int.from_bytes(missing, "big")])
    assert not probe.present(absent).any()
    assert probe.size == len({bytes(k) for k in stored})
    assert dict(probe.ranges)[1] == {"+8526123015"}
    assert dict(probe.ranges)[2] == {"+852612301"}


def test_unknown_kind_raises(snap: Snapshot) -> None:
    with pytest.raises(ValueError, match="not a valid Kind"):
        snap.check_many(["9123 4567"], "bogus")
