"""``make_verdict`` (the lookup hot path's constructor) builds exactly what ``Verdict`` does."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle

import pytest

from scameter.verdict import NO_EXTRA, Level, Reason, ReasonCode, SimilarTo, Verdict, make_verdict

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
