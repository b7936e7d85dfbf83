"""Message extraction: the table of real-world-shaped messages, spans, flags and the limit."""

from __future__ import annotations

import pytest

from scameter.identifiers import normalize
from scameter.identifiers.extract import DEFAULT_LIMIT, extract, visible
from tests.unit.identifiers.message_vectors import MESSAGES


def test_the_table_is_big_enough() -> None:
    assert len(MESSAGES) >= 60
    assert len({m[0] for m in MESSAGES}) == len(MESSAGES)


@pytest.mark.parametrize(
    ("text", "expected"), [m[1:] for m in MESSAGES], ids=[m[0] for m in MESSAGES]
)
def test_message_yields_exactly(text: str, expected: list[str]) -> None:
    found = extract(text)
    assert [str(item.identifier) for item in found.items] == expected
    assert not found.truncated
    for item in found.items:
        assert text[item.span[0] : item.span[1]] == item.raw
        # Canonical forms are the normalisers' own.
        assert normalize(item.kind, item.value) == item.identifier


SPANS = [
    ("call 6391 2745", [(5, 14)]),
    ("ｈｔｔｐｓ：／／ａ．ｔｏｐ／ｘ ok", [(0, 15)]),  # full-width: one code point each
    ("x hkpost[.]top/a y", [(2, 16)]),  # the defanged spelling is inside the span
    ("請到hkpost.top付款", [(2, 12)]),
    ("a\u200bb 9123\u200b4567 c", [(4, 13)]),  # the zero-width space is inside the span
    ("㎞ 9123 4567", [(2, 11)]),  # an expansion (㎞ -> km) before the match shifts nothing
    ("\u202e\u202e 9123 4567", [(3, 12)]),  # removals before the match
]


@pytest.mark.parametrize(("text", "spans"), SPANS, ids=[repr(s[0]) for s in SPANS])
def test_spans_are_code_points_of_the_original(text: str, spans: list[tuple[int, int]]) -> None:
    assert [item.span for item in extract(text).items] == spans


def test_defanged_and_control_flags() -> None:
    found = extract("hxxps://evil[.]top/a and https://ok.top/b and 9123\u200b4567")
    assert [(i.defanged, i.had_controls) for i in found.items] == [
        (True, False),
        (False, False),
        (False, True),
    ]
    assert found.had_controls
    assert not extract("https://ok.top/b").had_controls


def test_an_rlo_outside_every_match_flags_the_message_only() -> None:
    found = extract("\u202eevil\u202c call 9123 4567")
    assert found.had_controls
    assert [i.had_controls for i in found.items] == [False]


def test_limit_cuts_after_distinct_identifiers_and_says_so() -> None:
    text = " ".join(f"https://scam{i}.top/x" for i in range(5))
    found = extract(text, limit=3)
    assert [i.value for i in found.items] == [f"https://scam{i}.top/x" for i in range(3)]
    assert found.truncated
    assert not extract(text, limit=5).truncated
    assert extract(text, limit=0).items == ()
    assert extract(text, limit=0).truncated


def test_repeats_count_once_towards_the_limit() -> None:
    found = extract("a.top/x a.top/x b.top/y", limit=1)
    assert [i.value for i in found.items] == ["http://a.top/x", "http://a.top/x"]
    assert found.truncated
    assert found.identifiers() == (found.items[0].identifier,)


def test_default_limit_is_one_hundred() -> None:
    assert DEFAULT_LIMIT == 100
    text = " ".join(f"s{i}.top/p" for i in range(150))
    found = extract(text)
    assert len(found.identifiers()) == 100
    assert found.truncated


def test_negative_limit_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="limit"):
        extract("x", limit=-1)


def test_non_text_gives_nothing() -> None:
    assert extract(None).items == ()  # type: ignore[arg-type]
    assert extract(b"https://a.top/x").items == ()  # type: ignore[arg-type]


def test_sender_items_are_marked_as_typed_in_the_text() -> None:
    found = extract("#HSBC Your OTP is 123456")
    assert [(i.value, i.source) for i in found.items] == [("#HSBC", "sender")]


def test_visible_escapes_controls_and_bidi() -> None:
    assert visible("a\u202eb\x1b[31m\nc") == "a\\u202eb\\u001b[31m\\u000ac"
    assert visible("香港 hkpost.top") == "香港 hkpost.top"
