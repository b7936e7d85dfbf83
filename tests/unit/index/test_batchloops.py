"""The batch loops (``scameter.index.batchloops``): compiled and pure, one answer.

``decode_hits`` (a batch's plain hits through ``from_record``, with the collision and
derivation checks) and ``no_records`` (a batch's NO RECORD verdicts) are run on crafted
columns through both implementations; then whole batches through snapshots opened with each
(``Snapshot.open(compiled=...)``), with and without a live delta layered over them, must
answer every row as the per-row path does. The compiled loops must be built on CI
(``SCAMETER_REQUIRE_SYSTEM_TOOLS``, set by ``.ci/run``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from scameter.errors import SnapshotCorrupt
from scameter.identifiers import Identifier, Kind
from scameter.index import Record, Snapshot
from scameter.index.assembly import NO_RECORD_REASONS
from scameter.index.batchloops import (
    BATCH_PATH,
    NO_RECORD_TYPE,
    DecodeHits,
    NoRecords,
    decode_hits_python,
    loops,
    no_records_python,
)
from scameter.index.batchpath import _BLOCK_ROWS
from scameter.index.delta import REMOVED, Overlay
from scameter.verdict import Level, Verdict, make_no_record, make_verdict, with_no_records
from tests.property.test_batch_properties import one
from tests.unit.index.helpers import build

REQUIRED = bool(os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"))
needs_compiled = pytest.mark.skipif(
    BATCH_PATH != "compiled" and not REQUIRED,
    reason="scameter.index._speedups is not built here (no C compiler at install time)",
)
IMPLEMENTATIONS = [
    pytest.param(False, id="python"),
    pytest.param(True, id="compiled", marks=needs_compiled),
]
SID = "20261101T000000Z-0123456789ab"


def _verdict(raw: str, kind: str, canonical: str) -> Verdict:
    return make_verdict(raw, kind, canonical, Level.SUSPICIOUS, NO_RECORD_REASONS, (), 1, 1,
                        None, None, None, None, 0, None, None, SID)  # fmt: skip


def _from_record(raw: str, buf: bytes) -> Verdict:
    """A stand-in decoder: the record is ``kind:canonical``; ``bad:...`` raises."""
    kind, _, canonical = buf.decode().partition(":")
    if kind == "bad":
        raise SnapshotCorrupt(Path("x"), f"record {canonical} tampered with")
    return _verdict(raw, kind, canonical)


@pytest.fixture(params=IMPLEMENTATIONS)
def impl(request: pytest.FixtureRequest) -> tuple[DecodeHits, NoRecords]:
    return loops(request.param)


@needs_compiled
def test_compiled_batch_loops_are_built() -> None:
    """Fails on CI (``SCAMETER_REQUIRE_SYSTEM_TOOLS``) when the extension lacks the loops."""
    from scameter.index import _speedups

    assert BATCH_PATH == "compiled"
    assert loops()[0] is _speedups.decode_hits
    assert loops(False) == (decode_hits_python, no_records_python)


def test_decode_hits_answers_plain_hits_and_hands_back_the_rest(
    impl: tuple[DecodeHits, NoRecords],
) -> None:
    decode = impl[0]
    raws = ["r0", "r1", "r2", "r3", "r4", "r5"]
    canonicals: list[str | None] = ["+1", "+2", "+3", "a@b.c", "+5", "+6"]
    verdicts: list[Verdict | None] = [None] * 6
    rows = [4, 0, 2, 3, 1]
    bufs: list[bytes | None] = [
        b"phone:+5",  # a hit
        b"phone:+1",  # a hit
        b"phone:+9",  # another identifier under the same 64-bit key: the full path
        b"email:a@b.c",  # a kind that derives others: the full path
        None,  # not fetched: the full path
    ]
    rest = decode(_from_record, rows, bufs, raws, canonicals, verdicts, frozenset({"email"}))
    assert rest == [2, 3, 1]
    assert verdicts == [_verdict("r0", "phone", "+1"), None, None, None,
                        _verdict("r4", "phone", "+5"), None]  # fmt: skip


def test_decode_hits_raises_what_from_record_raises(impl: tuple[DecodeHits, NoRecords]) -> None:
    decode = impl[0]
    verdicts: list[Verdict | None] = [None, None]
    with pytest.raises(SnapshotCorrupt, match="record 7 tampered with"):
        decode(_from_record, [0, 1], [b"phone:+1", b"bad:7"], ["a", "b"], ["+1", "+2"],
               verdicts, frozenset())  # fmt: skip
    assert verdicts[0] == _verdict("a", "phone", "+1")  # rows before it answered, as in order
    with pytest.raises(ValueError, match=r"length|shorter|longer"):
        decode(_from_record, [0], [], ["a"], ["+1"], [None], frozenset())


def test_no_records_equals_with_no_records(impl: tuple[DecodeHits, NoRecords]) -> None:
    fill = impl[1]
    hit = _verdict("x", "phone", "+1")
    found: list[Verdict | None] = [None, hit, None, None]
    inputs = ("a", "x", "b", "c")
    kinds: list[str | None] = ["phone", None, "email", None]
    canonicals: list[str | None] = ["+2", None, "b@c.d", None]
    got = fill(found, inputs, kinds, canonicals, NO_RECORD_REASONS, SID)
    want = with_no_records(found, inputs, kinds, canonicals, NO_RECORD_REASONS, SID)
    assert got == want
    assert got[1] is hit
    assert [type(v) for v in got] == [NO_RECORD_TYPE, Verdict, NO_RECORD_TYPE, NO_RECORD_TYPE]
    assert got[0] == make_no_record("a", "phone", "+2", NO_RECORD_REASONS, SID)
    assert got[2].level is Level.NO_RECORD
    assert got[2].report_count == 0
    assert (got[2].input, got[2].kind, got[2].canonical, got[2].snapshot) == (
        "b", "email", "b@c.d", SID)  # fmt: skip
    assert repr(got[0]) == repr(want[0])
    assert hash(got[3]) == hash(want[3])
    with pytest.raises(ValueError, match=r"length|shorter|longer"):
        fill([None], ["a", "b"], [None], [None], NO_RECORD_REASONS, SID)


@needs_compiled
def test_compiled_loops_refuse_wrong_arguments() -> None:
    from scameter.index import _speedups

    speedups: Any = _speedups
    with pytest.raises(TypeError, match="7 arguments"):
        speedups.decode_hits(_from_record, [], [], [], [])
    with pytest.raises(TypeError, match="lists"):
        speedups.decode_hits(_from_record, (0,), [b""], ["a"], ["+1"], [None], frozenset())
    with pytest.raises(IndexError):
        speedups.decode_hits(_from_record, [3], [b"phone:+1"], ["a"], ["+1"], [None],
                             frozenset())  # fmt: skip
    other = type("Other", (), {"__slots__": ("input",)})
    for verdict_type, cls in ((Verdict, other), (other, NO_RECORD_TYPE), (Verdict, int)):
        with pytest.raises(TypeError):
            speedups.no_records([None], ["a"], [None], [None], (), None, verdict_type, cls)


def test_compiled_true_without_the_extension_fails_clearly() -> None:
    """Without ``scameter.index._speedups`` the pure loops are chosen at import, and asking
    for the compiled ones says how to get them."""
    script = textwrap.dedent(
        """
        import sys
        sys.modules["scameter.index._speedups"] = None  # as if built without a compiler
        from scameter.index.batchloops import BATCH_PATH, loops
        try:
            loops(True)
        except ImportError as e:
            print(BATCH_PATH, "C compiler" in str(e))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["python", "True"]


