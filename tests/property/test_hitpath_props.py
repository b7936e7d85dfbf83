"""The compiled hit path answers exactly as the pure-Python one (hypothesis).

Random records of every kind, level, flag and block (cluster, listing, owner, inline case
ids; long and non-ASCII strings; string ids known and unknown to ``ReasonCode``) are packed
with the builder's own :func:`pack_record` and :func:`seal`, then decoded by
``VerdictAssembler.from_record_python`` (the reference) and by the compiled
``HitDecoder.from_record``: the verdicts must agree field by field, and the compiled path must
have answered by itself (its fallback not called) once the record's shape is memoised.
Damaged records (flipped bytes, with or without a fresh CRC) must give the same outcome on
both paths: the same verdict, or the same exception with the same message.
"""

from __future__ import annotations

import dataclasses
import os
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scameter.errors import SnapshotCorrupt
from scameter.index.assembly import _KIND_VALUES, VerdictAssembler
from scameter.index.format import (
    CLUSTER,
    HEADER,
    KIND_BY_TAG,
    LEVEL_CODES,
    OFF_ORDINAL,
    U32,
    label_block,
    pack_record,
    seal,
)
from scameter.index.reader import SnapshotReader
from scameter.times import _CACHE as ISO_CACHE
from scameter.times import iso_utc
from scameter.verdict import NO_EXTRA, Level, ReasonCode, Verdict

speedups: Any
try:
    from scameter.index import _speedups as speedups
except ImportError:  # pragma: no cover - CI builds it (tests/unit/index/test_hitpath.py)
    speedups = None

pytestmark = pytest.mark.skipif(
    speedups is None and not os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"),
    reason="scameter.index._speedups is not built here (no C compiler at install time)",
)

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: The string table: known reason codes, categories and sources, non-ASCII and long ones.
STRINGS = (
    *(c.value for c in ReasonCode),
    "investment",
    "shopping",
    "police",
    "public",
    "投資騙案",
    "x" * 300,
    "",
)
SNAPSHOT_ID = "20261101T000000Z-0123456789ab"
STORED_LEVELS = [c for lv, c in LEVEL_CODES.items() if lv is not Level.NO_RECORD]

text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40) | st.text(
    max_size=2000, alphabet="abc漢字é"
)
times = st.none() | st.integers(0, 0xFFFFFFFF)
id_lists = st.lists(st.integers(0, len(STRINGS) - 1), max_size=6)


