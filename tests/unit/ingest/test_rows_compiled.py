"""The compiled rows and evidence of the parse workers (``scameter/ingest/_rowsfast.c``,
:data:`~scameter.ingest.evidence.ROWS_PATH`).

Whatever a chunk's events hold, :func:`ooc.event_rows` and :func:`evidence.encode_pairs` must
give the same results through the compiled path as through their Python references
(``compiled=False``): the same CSV text, tallies and category mask, the same evidence
segments byte for byte (each blob ``orjson.dumps`` of its event), or the same error. For
events in the shape the workers make, the compiled functions must answer themselves (not
hand the chunk back), or these tests would compare the reference with itself. The compiled
module must be built on CI (``SCAMETER_REQUIRE_SYSTEM_TOOLS``, set by ``.ci/run``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scameter.identifiers import Kind
from scameter.index.spill import SEP
from scameter.ingest import evidence, ooc
from scameter.ingest.aggregate import (
    CATEGORY_BITS,
    F_CORROBORATE,
    Aggregator,
    category_bit,
    provider_number,
)
from scameter.ingest.evidence import ROWS_PATH, EncodedEvidence, wire_key_id
from scameter.ingest.policy import Policy
from scameter.ingest.warninglists import NONE
from scameter.ingest.worker import EV_ALLOW, EV_DELIST, EV_REPORT, NEVER

REQUIRED = bool(os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"))
needs_compiled = pytest.mark.skipif(
    ROWS_PATH != "compiled" and not REQUIRED, reason="built without a C compiler"
)

AS_OF = 1_795_651_200  # 2026-11-26T00:00:00Z
DAY = 86_400
RULES = Aggregator(Policy(), datetime.fromtimestamp(AS_OF, tz=UTC), NONE).count_rules()


# ---- the two paths, as comparable values --------------------------------------------


def _rows(events: list[tuple[Any, ...]], rules: Any, seq: int, *, compiled: bool) -> Any:
    r = ooc.event_rows(events, rules, AS_OF, seq, compiled=compiled)
    a = r.admission
    tallies = (a.counted, a.status_rejected, a.future, a.aged_out, a.categories)
    return r.ev, r.ev_rows, r.li, tallies, r.allow, r.delist


def _pairs(events: list[tuple[Any, ...]], rules: Any, *, compiled: bool) -> Any:
    e = evidence.encode_pairs(events, rules, compiled=compiled)
    return e.segments, e.events, e.size


def _outcome(fn: Callable[[], Any]) -> Any:
    """What ``fn`` gives, or the type and message of what it raises."""
    try:
        return "gave", fn()
    except Exception as exc:  # any error: it must be the reference's own
        return "raised", type(exc), str(exc)


def _same_outcomes(events: list[tuple[Any, ...]], rules: Any, seq: int) -> None:
    def rows(compiled: bool) -> Any:
        return _rows(events, rules, seq, compiled=compiled)

    def pairs(compiled: bool) -> Any:
        return _pairs(events, rules, compiled=compiled)

    for run in (rows, pairs):
        assert _outcome(partial(run, True)) == _outcome(partial(run, False))


def _compiled_answers(events: list[tuple[Any, ...]], rules: Any, seq: int) -> None:
    """Both compiled functions answer (no hand-back) and equal their references."""
    from scameter.ingest import _rowsfast

    rows = _rowsfast.event_rows(
        events, rules, AS_OF, seq, CATEGORY_BITS, category_bit, provider_number, F_CORROBORATE
    )
    assert rows is not None, "event_rows handed a chunk of worker-shaped events back"
    pairs = _rowsfast.encode_pairs(events, rules, evidence._TAGS, evidence._xxh3, orjson.dumps, SEP)
    assert pairs is not None, "encode_pairs handed a chunk of worker-shaped events back"
    assert _rows(events, rules, seq, compiled=True) == _rows(events, rules, seq, compiled=False)
    assert _pairs(events, rules, compiled=True) == _pairs(events, rules, compiled=False)


# ---- events in the workers' shape ------------------------------------------------------

_KINDS = [k.value for k in Kind]
# Text where CSV and JSON differ from plain: commas, quotes, line breaks, backslashes,
# control characters, non-ASCII (two, three and four bytes of UTF-8).
_ODD = st.text(alphabet=list('ab,"\r\n \\\t\x00\x1f\x7fé漢😀~:'), max_size=12)
_TEXT = st.one_of(st.text(max_size=16), _ODD)
# Values past the 240 bytes the C hashes itself (the key then comes from xxhash).
_LONG = st.text(alphabet=list("ab/.é"), min_size=200, max_size=300)
_KEYS = st.builds(
    lambda tilde, kind, value: ("~" if tilde else "") + kind + ":" + value,
    st.booleans(),
    st.sampled_from(_KINDS),
    st.one_of(_TEXT, _LONG),
)
# Several keys with repeats, some repeated with and some without the "~" (the first form
# decides validity), a few with two: what a report of many identifiers names.
_KEY_TUPLES = st.one_of(
    st.tuples(_KEYS),
    st.lists(_KEYS, min_size=1, max_size=3).flatmap(
        lambda ks: st.lists(
            st.sampled_from(ks + ["~" + k.lstrip("~") for k in ks] + [k.lstrip("~") for k in ks]),
            min_size=0,
            max_size=6,
        ).map(tuple)
    ),
)
_CATEGORIES = st.sampled_from([*CATEGORY_BITS, "", "Investment Scam", "phishing-sms", "zzz"])
_REPORTERS = st.one_of(
    st.just(0),
    st.integers(1, 1000),
    st.integers((1 << 63) - 2, (1 << 63) + 1),
    st.integers(0, (1 << 64) - 1),
)
# In the window, aged out (before any window), in the future, and no time at all.
_TIMES = st.one_of(st.just(NEVER), st.integers(AS_OF - 800 * DAY, AS_OF + 2 * DAY), st.just(AS_OF))


@st.composite
def _report(draw: st.DrawFn) -> tuple[Any, ...]:
    ev = (
        EV_REPORT,
        draw(st.integers(1, 10**7)),
        draw(_TIMES),
        draw(st.integers(0, 4)),  # every source: feed and partner reports are corroborated
        draw(st.integers(0, 2)),  # every status: rejected ones never count
        draw(_REPORTERS),
        draw(_CATEGORIES),
        draw(_KEY_TUPLES),
        draw(_TEXT),  # provider
        draw(st.one_of(st.just(""), _TEXT)),  # case id
    )
    return ev[: draw(st.sampled_from([8, 9, 10, 10, 10]))]  # older events end earlier


_ALLOW = st.builds(
    lambda line, key, owner: (EV_ALLOW, line, key, owner),
    st.integers(1, 10**6),
    _KEYS,
    st.one_of(_TEXT, st.none()),
)
_DELIST = st.builds(
    lambda line, key, at: (EV_DELIST, line, key, at),
    st.integers(1, 10**6),
    _KEYS,
    st.one_of(st.just(-1), st.integers(0, 1 << 40)),
)
_EVENTS = st.lists(st.one_of(_report(), _report(), _ALLOW, _DELIST), max_size=25)


@st.composite
def _rules(draw: st.DrawFn) -> dict[tuple[int, int], tuple[int, int]]:
    """The aggregator's rules, some refused (flag 0: the evidence drops such reports) and
    some windows moved."""
    out = dict(RULES)
    for pair in draw(st.sets(st.sampled_from(sorted(RULES)), max_size=4)):
        flag, start = out[pair]
        start = max(-(1 << 63), start + draw(st.integers(-DAY, DAY)))  # (a BIGINT)
        out[pair] = (0 if draw(st.booleans()) else flag, start)
    return out


_SEQ = st.one_of(st.integers(0, 5), st.integers(0, (1 << 30) - 1))


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(events=_EVENTS, rules=_rules(), seq=_SEQ)
def test_worker_shaped_events_give_the_reference_s_rows_and_evidence(
    events: list[tuple[Any, ...]], rules: dict[tuple[int, int], tuple[int, int]], seq: int
) -> None:
    _compiled_answers(events, rules, seq)


@needs_compiled
@settings(max_examples=200, deadline=None)
@given(events=_EVENTS)
def test_each_blob_is_orjson_s_bytes_under_its_keys(events: list[tuple[Any, ...]]) -> None:
    """The segments read back as (key, blob) pairs in event order: the blob is
    ``orjson.dumps(event)`` (snapshots store it), the key ``wire_key_id`` of each distinct
    identifier, in the key's first-byte bucket."""
    got = evidence.encode_pairs(events, RULES)
    want: dict[int, list[bytes]] = {}
    n = 0
    for ev in events:
        if ev[0] == EV_REPORT:
            flag, start = RULES[ev[3], ev[4]]
            if not flag or (ev[2] < start and ev[2] != NEVER):
                continue
        n += 1
        keys = ev[7] if ev[0] == EV_REPORT else (ev[2],)
        plain = dict.fromkeys(k[1:] if k[:1] == "~" else k for k in keys)
        for key in (wire_key_id(k) for k in plain):
            want.setdefault(key[0], []).extend([key, orjson.dumps(ev)])
    assert got.events == n
    assert [(b, items) for b, (_, items, _) in got.segments] == [
        (b, len(v)) for b, v in sorted(want.items())
    ]
    for bucket, (blob, _, framed) in got.segments:
        assert not framed
        assert blob.split(SEP)[:-1] == want[bucket]


