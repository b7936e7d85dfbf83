"""``Snapshot.check(raw, "phone")``'s direct lane answers as the phone rule does.

A typed HK number comes with its identifier and key from the compiled shortcut
(``TypedHK.keyed``) and :meth:`ExactRules.answer_typed` answers it (``Snapshot._direct``);
every answer must equal the rule's for the normalised number (``check_identifier``, which
never takes the lane): listed, allowlisted, allowlisted and reported, in a listed range, not
listed, unallocated, with and without a call context, every spelling, and input the
shortcut declines. Without the extension the lane is not installed and the rule answers.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from scameter.errors import InvalidIdentifier
from scameter.identifiers import Kind, normalize_phone
from scameter.identifiers.phone import TYPED_HK_PATH, typed_hk_keyed
from scameter.index import Snapshot
from scameter.verdict import Channel, CheckContext, Level, Verdict
from tests.unit.identifiers.test_phonefast import REQUIRED
from tests.unit.index.helpers import build, rec
from tests.unit.index.test_lookup_vectors import CONTEXT_VECTORS, RECORDS, VECTORS

needs_compiled = pytest.mark.skipif(
    TYPED_HK_PATH != "compiled" and not REQUIRED,
    reason="scameter.identifiers._phonefast is not built here (no C compiler at install time)",
)
CONTEXTS = [
    None,
    CheckContext(Channel.INCOMING_CALL, True),
    CheckContext(Channel.INCOMING_CALL, False),
    CheckContext(Channel.SMS, True),
]


def _spellings(e164: str) -> list[str]:
    n = e164[4:]
    return [e164, n, f"{n[:4]} {n[4:]}", f"+852 {n[:4]}-{n[4:]}", f"(852) {n[:4]} {n[4:]}"]


_PHONES = [r.identifier.value for r in RECORDS if r.identifier.kind is Kind.PHONE]
#: Every phone of the lookup vectors in five spellings, a few misses (one unallocated) and
#: the inputs of the vectors (some declined by the shortcut, some invalid).
RAWS = [
    *(s for v in _PHONES for s in _spellings(v)),
    *_spellings("+85298765432"),
    "+85220000000",
    "99999999",
    "18222",
    "+44 20 7946 0000",
    "not a number",
    *(raw for _id, raw, kind, *_ in VECTORS if kind is Kind.PHONE),
    *(raw for _id, raw, *_ in CONTEXT_VECTORS),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root: Path = tmp_path_factory.mktemp("typed-lane")
    # The vectors' records, and one number that is both reported and allowlisted.
    extra = [
        rec(Kind.PHONE, "+85223456780", Level.SUSPICIOUS, report_count=4, reporters=3),
        rec(Kind.PHONE, "+85223456780", Level.VERIFIED, owner="Example Bank fraud line"),
    ]
    return root / build(root, [*RECORDS, *extra])


@pytest.fixture(scope="module")
def snap(built: Path) -> Iterator[Snapshot]:
    with Snapshot.open(built) as s:
        yield s


def _rule(snap: Snapshot, raw: str, context: CheckContext | None) -> Verdict:
    return snap.check_identifier(normalize_phone(raw), raw=raw, context=context)


@needs_compiled
def test_the_lane_is_installed_for_phones_only(snap: Snapshot) -> None:
    assert set(snap._direct) == {Kind.PHONE}
    assert snap._exact.typed
    # The lane itself answers these (listed, allowlisted and reported, in a range, a miss).
    for raw in ("9123 4567", "2345 6780", "61234509", "+852 9876-5432"):
        assert typed_hk_keyed is not None
        assert typed_hk_keyed(raw) is not None, raw


@pytest.mark.parametrize("context", CONTEXTS, ids=["none", "overseas-call", "call", "sms"])
def test_the_lane_answers_as_the_rule(snap: Snapshot, context: CheckContext | None) -> None:
    for _ in range(2):  # the second round with the record shapes and times memoised
        for raw in RAWS:
            for kind in (Kind.PHONE, "phone"):
                error: str | None
                try:
                    expected = _rule(snap, raw, context)
                except InvalidIdentifier as e:
                    error = str(e)
                else:
                    error = None
                if error is not None:
                    with pytest.raises(InvalidIdentifier) as got:
                        snap.check(raw, kind, context=context)
                    assert str(got.value) == error
                    continue
                v = snap.check(raw, kind, context=context)
                assert v == expected, raw
                assert v.to_dict() == expected.to_dict(), raw


def test_the_lane_answers_each_case(snap: Snapshot) -> None:
    assert snap.check("9123 4567", Kind.PHONE).level is Level.HIGH_RISK
    both = snap.check("2345 6780", Kind.PHONE)
    assert (both.level, both.report_count) == (Level.VERIFIED, 4)
    assert snap.check("+852 9876-5432", Kind.PHONE).level is Level.NO_RECORD
    ranged = snap.check("61234509", Kind.PHONE)
    assert (ranged.level, ranged.matched) == (Level.POSSIBLE, "+8526123450x")


def test_without_the_extension_the_rule_answers(built: Path) -> None:
    """In a process where ``scameter.identifiers._phonefast`` cannot be imported: no lane, the
    same answers."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["scameter.identifiers._phonefast"] = None  # as if built without a compiler
        from scameter.identifiers import Kind
        from scameter.index import Snapshot
        with Snapshot.open({str(built)!r}) as s:
            print(len(s._direct), s._exact.typed, s.check("9123 4567", Kind.PHONE).level.value,
                  s.check("61234509", "phone").matched)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["0", "False", "high_risk", "+8526123450x"]