@st.composite
def records(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A sealed record as a builder stores it, and whether it belongs in ``allow``."""
    level_code = draw(st.sampled_from(STORED_LEVELS))
    cluster = draw(st.none() | st.integers(0, 2**64 - 1))
    body = bytearray(
        pack_record(
            draw(st.sampled_from(sorted(KIND_BY_TAG))),
            level_code,
            draw(text).encode("utf-8"),
            draw(st.booleans()),
            label_block(draw(id_lists), draw(id_lists), draw(id_lists)),
            draw(st.integers(0, 2**32 - 1)),
            draw(st.integers(0, 2**32 - 1)),
            draw(times),
            draw(times),
            cluster,
            draw(st.none() | text),
            draw(st.none() | text),
            draw(st.lists(text, max_size=3)),
            draw(st.integers(0, 50)),
        )
    )
    U32.pack_into(body, OFF_ORDINAL, draw(st.integers(0, 2**32 - 1)))
    if cluster is not None:  # the writer patches the cluster's worst level and size in
        worst = draw(st.sampled_from([0, *STORED_LEVELS, 200]))
        CLUSTER.pack_into(body, HEADER.size, worst, draw(st.integers(0, 2**32 - 1)), cluster)
    return seal(body), level_code == LEVEL_CODES[Level.VERIFIED]


def _reader() -> SnapshotReader:
    shim = SimpleNamespace(strings=STRINGS, id=SNAPSHOT_ID, path=Path("/snapshots/x"))
    return cast(SnapshotReader, shim)


class Counted:
    """A fallback that counts its calls (to see whether the compiled path answered)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Verdict:
        self.calls += 1
        return cast(Verdict, self.inner(*args, **kwargs))


def _pair() -> tuple[VerdictAssembler, Any, Counted]:
    """A pure assembler, and a compiled decoder sharing its memo, with a counted fallback."""
    pure = VerdictAssembler(_reader(), compiled=False)
    fallback = Counted(pure.from_record_python)
    decoder = speedups.HitDecoder(
        Verdict, NO_EXTRA, _KIND_VALUES, pure._trait_cache, ISO_CACHE, iso_utc, SNAPSHOT_ID,
        fallback,
    )  # fmt: skip
    return pure, decoder, fallback


def _fields(v: Verdict) -> dict[str, Any]:
    return {f.name: getattr(v, f.name) for f in dataclasses.fields(Verdict)}


def _outcome(call: Any, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    try:
        v = call(*args, **kwargs)
    except Exception as e:  # every exception: both paths must raise the same one
        return ("raised", type(e), str(e))
    assert type(v) is Verdict
    return ("verdict", _fields(v))


@SETTINGS
@given(records(), st.sampled_from(["+85291234567", "raw 入力"]))
def test_compiled_decode_equals_pure_field_by_field(record: tuple[bytes, bool], raw: str) -> None:
    buf, allowed = record
    pure, decoder, fallback = _pair()
    expected = pure.from_record_python(raw, buf, allowed=allowed)
    calls = fallback.calls
    got = decoder.from_record(raw, buf, allowed=allowed)
    assert fallback.calls == calls  # the shape was memoised: the C code answered alone
    assert _fields(got) == _fields(expected)
    assert got == expected
    assert hash(got) == hash(expected)
    assert repr(got) == repr(expected)
    # The keywords the URL and message paths pass (canonical, kind, matched) likewise.
    kw = {"canonical": "override", "kind": "url", "matched": "example.com/"}
    assert _fields(decoder.from_record(raw, buf, allowed=allowed, **kw)) == _fields(
        pure.from_record_python(raw, buf, allowed=allowed, **kw)
    )
    assert fallback.calls == calls


@SETTINGS
@given(records())
def test_compiled_path_fills_the_memo_through_the_pure_one(record: tuple[bytes, bool]) -> None:
    buf, allowed = record
    pure, decoder, fallback = _pair()
    first = decoder.from_record("x", buf, allowed=allowed)  # a new shape: the pure path
    assert fallback.calls == 1
    assert _fields(decoder.from_record("x", buf, allowed=allowed)) == _fields(first)
    assert fallback.calls == 1
    assert _fields(first) == _fields(pure.from_record_python("x", buf, allowed=allowed))


@SETTINGS
@given(
    records(),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1, max_size=3),
    st.booleans(),
    st.booleans(),
)
def test_damaged_records_give_the_same_outcome(
    record: tuple[bytes, bool], flips: list[tuple[int, int]], reseal: bool, allowed: bool
) -> None:
    """Flipped bytes (CRC fails: SnapshotCorrupt), or flipped bytes under a fresh CRC (an
    edited record: unknown codes, impossible levels, lengths past the end): the same verdict
    or the same error, message and all, from both paths; also in the wrong table."""
    buf, _ = record
    damaged = bytearray(buf)
    for at, mask in flips:
        damaged[at % len(damaged)] ^= mask
    if reseal:
        damaged = bytearray(seal(damaged[:-4]))
    pure, decoder, _ = _pair()
    for _ in range(2):  # the second time with whatever the first memoised
        expected = _outcome(pure.from_record_python, "x", bytes(damaged), allowed=allowed)
        assert _outcome(decoder.from_record, "x", bytes(damaged), allowed=allowed) == expected
    if not reseal and bytes(damaged) != buf:
        assert expected[:2] == ("raised", SnapshotCorrupt)
        assert "CRC-32" in expected[2]


@SETTINGS
@given(st.binary(max_size=80), st.booleans())
def test_arbitrary_bytes_give_the_same_outcome(data: bytes, allowed: bool) -> None:
    pure, decoder, _ = _pair()
    for buf in (data, seal(data)):
        expected = _outcome(pure.from_record_python, "x", buf, allowed=allowed)
        assert _outcome(decoder.from_record, "x", buf, allowed=allowed) == expected


@SETTINGS
@given(st.binary(max_size=200))
def test_crc32_is_zlibs(data: bytes) -> None:
    assert speedups.crc32(data) == zlib.crc32(data)
