"""The serialised answers of the hot RPCs (scameter/rpc/convert.py, "The wire path")."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scameter.index.assembly import NO_RECORD_REASONS
from scameter.index.batchloops import NO_RECORD_TYPE
from scameter.index.batchpath import BatchAnswer
from scameter.rpc import convert
from scameter.rpc.v1 import scameter_pb2 as pb
from scameter.rpc.worker import WIRE_METHODS
from scameter.verdict import (
    LANGUAGES,
    Language,
    Level,
    Reason,
    ReasonCode,
    Verdict,
    in_language,
    make_no_record,
)

HIT = Verdict(
    input="9123 4567",
    kind="phone",
    canonical="+85291234567",
    level=Level.HIGH_RISK,
    reasons=(Reason.of(ReasonCode.POLICE_CONFIRMED),),
    report_count=3,
    snapshot="s1",
)


def _fill(answer: BatchAnswer, lang: Language = Language.EN) -> pb.CheckBatchResponse:
    out = pb.CheckBatchResponse()
    convert.fill_batch(out.verdicts, answer, lang)
    return out


def test_one_framing_serves_check_and_check_batch() -> None:
    # CheckResponse.verdict and CheckBatchResponse.verdicts share field number 1: the
    # verdict framing of the wire path is the same for both.
    verdict = pb.CheckResponse.DESCRIPTOR.fields_by_name["verdict"].number
    assert verdict == pb.CheckBatchResponse.DESCRIPTOR.fields_by_name["verdicts"].number


def test_long_inputs_and_verdicts_get_multi_byte_lengths() -> None:
    raw = "9" * 3000  # a length past the pre-encoded table (2 varint bytes)
    answer = BatchAnswer([raw, "9123 4567"], [None, replace(HIT, input=raw * 2)],
                         ["phone", None], ["+852" + raw, None], "s1")  # fmt: skip
    got = pb.CheckBatchResponse.FromString(convert.batch_bytes([answer]))
    assert got == _fill(answer)
    assert got.verdicts[0].input == raw
    assert got.verdicts[1].input == raw * 2


def test_verdicts_with_extra_are_not_cached_but_sent() -> None:
    # ``extra`` is outside Verdict's == and hash: two verdicts differing only there must not
    # share cached bytes.
    a, b = replace(HIT, extra={"x": 1}), replace(HIT, extra={"x": 2})
    assert a == b
    got = [pb.CheckResponse.FromString(convert.check_response_bytes(v)) for v in (a, b)]
    assert [m.verdict.extra_json for m in got] == ['{"x":1}', '{"x":2}']


def test_cache_durations_apply_to_cached_bytes() -> None:
    answer = BatchAnswer(["98765432", "9123 4567"], [None, HIT], ["phone", None],
                         ["+85298765432", None], "s1")  # fmt: skip
    convert.batch_bytes([answer])  # cache both answers under the default policy
    try:
        convert.set_cache_durations(900, 5)
        got = pb.CheckBatchResponse.FromString(convert.batch_bytes([answer]))
        assert [m.cache_duration.seconds for m in got.verdicts] == [5, 900]
        assert got == _fill(answer)
    finally:
        convert.set_cache_durations(
            convert.DEFAULT_CACHE_SECONDS, convert.DEFAULT_NO_RECORD_CACHE_SECONDS
        )


def test_the_verdict_cache_is_bounded() -> None:
    for i in range(convert._VERDICT_BYTES_MAX + 10):
        convert.verdict_bytes(replace(HIT, input=str(i), report_count=i))
    assert 0 < len(convert._VERDICT_BYTES) <= convert._VERDICT_BYTES_MAX


def _message(v: Verdict, lang: Language) -> pb.CheckResponse:
    want = pb.CheckResponse()
    convert.fill_verdict(want.verdict, in_language(v, lang))
    return want


def test_a_cached_answer_serves_only_an_equal_verdict() -> None:
    """The cache is keyed by input and language; a verdict that differs in any other field
    (a live delta's new level, a call context's reason, another snapshot) gets its own
    answer, and the cached one again after."""
    variants = [HIT, replace(HIT, level=Level.SUSPICIOUS), replace(HIT, snapshot="s2"),
                replace(HIT, reasons=()), replace(HIT, canonical="+85291234568"), HIT]  # fmt: skip
    for lang in LANGUAGES:
        for v in variants:
            got = pb.CheckResponse.FromString(convert.check_response_bytes(v, lang))
            assert got == _message(v, lang)
            assert convert.verdict_bytes(v, lang) == got.verdict.SerializeToString()


@pytest.mark.parametrize(
    ("raw", "kind", "canonical"),
    [("98765432", "phone", "+85298765432"), ("", "phone", "+85298765432"),
     ("9" * 3000, "phone", "+852" + "9" * 3000), ("x@y.org", "email", "x@y.org"),
     ("何か", None, "何か")],
    ids=["phone", "empty-input", "long", "email", "no-kind"],
)  # fmt: skip
def test_plain_misses_answer_from_the_template(raw: str, kind: str | None, canonical: str) -> None:
    """A plain NO RECORD verdict (what the index's miss path builds) is answered from its
    kind's template: it decodes to what fill_verdict writes, in every language."""
    miss = make_no_record(raw, kind, canonical, NO_RECORD_REASONS, "s1")
    assert type(miss) is NO_RECORD_TYPE
    for lang in LANGUAGES:
        got = pb.CheckResponse.FromString(convert.check_response_bytes(miss, lang))
        assert got == _message(miss, lang)
        assert got.verdict.input == raw
        assert got.verdict.HasField("canonical")
    # Not plain (another reason, no canonical value): the general path, the same message.
    for v in (make_no_record(raw, kind, canonical, (), "s1"),
              make_no_record(raw, kind, None, NO_RECORD_REASONS, "s1")):  # fmt: skip
        got = pb.CheckResponse.FromString(convert.check_response_bytes(v))
        assert got == _message(v, Language.EN)


def test_wire_methods_exist_on_the_servicer() -> None:
    from scameter.rpc.servicer import ScameterServicer

    assert set(WIRE_METHODS) == {"Check", "CheckBatch", "CheckPayee", "CheckPayeeBatch"}
    for attribute in WIRE_METHODS.values():
        assert callable(getattr(ScameterServicer, attribute))
