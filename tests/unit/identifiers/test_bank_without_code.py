"""A bank account typed 3-6-3 without its bank code is refused with a request for the code."""

from __future__ import annotations

import pytest

from scameter.errors import InvalidIdentifier
from scameter.identifiers import detect, normalize
from scameter.identifiers.bank import MISSING_BANK_CODE, missing_bank_code
from scameter.identifiers.detect import not_recognised


@pytest.mark.parametrize("raw", ["012-345678-001", "024 345678 001", " 012.345678.001 "])
def test_three_six_three_asks_for_the_bank_code(raw: str) -> None:
    assert missing_bank_code(raw)
    with pytest.raises(InvalidIdentifier, match="without its bank code"):
        normalize("bank_account", raw)
    assert detect(raw) == []  # not read as bank 012 (nor as a phone number)
    assert not_recognised(raw) == MISSING_BANK_CODE


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("004-012-345678-001", "004-012-345678001"),  # with its bank code: read as before
        ("012345678001", "012-345-678001"),  # no grouping: positional, as before
        ("012-345-678001", "012-345-678001"),
    ],
)
def test_other_groupings_are_unchanged(raw: str, want: str) -> None:
    assert not missing_bank_code(raw)
    assert normalize("bank_account", raw).value == want


def test_not_recognised_is_generic_otherwise() -> None:
    assert not_recognised("hello there") == "not recognised as any kind"