# -- whole batches through a snapshot -----------------------------------------------------

P = Kind.PHONE
#: One listed number per block of 100: no phone range is listed around them.
LISTED = [f"+85291{i:06d}" for i in range(0, 101_000, 101)]


def _records() -> list[Record]:
    out = [Record(Identifier(P, v), Level.HIGH_RISK, report_count=1 + i % 5)
           for i, v in enumerate(LISTED)]  # fmt: skip
    out += [
        Record(Identifier(P, "+85223456789"), Level.VERIFIED, owner="Example Bank hotline"),
        Record(Identifier(P, "+85223456789"), Level.SUSPICIOUS, report_count=4),
        Record(Identifier(P, "+85235550000"), Level.VERIFIED, owner="Government"),
        Record(Identifier(P, "+85240001234", False), Level.SUSPICIOUS),
        Record(Identifier(Kind.BANK_ACCOUNT, "004-123456789001"), Level.HIGH_RISK),
    ]
    # A listed block of unallocated numbers (a phone range) and one of allocated ones.
    out += [Record(Identifier(P, f"+8524000990{d}", False), Level.SUSPICIOUS) for d in "1357"]
    out += [Record(Identifier(P, f"+8526123015{d}"), Level.POSSIBLE) for d in "0159"]
    return out


#: Rows of every branch: typed and other spellings, hits, misses, allowlisted, unallocated
#: (listed or not), an unknown bank code, invalid rows, repeats.
ROWS = [
    *(f"91{i:06d}" for i in range(0, 60_600, 101)),  # listed
    *(f"91{i:06d}" for i in range(50, 60_600, 101)),  # not
    *(f"+852 91{i // 10_000:02d} {i % 10_000:04d}" for i in range(0, 10_000, 101)),
    "2345 6789", "+85223456789", "3555 0000", "40001234", "40005678", "+852 4000 5679",
    "004-123-456789001", "999-123-456789001", "junk!", "", "+1 202 555 0100", "9000 0003",
    "9100 0002", "4000 9902", "40009903", "+852 4000 9901", "6123 0155", "61230150",
]  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root: Path = tmp_path_factory.mktemp("batchloops")
    return root / build(root, _records())