# ---- everything else: the same result or the same error ------------------------------


class _Str(str):
    """A str subclass: the compiled path leaves it to Python."""


_ODD_VALUES = [
    True, False, 1.5, None, [], ["phone:+85291234567"], (), ("x",), ("phone:1", ("n", ())),
    1 << 64, (1 << 64) - 1, -(1 << 63) - 1, 1 << 70, -5, 7, 99, 0, "", "~", "zz:1",
    "\ud800", "phone:\ud800", _Str("phone:+85291234567"), {"a": 1}, b"phone:1",
]  # fmt: skip


@st.composite
def _odd_event(draw: st.DrawFn) -> tuple[Any, ...]:
    """A worker-shaped event with one element replaced, cut short or lengthened."""
    ev: tuple[Any, ...] = draw(st.one_of(_report(), _ALLOW, _DELIST))
    at = draw(st.integers(0, len(ev)))
    odd = draw(st.sampled_from(_ODD_VALUES))
    how = draw(st.sampled_from(["replace", "cut", "append"]))
    if how == "cut":
        return ev[:at]
    if how == "append":
        return (*ev, odd)
    return (*ev[:at], odd, *ev[at + 1 :])


@needs_compiled
@settings(max_examples=500, deadline=None)
@given(
    events=st.lists(st.one_of(_report(), _odd_event()), min_size=1, max_size=6),
    rules=_rules(),
    seq=st.one_of(_SEQ, st.sampled_from([-1, 1 << 31, 1 << 40])),
)
def test_any_events_give_the_reference_s_result_or_error(
    events: list[tuple[Any, ...]], rules: dict[tuple[int, int], tuple[int, int]], seq: int
) -> None:
    _same_outcomes(events, rules, seq)


