"""``make_verdict`` (the lookup hot path's constructor) builds exactly what ``Verdict`` does."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle

import pytest

from scameter.verdict import (
    NO_EXTRA,
    Level,
    Reason,
    ReasonCode,
    SimilarTo,
    Verdict,
    make_no_record,
    make_verdict,
    with_no_records,
)

RC = ReasonCode.POLICE_CONFIRMED

CASES = {
    "hit": (
        "9123 4567", "phone", "+85291234567", Level.HIGH_RISK,
        (Reason.of(ReasonCode.POLICE_CONFIRMED),), ("investment",), 3, 2,
        "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", None, None, 4, Level.HIGH_RISK, None,
        "snap",
    ),
    "near": (
        "evil-shap.com", "domain", "evil-shap.com", Level.POSSIBLE,
        (Reason.of(ReasonCode.NEAR_MATCH, "Similar to evil-shop.com."),), (), 0, 0, None, None,
        None, SimilarTo("evil-shop.com", 1, Level.SUSPICIOUS), 0, None, "HSBC", None,
    ),
}  # fmt: skip


@pytest.mark.parametrize("args", CASES.values(), ids=CASES.keys())
def test_make_verdict_equals_the_dataclass_constructor(args: tuple[object, ...]) -> None:
    fast = make_verdict(*args)  # type: ignore[arg-type]
    slow = Verdict(*args)  # type: ignore[arg-type]
    assert type(fast) is Verdict
    assert fast == slow
    for f in dataclasses.fields(Verdict):
        assert getattr(fast, f.name) == getattr(slow, f.name), f.name
    assert fast.error is None
    assert fast.extra is NO_EXTRA
    assert fast.to_dict() == slow.to_dict()
    assert hash(fast) == hash(slow)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.level = Level.NO_RECORD  # type: ignore[misc]
    assert dataclasses.replace(fast, report_count=9).report_count == 9


def test_slots_follow_field_order() -> None:
    # make_verdict fills a writable twin with the same slots, then retypes it as a Verdict.
    assert Verdict.__slots__ == tuple(f.name for f in dataclasses.fields(Verdict))


def test_extra_is_immutable_and_shared_by_default() -> None:
    a = Verdict("x", None, None, Level.NO_RECORD)
    b = Verdict.invalid("y", "bad")
    assert a.extra is b.extra is NO_EXTRA
    assert not a.extra
    with pytest.raises(TypeError):
        a.extra["k"] = 1  # type: ignore[index]
    assert Verdict("x", None, None, Level.NO_RECORD, extra={"k": 1}).extra == {"k": 1}


def test_default_extra_behaves_like_an_empty_dict() -> None:
    v = Verdict("x", "phone", "+85291234567", Level.HIGH_RISK, reasons=(Reason.of(RC),))
    fast = make_verdict(*[getattr(v, f.name) for f in dataclasses.fields(Verdict)][:16])
    for w in (v, fast):
        assert w.extra == {}
        assert {} == w.extra  # noqa: SIM300 - the reflected comparison on purpose
        assert "extra={}," in repr(w)
        assert pickle.loads(pickle.dumps(w)) == w
        assert pickle.loads(pickle.dumps(w)).extra is NO_EXTRA
        assert copy.deepcopy(w) == w
        assert dataclasses.asdict(w)["extra"] == {}
        assert json.dumps(dict(w.extra)) == "{}"


NO_RECORD_ARGS = ("9123 4567", "phone", "+85291234567", (Reason.of(ReasonCode.NO_RECORD),), "s")


def _plain_no_record(
    raw: str, kind: str | None, canonical: str | None, reasons: tuple[Reason, ...], sid: str
) -> Verdict:
    return Verdict(raw, kind, canonical, Level.NO_RECORD, reasons, snapshot=sid)


@pytest.mark.parametrize(
    "args",
    [
        NO_RECORD_ARGS,
        ("x", None, None, (), None),
        ("evil.example", "domain", "evil.example", (Reason.of(ReasonCode.NO_RECORD),), "t"),
    ],
)
def test_no_record_verdicts_equal_the_dataclass(args: tuple[str, ...]) -> None:
    # The cheap NO RECORD verdict of batches stores five fields and shares the rest.
    fast = make_no_record(*args)  # type: ignore[arg-type]
    (listed,) = with_no_records([None], [args[0]], [args[1]], [args[2]], *args[3:])  # type: ignore[arg-type]
    slow = _plain_no_record(*args)  # type: ignore[arg-type]
    for v in (fast, listed):
        assert isinstance(v, Verdict)
        assert v == slow
        assert slow == v  # the reflected comparison
        assert (v != slow) is False  # __ne__ inverts the field comparison
        assert hash(v) == hash(slow)
        for f in dataclasses.fields(Verdict):
            assert getattr(v, f.name) == getattr(slow, f.name), f.name
        assert v.extra is NO_EXTRA
        assert v.to_dict() == slow.to_dict()
        assert repr(v) == repr(slow)
        assert dataclasses.asdict(v) == dataclasses.asdict(slow)
        with pytest.raises(dataclasses.FrozenInstanceError):
            v.level = Level.HIGH_RISK  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            v.input = "other"  # type: ignore[misc]
        for twin in (pickle.loads(pickle.dumps(v)), copy.copy(v), copy.deepcopy(v)):
            assert type(twin) is Verdict
            assert twin == slow
        changed = dataclasses.replace(v, level=Level.POSSIBLE, report_count=2)
        assert type(changed) is Verdict
        assert changed == dataclasses.replace(slow, level=Level.POSSIBLE, report_count=2)
        assert v != dataclasses.replace(slow, canonical="+85290000000")
        assert v != dataclasses.replace(slow, report_count=1)
        assert json.dumps(v.to_dict()) == json.dumps(slow.to_dict())


def test_with_no_records_keeps_found_verdicts_and_order() -> None:
    hit = make_verdict(*CASES["hit"])
    reasons = (Reason.of(ReasonCode.NO_RECORD),)
    out = with_no_records(
        [None, hit, None], ["a", "b", "c"], ["phone", "phone", None], ["+1", "+2", None],
        reasons, "s",
    )  # fmt: skip
    assert out[1] is hit
    assert out[0] == _plain_no_record("a", "phone", "+1", reasons, "s")
    assert out[2] == _plain_no_record("c", None, None, reasons, "s")
