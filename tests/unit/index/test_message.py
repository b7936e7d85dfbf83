"""check_message over a real snapshot: items and spans, the worst level, the sender rule,
bad input, the size limit and the identifier cap."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scameter.errors import InvalidMessage
from scameter.identifiers import Kind, normalize
from scameter.index import Snapshot
from scameter.index.message import MAX_MESSAGE_BYTES, check_message, message_size_error
from scameter.verdict import Channel, CheckContext, Level, ReasonCode
from tests.unit.index.helpers import open_built, rec

HK_POST_SMS = (
    "【HK Post】Your parcel is held. Pay HK$12 at https://hkpost-redelivery.top/track "
    "or call 6391 2745"
)


@pytest.fixture(scope="module")
def snap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    root = tmp_path_factory.mktemp("message")
    records = [
        rec(Kind.PHONE, "+85263912745", Level.HIGH_RISK, reasons=(ReasonCode.POLICE_CONFIRMED,)),
        rec(
            Kind.DOMAIN,
            "hkpost-redelivery.top",
            Level.HIGH_RISK,
            reasons=(ReasonCode.PARTNER_CONFIRMED,),
            listing="hkpost-redelivery.top/",
        ),
        rec(Kind.PHONE, "+85251234567", Level.SUSPICIOUS, reasons=(ReasonCode.PUBLIC_REPORTS,)),
        rec(
            Kind.SMS_SENDER,
            "#HKPOST",
            Level.VERIFIED,
            reasons=(ReasonCode.ALLOWLISTED,),
            owner="Hongkong Post",
        ),
        rec(Kind.SMS_SENDER, "#HKP0ST", Level.HIGH_RISK, reasons=(ReasonCode.POLICE_CONFIRMED,)),
    ]
    with open_built(root, records) as s:
        yield s


def test_hk_post_sms_yields_both_listed_identifiers_with_spans(snap: Snapshot) -> None:
    answer = check_message(snap, HK_POST_SMS)
    assert answer.level is Level.HIGH_RISK
    assert not answer.truncated
    got = [(i.verdict.kind, i.verdict.canonical, i.verdict.level) for i in answer.items]
    assert got == [
        ("url", "https://hkpost-redelivery.top/track", Level.HIGH_RISK),
        ("phone", "+85263912745", Level.HIGH_RISK),
    ]
    for item in answer.items:
        assert item.span is not None
        assert HK_POST_SMS[item.span[0] : item.span[1]] == item.verdict.input
        assert not item.sender
    assert answer.items[1].verdict.input == "6391 2745"


def test_each_item_is_the_normal_check_of_its_identifier(snap: Snapshot) -> None:
    ctx = CheckContext(Channel.SMS, overseas=True)
    answer = check_message(snap, "call 5123 4567 or 9000 0000 now", context=ctx)
    for item in answer.items:
        direct = snap.check(item.verdict.canonical or "", item.verdict.kind, context=ctx)
        assert item.verdict.level is direct.level
        assert item.verdict.reasons == direct.reasons
    assert answer.level is Level.SUSPICIOUS


def test_repeats_are_items_of_one_verdict_and_the_level_is_the_worst(snap: Snapshot) -> None:
    text = "6391 2745! again: 6391-2745. and 5123 4567"
    answer = check_message(snap, text)
    assert [i.verdict.canonical for i in answer.items] == [
        "+85263912745",
        "+85263912745",
        "+85251234567",
    ]
    assert answer.level is Level.HIGH_RISK
    assert [text[a:b] for a, b in (i.span or (0, 0) for i in answer.items)] == [
        "6391 2745",
        "6391-2745",
        "5123 4567",
    ]


@pytest.mark.parametrize(
    "text",
    ["", "   ", "hello, see you at 7", "\x00\x01\x02\x1b[31m\ufffd\ud800", "\u202e\u200b" * 50],
    ids=["empty", "blank", "plain", "binary-junk", "only-invisibles"],
)
def test_no_identifiers_is_no_record_with_no_items(snap: Snapshot, text: str) -> None:
    answer = check_message(snap, text)
    assert answer.items == ()
    assert answer.level is Level.NO_RECORD
    want = {"input": text, "level": "no_record", "items": [], "truncated": False}
    assert answer.to_dict() == want


def test_controls_inside_a_match_are_removed_and_flagged(snap: Snapshot) -> None:
    text = "pay at hkpost-rede\u200blivery.top/pay or 6391\u202e 2745"
    answer = check_message(snap, text)
    assert [i.verdict.level for i in answer.items] == [Level.HIGH_RISK, Level.HIGH_RISK]
    assert all(i.controls_removed for i in answer.items)
    first = answer.items[0].to_dict()
    assert first["controls_removed"] is True
    assert first["span"] == [7, 33]
    assert first["input"] == text[7:33] == "hkpost-rede\u200blivery.top/pay"


def test_defanged_link_is_found_and_flagged(snap: Snapshot) -> None:
    answer = check_message(snap, "go to hxxps://hkpost-redelivery[.]top/track now")
    (item,) = answer.items
    assert item.defanged
    assert item.verdict.level is Level.HIGH_RISK


class TestSenderRule:
    def test_official_name_from_a_number_is_at_least_possible(self, snap: Snapshot) -> None:
        answer = check_message(snap, "【香港郵政】包裹未能派遞", sender="+852 9000 0000")
        (item,) = answer.items
        assert item.sender
        assert item.span is None
        codes = [r.code for r in item.verdict.reasons]
        assert ReasonCode.UNREGISTERED_SENDER in codes
        assert ReasonCode.NO_RECORD not in codes
        assert "Hongkong Post" in item.verdict.reasons[-1].text
        assert item.verdict.level is Level.POSSIBLE
        assert answer.level is Level.POSSIBLE

    def test_registered_sender_is_verified_without_the_reason(self, snap: Snapshot) -> None:
        answer = check_message(snap, HK_POST_SMS, sender="#hkpost")
        sender = answer.items[0]
        assert sender.sender
        assert sender.verdict.level is Level.VERIFIED
        assert sender.verdict.verified_owner == "Hongkong Post"
        assert ReasonCode.UNREGISTERED_SENDER not in {r.code for r in sender.verdict.reasons}
        assert answer.level is Level.HIGH_RISK  # the listed link and number still count

    @pytest.mark.parametrize(
        "sender", ["#HKPostal", "HKPost", "+852 9000 0000"], ids=["unknown-#", "no-#", "number"]
    )
    def test_unregistered_senders_get_the_reason(self, snap: Snapshot, sender: str) -> None:
        answer = check_message(snap, "Your HSBC account is locked", sender=sender)
        (item,) = answer.items
        assert item.verdict.reasons[-1].code is ReasonCode.UNREGISTERED_SENDER
        assert item.verdict.level is Level.POSSIBLE

    def test_a_reported_sender_keeps_its_higher_level(self, snap: Snapshot) -> None:
        answer = check_message(snap, "HK Post: parcel held", sender="#HKP0ST")
        (item,) = answer.items
        assert item.verdict.level is Level.HIGH_RISK
        assert item.verdict.reasons[-1].code is ReasonCode.UNREGISTERED_SENDER

    def test_no_official_name_no_reason(self, snap: Snapshot) -> None:
        answer = check_message(snap, "dinner at 7?", sender="+852 9000 0000")
        (item,) = answer.items
        assert ReasonCode.UNREGISTERED_SENDER not in {r.code for r in item.verdict.reasons}
        assert answer.level is Level.NO_RECORD

    def test_a_sender_typed_in_the_text_is_not_the_sender(self, snap: Snapshot) -> None:
        answer = check_message(snap, "#HKPost your parcel is held")
        assert [i.sender for i in answer.items] == [False]
        assert ReasonCode.UNREGISTERED_SENDER not in {
            r.code for i in answer.items for r in i.verdict.reasons
        }


def test_over_64_kib_is_refused_and_at_the_limit_is_checked(snap: Snapshot) -> None:
    at_limit = "a" * (MAX_MESSAGE_BYTES - 10) + " 6391 2745"
    assert len(at_limit.encode()) == MAX_MESSAGE_BYTES
    assert message_size_error(at_limit) is None
    assert check_message(snap, at_limit).level is Level.HIGH_RISK
    over = "滙" * (MAX_MESSAGE_BYTES // 3 + 1)  # 3 bytes each in UTF-8
    problem = message_size_error(over)
    assert problem is not None
    assert "64 KiB" in problem
    with pytest.raises(InvalidMessage, match="64 KiB"):
        check_message(snap, over)


def test_more_than_the_limit_checks_the_first_and_says_so(snap: Snapshot) -> None:
    candidates = (f"6{n:03d} {n:04d}" for n in range(100, 400))
    numbers = [n for n in candidates if normalize("phone", n).valid][:130]
    assert len(numbers) == 130
    answer = check_message(snap, " ".join(numbers))
    assert answer.truncated
    assert len({i.verdict.canonical for i in answer.items}) == 100
    assert answer.items[-1].verdict.input == numbers[99]
    assert answer.to_dict()["truncated"] is True
    small = check_message(snap, " ".join(numbers[:100]))
    assert not small.truncated
    assert len(small.items) == 100


def test_answers_are_independent_of_the_snapshot_path(tmp_path: Path) -> None:
    """A message naming nothing listed against an empty snapshot: every item NO RECORD."""
    with open_built(tmp_path, []) as empty:
        answer = check_message(empty, HK_POST_SMS, sender="+852 9000 0000")
    assert [i.verdict.level for i in answer.items[1:]] == [Level.NO_RECORD] * 2
    assert answer.level is Level.POSSIBLE  # the sender rule alone
