"""Hypothesis properties of message extraction.

* :func:`extract` never raises on arbitrary text, nor on text decoded from random bytes;
* every span slices the original text to the reported raw match, spans are ordered and do not
  overlap, and each raw match holds at least one character of its own;
* the same text gives the same answer (determinism), and pasting a message into a longer one
  still finds its identifiers at shifted spans.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scameter.identifiers.extract import extract

PROFILE = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

#: Text rich in what the extractor reacts to: digits, separators, dots, brackets, '#', '@',
#: full-width forms, CJK punctuation, controls and bidi characters.
_ALPHABET = st.sampled_from(
    [
        *"abcxyz019 .-/:@#[]()+_\n\t",
        *("hxxp", "https://", "www.", ".top", ".com", "[.]", "9123 4567", "FPS ", "a/c "),
        *"ｈｔｐｓ：／．９１２＋＠。，「」【】香港",
        *("轉數快", "\u202e", "\u200b", "\x00", "\x1b", "\ufeff", "\ud800", "㎞", "💰", "e\u0301"),
    ]
)
messages = st.lists(_ALPHABET, max_size=60).map("".join)


def _check_items(text: str) -> None:
    found = extract(text)
    end = 0
    for item in found.items:
        start, stop = item.span
        assert end <= start < stop <= len(text)
        assert text[start:stop] == item.raw
        end = stop


@PROFILE
@given(messages)
def test_spans_slice_the_original_and_never_overlap(text: str) -> None:
    _check_items(text)


@PROFILE
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises(text: str) -> None:
    _check_items(text)


@PROFILE
@given(st.binary(max_size=200))
def test_decoded_bytes_never_raise(data: bytes) -> None:
    _check_items(data.decode("utf-8", "surrogateescape"))
    _check_items(data.decode("latin-1"))


@PROFILE
@given(messages)
def test_deterministic(text: str) -> None:
    assert extract(text) == extract(text)


@PROFILE
@given(st.sampled_from(["", "香港。", "Hi! ", "【HK Post】"]), messages)
def test_a_message_inside_a_longer_text_keeps_its_identifiers(prefix: str, text: str) -> None:
    alone = extract(text)
    inside = extract(prefix + " \n" + text)
    shift = len(prefix) + 2
    spans = {(i.identifier, i.span) for i in inside.items}
    for item in alone.items:
        if item.source != "sender":  # a sender id counts only at the message's start
            assert (item.identifier, (item.span[0] + shift, item.span[1] + shift)) in spans