def _ev(**changes: Any) -> tuple[Any, ...]:
    fields = {"line": 3, "ts": AS_OF - DAY, "src": 1, "status": 1, "rep": 12345,
              "category": "investment", "keys": ("phone:+85291234567",), "provider": "f.jsonl",
              "cid": "c1"}  # fmt: skip
    fields.update(changes)
    return (EV_REPORT, *fields.values())


_TELECOM, _FEED, _UNVERIFIED, _CONFIRMED, _REJECTED = 3, 4, 1, 0, 2
_LONG_URL = "url:https://example.com/" + "a/" * 150

VECTORS = [
    pytest.param([_ev()], id="plain-report"),
    pytest.param(
        [_ev(rep=(1 << 64) - 1), _ev(rep=1 << 63), _ev(rep=(1 << 63) - 1)],
        id="reporter-hashes-past-2^63",
    ),
    pytest.param([_ev(rep=0)], id="no-reporter-counts-as-1"),
    pytest.param([_ev(keys=("phone:1", "~phone:1", "phone:2", "phone:1"))], id="duplicate-keys"),
    pytest.param([_ev(keys=("~phone:1", "phone:1"))], id="first-form-decides-validity"),
    pytest.param([_ev(keys=("~~phone:1", "phone:2"))], id="double-tilde-in-many-keys"),
    pytest.param([_ev(keys=())], id="no-keys"),
    pytest.param([_ev(keys=('phone:a,"b"\r\n',), cid='x,"y"\nz')], id="csv-quoting"),
    pytest.param([_ev(keys=("email:zoë@例え.jp",), cid="案件😀")], id="non-ascii"),
    pytest.param([_ev(keys=(_LONG_URL,)), _ev(keys=(_LONG_URL, "phone:1"))], id="long-key"),
    pytest.param(
        [_ev(category="Investment Scam"), _ev(category="zzz"), _ev(category="")],
        id="unknown-and-no-category",
    ),
    pytest.param(
        [_ev(src=_TELECOM, provider="telco"), _ev(src=_FEED, status=_CONFIRMED)],
        id="corroborated-sources",
    ),
    pytest.param([_ev(src=_FEED)[:8]], id="corroborated-without-provider"),
    pytest.param(
        [_ev(ts=AS_OF + 1), _ev(ts=AS_OF - 5000 * DAY), _ev(status=_REJECTED)],
        id="future-aged-out-refused",
    ),
    pytest.param([_ev(ts=NEVER, src=0, status=_CONFIRMED)], id="never"),
    pytest.param([_ev(cid=None), _ev()[:9]], id="no-case-id"),
    pytest.param(
        [
            (EV_ALLOW, 1, "~domain:a,b.hk", 'own"er'),
            (EV_DELIST, 2, "phone:1", -1),
            (EV_ALLOW, 3, "phone:2", None),
            (EV_DELIST, 4, "phone:3", 1_700_000_000),
        ],
        id="allow-delist",
    ),
    pytest.param([_ev(extra=("a", ("b", None), True, -1))], id="trailing-nested-element"),
]


