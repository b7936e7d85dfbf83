"""The column recogniser of typed HK numbers agrees with the per-row normaliser and detect.

:func:`scameter.identifiers.phonecolumn.typed_hk_numbers` takes rows without calling
``normalize_phone`` or ``detect``; for every row it takes, both must give exactly one valid
phone with the value it gave, and it must never take a row whose per-row answer differs.
Rows are random spellings of numbers (separators, ``+852``, leading zeros, ``852`` heads,
too many or too few digits, trailing separators, NULs, non-ASCII digits) mixed with junk.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scameter.errors import InvalidIdentifier
from scameter.identifiers import Identifier, Kind, detect
from scameter.identifiers.phone import normalize_phone
from scameter.identifiers.phonecolumn import typed_hk_numbers

PROFILE = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

digits = st.text("0123456789", min_size=6, max_size=13)
spelled = st.tuples(
    st.sampled_from(
        [
            "",
            "+852",
            "+852 ",
            "+852-",
            "+",
            "852",
            "852-",
            "852 ",
            "(852) ",
            "(852)",
            " ",
            "-",
            "+ 852 ",
            "+(852) ",
            "(",
            ")",
            "((852)) ",
            "(+852) ",
            "001 852 ",
            "00852",
        ]
    ),
    digits,
    st.sampled_from(["", " ", "-", "  ", "--", ".", "\x00", "\u0661", "(", ")", ") ", "/"]),
    st.integers(0, 12),
).map(lambda t: t[0] + t[1][: t[3]] + t[2] + t[1][t[3] :])
rows = st.one_of(spelled, st.text(max_size=22), st.text("0123456789 -+()", max_size=22))


def _normalized(raw: str) -> Identifier | None:
    try:
        return normalize_phone(raw)
    except InvalidIdentifier:
        return None


def _check(raws: list[str]) -> int:
    taken, values = typed_hk_numbers(raws)
    assert taken.tolist() == sorted(set(taken.tolist()))
    assert len(values) == len(taken)
    for i, value in zip(taken.tolist(), values, strict=True):
        want = Identifier(Kind.PHONE, value, True)
        assert _normalized(raws[i]) == want, raws[i]
        assert detect(raws[i]) == [want], raws[i]
    return len(taken)


@PROFILE
@given(st.lists(rows, max_size=80))
def test_taken_rows_equal_the_per_row_answer(raws: list[str]) -> None:
    _check(raws)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("91234567", "+85291234567"),
        ("9123 4567", "+85291234567"),
        ("9123-4567", "+85291234567"),
        ("+852 9123 4567", "+85291234567"),
        ("+852-9123-4567", "+85291234567"),
        ("+85291234567", "+85291234567"),
        ("2123 4567", "+85221234567"),
        ("85291234567", "+85291234567"),
        ("852-91234567", "+85291234567"),
        ("(852) 9123 4567", "+85291234567"),
    ],
    ids=[
        "plain",
        "space",
        "dash",
        "e164-spaced",
        "e164-dashed",
        "e164",
        "fixed",
        "cc",
        "cc-dash",
        "cc-parens",
    ],
)
def test_common_spellings_are_taken(raw: str, value: str) -> None:
    taken, values = typed_hk_numbers(["junk", raw])
    assert taken.tolist() == [1]
    assert values == [value]


@pytest.mark.parametrize(
    "raw",
    [
        "01234567",  # leading zero: the parser's rules
        "85212345",  # starts with the country code: the parser may strip it
        "852 0123 4567",
        "+852 0123 4567",
        "9123 4567 ",  # ends with a separator: not detect's fast shape
        " 91234567",
        "91234567\x00",  # a NUL numpy would drop
        "+8529123456",  # 7 national digits
        "+852912345678",
        "9123.4567",
        "001 852 9123 4567",
        "\u0669\u0661\u0662\u0663\u0664\u0665\u0666\u0667",  # Arabic-Indic digits
        "9" * 8 + " " * 13,  # longer than detect's fast bound
    ],
)
def test_other_spellings_are_left_to_the_per_row_path(raw: str) -> None:
    assert typed_hk_numbers([raw, "91234567"])[0].tolist() == [1]


def test_unallocated_numbers_are_left_out() -> None:
    # 4000 xxxx is not allocated (validity False): the per-row path flags it.
    ident = normalize_phone("40001234")
    assert not ident.valid
    assert typed_hk_numbers(["40001234"])[0].tolist() == []


def test_many_rows_match_the_per_row_path() -> None:
    rng = np.random.default_rng(7)
    raws = [f"{d // 10_000:04d} {d % 10_000:04d}" for d in rng.integers(0, 10**8, 2_000)]
    raws += [f"+852{d}" for d in rng.integers(10**7, 10**8, 2_000)]
    assert _check(raws) > 1_000


def test_non_text_rows_take_nothing() -> None:
    raws: list[object] = ["91234567", 91234567, None]
    assert typed_hk_numbers(raws)[0].tolist() == []  # type: ignore[arg-type]
