"""The compiled typed-HK-number shortcut and its pure-Python reference give the same answers.

``scameter.identifiers._phonefast`` (``typed_hk_compiled``) must answer every input exactly as
:func:`~scameter.identifiers.phone.typed_hk_python` does (the same identifier, or both
decline), and whatever the shortcut takes must be what the full paths give: the reference
normaliser without any fast path, ``detect``'s rule dispatch, and the column recogniser
``typed_hk_numbers``, whose one-row form the shortcut is. Inputs: random strings of digits,
spaces, ``+``, ``-``, brackets, letters and non-ASCII digits, and random spellings of numbers.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scameter.identifiers import Identifier, Kind
from scameter.identifiers.detect import _detect
from scameter.identifiers.phone import (
    TYPED_HK_PATH,
    normalize_phone_slow,
    typed_hk_compiled,
    typed_hk_keyed,
    typed_hk_keyed_python,
    typed_hk_python,
)
from scameter.identifiers.phonecolumn import typed_hk_numbers
from tests.property.test_phonecolumn_properties import spelled

REQUIRED = bool(os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"))
PROFILE = settings(
    max_examples=500,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

#: Digits, separators, letters and digits of other scripts (Arabic-Indic, full-width, Devanagari,
#: superscript two: ``str.isdigit`` says yes to all of them).
_ALPHABET = "0123456789012345678985285291234567 +-()aZx\u0661\uff19\u0967\u00b2."
_typed = st.tuples(
    st.sampled_from(["", "+852", "+852 ", "852", "(852) ", "852-", "+", "(", "0"]),
    st.text("0123456789", min_size=7, max_size=9),
    st.sampled_from(["", " ", "-", "(", ")", "  "]),
    st.integers(0, 9),
).map(lambda t: t[0] + t[1][: t[3]] + t[2] + t[1][t[3] :])
raws = st.one_of(st.text(_ALPHABET, max_size=22), spelled, _typed, st.text(max_size=22))


@pytest.mark.skipif(
    TYPED_HK_PATH != "compiled" and not REQUIRED,
    reason="scameter.identifiers._phonefast is not built here (no C compiler at install time)",
)
@PROFILE
@given(raw=raws)
def test_compiled_and_python_shortcuts_agree(raw: str) -> None:
    assert typed_hk_compiled is not None
    got = typed_hk_compiled(raw)
    expected = typed_hk_python(raw)
    assert got == expected
    if got is not None:
        assert type(got) is Identifier
        assert got.valid is True
        assert got.kind is Kind.PHONE


@pytest.mark.skipif(
    TYPED_HK_PATH != "compiled" and not REQUIRED,
    reason="scameter.identifiers._phonefast is not built here (no C compiler at install time)",
)
@PROFILE
@given(raw=raws | st.from_regex(r"\+852[1-9][0-9]{7}", fullmatch=True))
def test_compiled_and_python_keyed_agree(raw: str) -> None:
    """The compiled key (its own XXH3-64 of the 13-byte input) is the xxhash package's."""
    assert typed_hk_keyed is not None
    got = typed_hk_keyed(raw)
    assert got == typed_hk_keyed_python(raw)
    if got is not None:
        assert got[1] == got[0].key
        assert type(got[0]) is Identifier


@PROFILE
@given(raw=raws)
def test_what_the_shortcut_takes_the_full_paths_answer_alike(raw: str) -> None:
    ident = typed_hk_python(raw)
    rows, values = typed_hk_numbers([raw])
    if ident is None:
        assert list(rows) == []
        return
    assert ident.value.startswith("+852")
    assert len(ident.value) == 12
    assert normalize_phone_slow(raw) == ident
    assert _detect(raw) == [ident]
    assert list(rows) == [0]
    assert values == [ident.value]