@needs_compiled
@pytest.mark.parametrize("events", VECTORS)
def test_vectors(events: list[tuple[Any, ...]]) -> None:
    _compiled_answers(events, RULES, 7)


ODD = [
    pytest.param([_ev(ts=1.5)], id="float-time"),
    pytest.param([_ev(src=True)], id="bool-source"),
    pytest.param([_ev(ts=True, src=0, status=_CONFIRMED)], id="bool-time"),
    pytest.param([_ev(rep=True)], id="bool-reporter"),
    pytest.param([_ev(src=9)], id="source-not-in-rules"),
    pytest.param([_ev(rep=1 << 64)], id="reporter-past-64-bits"),
    pytest.param([_ev(rep=-(1 << 63) - 1)], id="reporter-below-int64"),
    pytest.param([_ev(keys=("zz:1",))], id="unknown-kind"),
    pytest.param([_ev(keys=("",))], id="empty-key"),
    pytest.param([_ev(keys=["phone:1"])], id="keys-in-a-list"),
    pytest.param([_ev(keys=("phone:\ud800",))], id="lone-surrogate"),
    pytest.param([_ev(src=_FEED, provider=None)], id="provider-none"),
    pytest.param([_ev(extra=1.5)], id="trailing-float"),
    pytest.param([_ev(extra=1 << 64)], id="trailing-int-past-64-bits"),
    pytest.param([_ev(category=5)], id="int-category"),
    pytest.param([(EV_ALLOW, 1, "phone:1", 2.5)], id="float-owner"),
    pytest.param([(EV_DELIST, 1, "phone:1")], id="short-delist"),
]


@needs_compiled
@pytest.mark.parametrize("events", ODD)
def test_odd_vectors(events: list[tuple[Any, ...]]) -> None:
    _same_outcomes(events, RULES, 7)


@needs_compiled
def test_a_key_holding_the_separator_is_handed_back() -> None:
    """A bucket whose items hold SEP is framed by lengths (``spill.encode_segment``); the C
    leaves that to Python. No real key hashes to SEP, so a stub digest stands in for xxhash
    (it serves keys past 240 bytes), and a separator with a border is refused too."""
    from scameter.ingest import _rowsfast

    events = [_ev(keys=(_LONG_URL,))]

    def to_sep(data: bytes) -> bytes:
        return SEP

    assert _rowsfast.encode_pairs(events, RULES, evidence._TAGS, to_sep, orjson.dumps, SEP) is None
    good = _rowsfast.encode_pairs(events, RULES, evidence._TAGS, evidence._xxh3, orjson.dumps, SEP)
    assert good is not None
    assert _rowsfast.encode_pairs(events, RULES, evidence._TAGS, evidence._xxh3, orjson.dumps,
                                  b"abab") is None  # fmt: skip


@needs_compiled
def test_the_compiled_module_is_built() -> None:
    """Fails on CI (``SCAMETER_REQUIRE_SYSTEM_TOOLS``) when ``pip install -e .`` did not build
    the extension, so the compiled rows are never silently left untested."""
    from scameter.ingest import _rowsfast

    assert ROWS_PATH == "compiled"
    assert _rowsfast.event_rows.__module__ in (None, "scameter.ingest._rowsfast")


def test_without_the_extension_the_python_path_gives_the_same() -> None:
    """A process where ``_rowsfast`` cannot be imported (built without a C compiler) writes
    the rows and evidence of this one."""
    events = [_ev(), _ev(src=_FEED), (EV_ALLOW, 4, "phone:2", "me")]
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["scameter.ingest._rowsfast"] = None  # as if built without a compiler
        from scameter.ingest import evidence, ooc
        rules = {RULES!r}
        rows = ooc.event_rows({events!r}, rules, {AS_OF}, 7)
        pairs = evidence.encode_pairs({events!r}, rules)
        print(repr((evidence.ROWS_PATH, ooc._rowsfast, rows.ev, rows.li, pairs.segments)))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    rows = ooc.event_rows(events, RULES, AS_OF, 7)
    pairs = evidence.encode_pairs(events, RULES)
    assert out.strip() == repr(("python", None, rows.ev, rows.li, pairs.segments))
    assert isinstance(pairs, EncodedEvidence)
