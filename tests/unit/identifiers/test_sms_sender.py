"""Vector table for sms_sender: the ``#`` ids of OFCA's SMS Sender Registration Scheme."""

from __future__ import annotations

import pytest

from scameter.errors import InvalidIdentifier
from scameter.identifiers import normalize
from scameter.identifiers.sms_sender import MAX_SENDER_LENGTH, normalize_sms_sender

VALID = [
    ("#HSBC", "#HSBC"),
    ("#hsbc", "#HSBC"),
    ("#GovHK", "#GOVHK"),
    ("#HKPost", "#HKPOST"),
    ("#BOCHK", "#BOCHK"),
    ("#A", "#A"),
    ("#ABCDEFGHIJK", "#ABCDEFGHIJK"),  # 11 characters: the GSM limit
    ("#M&S", "#M&S"),
    ("#Tai-Fung_1.", "#TAI-FUNG_1."),
    # The space decision (module docstring): Chong Hing Bank prints "#Chong Hing"; every way of
    # retyping it meets at one key.
    ("#Chong Hing", "#CHONGHING"),
    ("#ChongHing", "#CHONGHING"),
    ("#chong  hing", "#CHONGHING"),
    ("#Chong\u3000Hing", "#CHONGHING"),  # ideographic space (NFKC -> space)
    ("#Chong\u00a0Hing", "#CHONGHING"),  # no-break space
    ("#ABCDEF GHIJ", "#ABCDEFGHIJ"),  # 11 as displayed, the space included
    ("  #HSBC  ", "#HSBC"),
    ("# HSBC", "#HSBC"),
    ("＃ＨＳＢＣ", "#HSBC"),  # full-width
    ("#\u200bHSBC", "#HSBC"),  # zero-width space from a chat app
]


@pytest.mark.parametrize(("raw", "canonical"), VALID, ids=[v[0] for v in VALID])
def test_sms_sender_canonical(raw: str, canonical: str) -> None:
    ident = normalize("sms_sender", raw)
    assert (ident.value, ident.valid) == (canonical, True)
    assert normalize("sms_sender", ident.value) == ident  # idempotent


INVALID = [
    ("HSBC", "starts with '#'"),
    ("", "empty"),
    ("   ", "empty"),
    ("#", "nothing after the '#'"),
    ("#   ", "nothing after the '#'"),
    ("##HSBC", "not U+0023"),
    ("#ABCDEFGHIJKL", "12 characters after the '#'"),
    ("#ABCDEF GHIJK", "12 characters after the '#'"),  # the space counts as displayed
    ("#匯豐", "not U+532F"),
    ("#HSBC\nYour OTP", "not U+000A"),
    ("#HS\tBC", "not U+0009"),
    ("#HSBC!", "not U+0021"),
    ("#é", "not U+00C9"),
]


@pytest.mark.parametrize(("raw", "reason"), INVALID, ids=[repr(v[0]) for v in INVALID])
def test_sms_sender_rejects(raw: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match="invalid sms_sender") as info:
        normalize("sms_sender", raw)
    assert reason in info.value.reason
    assert info.value.raw == raw
    if len(raw.strip()) > 3:
        assert raw.strip() not in str(info.value)  # the value is never in the message


def test_the_limit_is_the_gsm_alphanumeric_address() -> None:
    assert MAX_SENDER_LENGTH == 11
    assert normalize_sms_sender("#" + "A" * 11).value == "#" + "A" * 11
    with pytest.raises(InvalidIdentifier):
        normalize_sms_sender("#" + "A" * 12)


def test_a_sender_without_hash_is_never_a_registered_one() -> None:
    # Prefixing '#' would give a spoofed "HSBC" the registered #HSBC's key and verdict.
    with pytest.raises(InvalidIdentifier) as info:
        normalize_sms_sender("HSBC")
    assert "not registered" in info.value.reason