@pytest.fixture(params=IMPLEMENTATIONS)
def snap(built: Path, request: pytest.FixtureRequest) -> Iterator[Snapshot]:
    with Snapshot.open(built, compiled=request.param) as s:
        yield s


@pytest.mark.parametrize("kind", [P, None], ids=["phone", "detected"])
def test_batches_answer_every_row_as_alone(snap: Snapshot, kind: Kind | None) -> None:
    rows = ROWS
    want = [one(snap, r, kind) for r in rows]
    answer = snap.check_batch(rows, kind)
    assert snap.key_probe.size  # the probe was built: the batch path ran, not the per-row one
    hits = [i for i, v in enumerate(want) if v.level is Level.HIGH_RISK]
    assert len(hits) > 400
    assert all(answer.verdicts[i] is not None for i in hits)
    assert answer.misses() > 400
    assert snap.check_many(rows, kind) == want
    assert [v.reasons for v in snap.check_many(rows, kind)] == [v.reasons for v in want]
    assert [answer.verdict(i) for i in range(len(rows))] == want
    doubled = rows + rows[::-1]
    assert snap.check_many(doubled, kind) == want + want[::-1]


def test_unallocated_misses_get_their_reason(snap: Snapshot) -> None:
    rows = [*ROWS[:200], "40005678", "4000 5678", "40009902"]
    got = snap.check_many(rows, P)[-3:]
    assert got == [snap.check("40005678", P), snap.check("4000 5678", P),
                   snap.check("40009902", P)]  # fmt: skip
    assert [r.code.value for r in got[0].reasons] == ["no_record", "unallocated_number"]
    in_range = got[2]  # a listed block around it: POSSIBLE, and still unallocated
    assert in_range.level is Level.POSSIBLE
    assert [r.code.value for r in in_range.reasons] == ["phone_range", "unallocated_number"]


def test_with_a_live_delta_every_present_row_takes_the_full_path(snap: Snapshot) -> None:
    """A delta removes a listed number and adds one: the batch answers as the layered rules,
    row by row (its rows with a key in the base go down the full path, which reads the delta
    first)."""
    gone, added = Identifier(P, LISTED[5]), Identifier(P, "+85290000004")
    base_hit = snap.check(gone.value, P)
    assert base_hit.level is Level.HIGH_RISK
    record = cast(bytes, snap.reader.table.get(Identifier(P, LISTED[6]).key))
    overlay = Overlay(snap.id, snap.path.parent / f"delta-{id(snap)}", snap.policy)
    overlay.update(1, {gone.key: REMOVED}, ())
    snap.set_overlay(overlay)
    try:
        rows = [*ROWS, gone.value]
        assert snap.check_many(rows, P) == [one(snap, r, P) for r in rows]
        assert snap.check_many(rows, P)[-1].level is Level.NO_RECORD
    finally:
        snap.set_overlay(None)
    assert snap.check_many([gone.value, *ROWS], P)[0] == base_hit
    assert record  # the base is untouched
    assert added.value not in LISTED


def test_long_batches_answer_as_alone_across_blocks(snap: Snapshot) -> None:
    """More distinct rows than a block of the whole-column steps (typed numbers recognised
    and keyed block by block): every row still as alone, the blocks' seams included."""
    n = 2 * _BLOCK_ROWS + 77
    rows = [f"91{i * 37 % 101_000:06d}" if i % 3 else f"+852 91{i:06d}" for i in range(n)]
    rows[_BLOCK_ROWS - 1 : _BLOCK_ROWS + 2] = ["junk!", "91000000", "40009902"]  # a seam
    rows = list(dict.fromkeys(rows))
    assert len(rows) > 2 * _BLOCK_ROWS
    want = [one(snap, r, P) for r in rows]
    assert sum(v.level is Level.HIGH_RISK for v in want) > 50
    assert snap.check_many(rows, P) == want


def test_decode_hits_reads_any_answer_by_its_attributes(
    impl: tuple[DecodeHits, NoRecords],
) -> None:
    """A decoder answering something else than a Verdict (the compiled loop reads a
    Verdict's slots in place, anything else by attribute): the same rows kept."""
    decode = impl[0]

    def other(raw: str, buf: bytes) -> Any:
        kind, _, canonical = buf.decode().partition(":")
        return SimpleNamespace(input=raw, kind=kind, canonical=canonical)

    verdicts: list[Any] = [None, None, None]
    rest = decode(other, [0, 1, 2], [b"phone:+1", b"phone:+9", b"email:+3"], ["a", "b", "c"],
                  ["+1", "+2", "+3"], verdicts, frozenset({"email"}))  # fmt: skip
    assert rest == [1, 2]
    assert verdicts[0] == SimpleNamespace(input="a", kind="phone", canonical="+1")
    assert verdicts[1:] == [None, None]
