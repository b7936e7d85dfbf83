"""A report's ``region``: local phone numbers of other countries get their country code."""
# ``[8]``: the identifiers of a report row (``scameter/ingest/rows.py``; the provider follows).

from __future__ import annotations

import pytest

from scameter.identifiers.phone import localize_phone
from scameter.ingest.rows import RowError, row_from_mapping


def test_row_region_applies_to_phones_only() -> None:
    row = {
        "region": "sg",
        "identifiers": [
            {"value": "8123 4567"},
            {"kind": "url", "value": "8123.example"},
            {"kind": "phone", "value": "+852 6391 2745"},
        ],
    }
    idents = row_from_mapping(row)[8]
    assert idents == (
        (None, "+6581234567"),
        ("url", "8123.example"),
        ("phone", "+852 6391 2745"),
    )


def test_item_region_overrides_and_plain_rows_are_untouched() -> None:
    row = {"identifiers": [{"value": "8123 4567", "region": "SG"}, {"value": "6391 2745"}]}
    assert row_from_mapping(row)[8] == ((None, "+6581234567"), (None, "6391 2745"))
    assert row_from_mapping({"value": "12", "region": "GB"})[8] == ((None, "12"),)  # impossible


def test_unknown_region_is_a_row_error() -> None:
    with pytest.raises(RowError, match="unknown region 'Mars'"):
        row_from_mapping({"value": "8123 4567", "region": "Mars"})


@pytest.mark.parametrize(
    ("raw", "region", "want"),
    [
        ("8123 4567", "SG", "+6581234567"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("138 1234 5678", "CN", "+8613812345678"),
        ("+852 9123 4567", "SG", "+852 9123 4567"),
        ("0065 8123 4567", "SG", "0065 8123 4567"),
        ("hsbc.com", "SG", "hsbc.com"),
        ("8123 4567", "HK", "8123 4567"),
        ("12", "SG", "12"),
    ],
)
def test_localize_phone(raw: str, region: str, want: str) -> None:
    assert localize_phone(raw, region) == want


def test_default_region_for_rows_that_do_not_say() -> None:
    from scameter.ingest.rows import feed_row

    row = {"identifiers": [{"value": "8123 4567"}, {"value": "8123 4567", "region": "GB"}]}
    # The row's own items say GB for the second; the caller's default (SG) fills the first.
    assert row_from_mapping(row, region="SG")[8][0] == (None, "+6581234567")
    assert row_from_mapping({"value": "8123 4567", "region": "HK"}, region="SG")[8] == (
        (None, "8123 4567"),  # the row says HK: the default does not apply
    )
    assert feed_row("8123 4567", kind=None, source="feed", category="", region="SG")[8] == (
        (None, "+6581234567"),
    )
    assert feed_row("x.example", kind="url", source="feed", category="", region="SG")[8] == (
        ("url", "x.example"),
    )
